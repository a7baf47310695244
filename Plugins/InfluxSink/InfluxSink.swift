import InfluxWrite
import LineProtocol
import PluginABI
import PluginKit
import SampleLineProtocol
import RDT4NNPluginSDK

/// The `influx` sink: every sample into InfluxDB, 1.x (`/write`) or 2.x
/// (`/api/v2/write`), gzip'd, one request in flight on a kept-alive HTTP
/// connection.  Buffering, batching, retries and the spool are the host's
/// (plugin-abi.md §13); this sink encodes, sends and reports per sample what
/// InfluxDB did (see ``InfluxWriter`` for each HTTP status).
final class InfluxSink: Sink {
    static let metadata = PluginMetadata(
        id: "influx",
        name: "InfluxDB sink",
        version: "1.0.0",
        summary: "Writes samples to InfluxDB 1.x (/write) or 2.x (/api/v2/write) as line protocol, reporting rejected points.",
        features: ["linux", "network"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "version": {"type": "integer", "enum": [1, 2], "default": 1,
                          "description": "Write API: 1 = POST /write?db=&rp= (InfluxDB 1.x, or 2.x through a DBRP mapping); 2 = POST /api/v2/write?org=&bucket= with 'Authorization: Token' (InfluxDB 2.x, or 1.8+). The db block's 'version' key."},
              "url": {"type": "string",
                      "description": "Base URL of the server, e.g. http://127.0.0.1:8086 (no query, no credentials). The db block's 'host' key."},
              "database": {"type": "string",
                           "description": "Version 1: the database. The db block's 'name' key when version is 1."},
              "bucket": {"type": "string",
                         "description": "Version 2: the bucket (against InfluxDB 1.8: database/retention_policy). The db block's 'name' key when version is 2."},
              "org": {"type": "string",
                      "description": "Version 2: the organisation name or id (required by InfluxDB 2.x, ignored by 1.8). The db block's 'org' key."},
              "username": {"type": "string",
                           "description": "User name; with 'password': HTTP Basic authentication (version 1) or 'Token user:password' (version 2 against 1.8). The db block's 'user' key."},
              "password": {"type": "string",
                           "description": "Password of 'username' (version 1). Never logged. The db block's 'password' key when version is 1."},
              "token": {"type": "string",
                        "description": "API token sent as 'Authorization: Token <token>' (version 2; version 1 against InfluxDB 2.x). Never logged. The db block's 'password' (or 'token') key when version is 2."},
              "retention_policy": {"type": "string",
                                   "description": "Version 1: retention policy to write into (default: the database's default)."},
              "gzip": {"type": "boolean", "description": "Compress request bodies (Content-Encoding: gzip). Default: on, except for a server on this machine (localhost, 127.0.0.0/8, ::1), where compression would only cost CPU time on both ends of the measured host."},
              "timeout_ms": {"type": "integer", "default": 5000, "minimum": 1, "maximum": 600000,
                             "description": "Connect and total timeout of each HTTP request, in milliseconds."},
              "create_database": {"type": "boolean", "default": true,
                                  "description": "Version 1: CREATE DATABASE at start when it does not exist; when false a missing database is a configuration error."}
            }, "required": ["url"]}
            """
    )

    private let settings: InfluxSettings
    private var writer: InfluxWriter?
    private var sampleEncoder = CSampleEncoder()
    private var lines = LineBatch()
    /// Sample index of each line of `lines`.
    private var sampleOfLine: [Int] = []
    /// Scratch for the sample being encoded (reused: no allocation per sample).

    init(context: PluginContext) throws(PluginError) {
        let versionNumber = try context.integer("version") ?? 1
        guard let version = InfluxSettings.APIVersion(rawValue: Int(versionNumber)) else {
            throw .config("'version' must be 1 or 2, not \(versionNumber)")
        }
        let url = try context.string("url") ?? ""
        settings = InfluxSettings(
            version: version,
            url: url,
            database: try context.string("database"),
            bucket: try context.string("bucket"),
            org: try context.string("org"),
            username: try context.string("username"),
            password: try context.string("password"),
            token: try context.string("token"),
            retentionPolicy: try context.string("retention_policy"),
            gzip: try context.bool("gzip") ?? InfluxSettings.defaultGzip(url: url),
            timeoutMilliseconds: Int(clamping: try context.integer("timeout_ms") ?? 5_000),
            createDatabase: try context.bool("create_database") ?? true
        )
        do {
            try settings.validate()
        } catch {
            throw .config(error.message)
        }
    }

    func start(context: PluginContext) throws(PluginError) {
        do {
            let writer: InfluxWriter
            if let existing = self.writer {
                writer = existing
            } else {
                writer = try InfluxWriter(settings: settings)
                self.writer = writer
            }
            try writer.prepare()
            context.log(.info, "writing to InfluxDB \(settings.targetDescription) (API \(settings.version), gzip \(settings.gzip ? "on" : "off"))")
        } catch {
            throw PluginError(error.kind.pluginStatus, error.message)
        }
    }

    func write(context: PluginContext, batch: SinkBatch) -> SinkWriteResult {
        guard let writer else {
            return SinkWriteResult(status: .fatal, processedCount: 0, message: "write called before a successful start")
        }
        let count = batch.count
        lines.removeAll()
        sampleOfLine.removeAll(keepingCapacity: true)
        var rejected: [Int] = []
        var localReason: String?
        for index in 0..<count {
            do {
                let added = try appendLine(batch.raw.pointee.samples[index])
                if added { sampleOfLine.append(index) } else { rejected.append(index) }
            } catch {
                rejected.append(index)
                if localReason == nil { localReason = "not encodable as line protocol: \(error.description)" }
            }
        }
        let report = writer.write(lines)
        // Samples [0, processed) are settled: every line up to the first unsettled one.
        let processed = report.processedCount < sampleOfLine.count ? sampleOfLine[report.processedCount] : count
        rejected = rejected.filter { $0 < processed }
        rejected += report.rejected.map { sampleOfLine[$0.index] }
        rejected.sort()
        var messages: [String] = []
        if let localReason { messages.append(localReason) }
        if let summary = report.rejectionSummary {
            messages.append(summary)
            if let first = report.rejected.first {
                context.logRateLimited(key: "influx-rejected", .warn, "\(summary); first rejected line: \(lines.text(first.index).prefix(300))")
            }
        }
        var status: PluginStatus = .ok
        var retryAfter: Int64 = 0
        if let stop = report.stop {
            status = stop.kind.pluginStatus
            retryAfter = stop.retryAfterNanoseconds
            messages.insert(stop.message, at: 0)
        }
        return SinkWriteResult(
            status: status, processedCount: processed, rejected: rejected, httpStatus: Int32(clamping: report.httpStatus),
            retryAfterNs: retryAfter, message: messages.isEmpty ? nil : messages.joined(separator: "; "))
    }

    func stop(context: PluginContext) {
        writer = nil
    }

    /// Encodes one C sample into `lines`, straight from its C strings.
    /// - Returns: whether a line was added.
    private func appendLine(_ sample: rdt4nn_sample) throws(LineProtocolError) -> Bool {
        try lines.appendEncoded { (buffer: inout [UInt8]) throws(LineProtocolError) in
            try sampleEncoder.append(sample, to: &buffer)
        }
    }
}

extension InfluxWriteError.Kind {
    /// The ABI status for this kind.
    var pluginStatus: PluginStatus {
        switch self {
        case .retry: .retry
        case .config: .config
        case .permission: .permission
        case .fatal: .fatal
        }
    }
}

/// The library's exports: one sink.
enum InfluxSinkLibrary {
    static let plugins: [ExportedPlugin] = [.sink(InfluxSink.self) { InfluxSink.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(InfluxSinkLibrary.plugins.count) },
        descriptor: { InfluxSinkLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    InfluxSinkLibrary.entry.pointer
}
