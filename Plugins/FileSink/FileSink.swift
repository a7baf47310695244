#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Gzip
import LineProtocol
import PluginABI
import PluginKit
import SampleLineProtocol
import RDT4NNPluginSDK

/// The `file` sink: every sample into the run's results directory, as
/// InfluxDB line protocol (`metrics.lp`, optionally gzip'd) or as one CSV
/// file per measurement.  The embedded default: a run needs no database.
///
/// Durability: each batch is appended with one `write(2)` of whole lines
/// (or one whole gzip member), so a crash never leaves half a line; `flush`
/// and `stop` fsync.
final class FileSink: Sink {
    static let metadata = PluginMetadata(
        id: "file",
        name: "Results-directory file sink",
        version: "1.0.0",
        summary: "Writes samples into the results directory as line protocol (metrics.lp) or one CSV file per measurement.",
        features: ["linux"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "directory": {"type": "string", "description": "Where to write (default: the run's results directory, filled in by the runner)."},
              "format": {"type": "string", "enum": ["lp", "csv"], "default": "lp",
                         "description": "lp: InfluxDB line protocol in one file; csv: one <measurement>.csv per measurement with a header."},
              "file_name": {"type": "string", "default": "metrics.lp", "description": "Line-protocol file name inside the directory."},
              "gzip": {"type": "boolean", "default": false, "description": "Compress the line-protocol file (metrics.lp.gz)."}
            }}
            """
    )

    private let directory: String
    private let format: String
    private let gzip: Bool
    private let fileName: String
    private var lineHandle: Int32 = -1
    private var sampleEncoder = CSampleEncoder()
    private var buffer: [UInt8] = []
    private var csvFiles: [String: CSVFile] = [:]

    init(context: PluginContext) throws(PluginError) {
        guard let directory = try context.string("directory"), !directory.isEmpty else {
            throw .config("'directory' is required: where the samples go")
        }
        self.directory = directory
        format = try context.string("format") ?? "lp"
        gzip = try context.bool("gzip") ?? false
        let name = try context.string("file_name") ?? "metrics.lp"
        guard !name.contains("/") else { throw .config("'file_name' must be a plain file name, not '\(name)'") }
        fileName = gzip && !name.hasSuffix(".gz") ? name + ".gz" : name
        if format == "csv" && gzip { throw .config("'gzip' applies to the line-protocol format only") }
    }

    /// The line-protocol file's path.
    var linePath: String { directory + "/" + fileName }

    func start(context: PluginContext) throws(PluginError) {
        var info = stat()
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .config("'directory' \(directory) does not exist or is not a directory")
        }
        guard format == "lp" else { return }
        if lineHandle < 0 {
            lineHandle = open(linePath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard lineHandle >= 0 else {
                let reason = String(cString: strerror(errno))
                throw errno == EACCES ? .permission("cannot open \(linePath): \(reason)") : .fatal("cannot open \(linePath): \(reason)")
            }
        }
    }

    func write(context: PluginContext, batch: SinkBatch) -> SinkWriteResult {
        format == "csv" ? writeCSV(batch.samples()) : writeLines(batch)
    }

    /// Line protocol straight from the C batch (no Swift strings per sample).
    private func writeLines(_ batch: SinkBatch) -> SinkWriteResult {
        buffer.removeAll(keepingCapacity: true)
        var rejected: [Int] = []
        var firstReason: String?
        for index in 0..<batch.count {
            do {
                try sampleEncoder.append(batch.raw.pointee.samples[index], to: &buffer)
            } catch {
                rejected.append(index)
                if firstReason == nil { firstReason = error.description }
            }
        }
        var bytes = buffer
        if gzip && !bytes.isEmpty {
            do {
                bytes = try Gzip.compress(bytes)
            } catch {
                return SinkWriteResult(status: .fatal, processedCount: 0, message: error.description)
            }
        }
        if let failure = Self.writeAll(lineHandle, bytes) {
            // ENOSPC and friends: keep the samples (the host retries, then spools).
            return SinkWriteResult(status: .retry, processedCount: 0, retryAfterNs: 1_000_000_000, message: "cannot write \(linePath): \(failure)")
        }
        return SinkWriteResult(status: .ok, processedCount: batch.count, rejected: rejected, message: firstReason)
    }

    private func writeCSV(_ samples: [PluginSample]) -> SinkWriteResult {
        var byMeasurement: [String: [PluginSample]] = [:]
        var order: [String] = []
        for sample in samples {
            if byMeasurement[sample.measurement] == nil { order.append(sample.measurement) }
            byMeasurement[sample.measurement, default: []].append(sample)
        }
        for measurement in order {
            let file = csvFiles[measurement] ?? CSVFile(directory: directory, measurement: measurement)
            csvFiles[measurement] = file
            if let failure = file.append(byMeasurement[measurement] ?? []) {
                return SinkWriteResult(status: .retry, processedCount: 0, retryAfterNs: 1_000_000_000, message: failure)
            }
        }
        return SinkWriteResult(status: .ok, processedCount: samples.count)
    }

    func flush(context: PluginContext) throws(PluginError) {
        if lineHandle >= 0, fsync(lineHandle) != 0 {
            throw .retry("fsync \(linePath): \(String(cString: strerror(errno)))")
        }
        for file in csvFiles.values { file.sync() }
    }

    func stop(context: PluginContext) {
        if lineHandle >= 0 {
            fsync(lineHandle)
            close(lineHandle)
            lineHandle = -1
        }
        for file in csvFiles.values { file.close() }
        csvFiles.removeAll()
    }

    /// Writes everything or returns the error text.
    static func writeAll(_ handle: Int32, _ bytes: [UInt8]) -> String? {
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(handle, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return String(cString: strerror(errno)) }
            written += n
        }
        return nil
    }
}

/// One measurement's CSV file: `timestamp_ns`, the tag columns, the field
/// columns.  Absent values are empty cells.  A sample with a key the header
/// lacks starts the next part (`perf.1.csv`) with the wider header, so
/// columns never shift inside a file.
final class CSVFile {
    let directory: String
    let measurement: String
    private var part = 0
    private var handle: Int32 = -1
    private var tagColumns: [String] = []
    private var fieldColumns: [String] = []

    init(directory: String, measurement: String) {
        self.directory = directory
        self.measurement = measurement
    }

    var path: String {
        let safe = String(measurement.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
        return directory + "/" + safe + (part == 0 ? "" : ".\(part)") + ".csv"
    }

    /// Appends rows; returns an error text on failure.
    func append(_ samples: [PluginSample]) -> String? {
        var text = ""
        for sample in samples {
            let tags = sample.tags.map(\.key)
            let fields = sample.fields.map(\.key)
            let fits = Set(tags).isSubset(of: tagColumns) && Set(fields).isSubset(of: fieldColumns)
            if handle < 0 || !fits {
                if !text.isEmpty, let error = flush(&text) { return error }
                if handle >= 0 {
                    close()
                    part += 1
                }
                tagColumns = Self.union(tagColumns, tags)
                fieldColumns = Self.union(fieldColumns, fields)
                handle = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard handle >= 0 else { return "cannot open \(path): \(String(cString: strerror(errno)))" }
                text += (["timestamp_ns"] + tagColumns + fieldColumns).map(Self.quote).joined(separator: ",") + "\n"
            }
            var row = [String(sample.timestampNanoseconds)]
            for column in tagColumns { row.append(Self.quote(sample.tags.first { $0.key == column }?.value ?? "")) }
            for column in fieldColumns {
                guard let value = sample.fields.first(where: { $0.key == column })?.value else {
                    row.append("")
                    continue
                }
                switch value {
                case .float(let d): row.append(d.isFinite ? "\(d)" : "")
                case .integer(let i): row.append(String(i))
                case .unsigned(let u): row.append(String(u))
                case .boolean(let b): row.append(b ? "true" : "false")
                case .string(let s): row.append(Self.quote(s))
                }
            }
            text += row.joined(separator: ",") + "\n"
        }
        return flush(&text)
    }

    private func flush(_ text: inout String) -> String? {
        defer { text = "" }
        if let failure = FileSink.writeAll(handle, Array(text.utf8)) { return "cannot write \(path): \(failure)" }
        return nil
    }

    func sync() { if handle >= 0 { fsync(handle) } }

    func close() {
        if handle >= 0 {
            fsync(handle)
            Glibc.close(handle)
            handle = -1
        }
    }

    static func union(_ existing: [String], _ new: [String]) -> [String] {
        existing + new.filter { !existing.contains($0) }
    }

    /// RFC 4180 quoting when needed.
    static func quote(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// The library's exports: one sink.
enum FileSinkLibrary {
    static let plugins: [ExportedPlugin] = [.sink(FileSink.self) { FileSink.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(FileSinkLibrary.plugins.count) },
        descriptor: { FileSinkLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    FileSinkLibrary.entry.pointer
}
