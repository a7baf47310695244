import FoundationEssentials
import Glibc
import InfluxWrite
import LineProtocol
import Pipeline
import PluginABI

/// A file of a results directory that `rdt4nn upload` sends.
public struct UploadSource: Sendable, Equatable {
    /// How the file stores samples.
    public enum Format: String, Sendable, Equatable {
        /// `metrics.lp`: line protocol, one point per line.
        case lineProtocol = "line protocol"
        /// `metrics.lp.gz`: line protocol in one or more gzip members.
        case gzipLineProtocol = "gzip line protocol"
        /// `spool-<sink>.jsonl`: samples the pipeline could not deliver (``SpoolFile``).
        case spool = "spool"
    }

    /// The file.
    public var path: String
    /// Its format.
    public var format: Format
    /// Its size on disk.
    public var bytes: Int
}

/// Where an upload stands, reported after every batch.
public struct UploadProgress: Sendable, Equatable {
    /// Bytes of all source files consumed so far (compressed bytes for `.gz`).
    public var bytesRead: Int
    /// Bytes of all source files.
    public var totalBytes: Int
    /// Points sent and confirmed so far (written or rejected).
    public var points: Int
    /// Of those, rejected.
    public var rejected: Int
    /// The file being read.
    public var file: String
}

/// The result of an upload.
public struct UploadSummary: Sendable, Equatable {
    /// Files read.
    public var files: [UploadSource] = []
    /// Points InfluxDB stored (confirmed with 2xx).
    public var written = 0
    /// Points refused for good (by InfluxDB, or unreadable spool lines).
    public var rejected = 0
    /// The first few reasons for rejections.
    public var rejectReasons: [String] = []
    /// HTTP write requests made.
    public var requests = 0
    /// Retries after transient failures.
    public var retries = 0
}

/// An upload that cannot go on; says how far it got.
public struct UploadError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// What was done before.
    public var summary: UploadSummary
    public var description: String { message }
}

/// Replays a results directory (`metrics.lp` or `metrics.lp.gz`, and any
/// `spool-*.jsonl`) into InfluxDB in batches, retrying transient failures.
///
/// Idempotent: every line carries its own timestamp, so a second upload
/// writes the same points (same series and time) and InfluxDB overwrites
/// them with themselves; counts do not change.
public final class ResultsUploader {
    /// Where to write.
    public let settings: InfluxSettings
    /// Lines per request (default 5000).
    public let batchSize: Int
    /// How long one batch may keep failing transiently before the upload gives up.
    public let maximumRetryNanoseconds: Int64

    private let writer: InfluxWriter
    private var summary = UploadSummary()
    private var progress = UploadProgress(bytesRead: 0, totalBytes: 0, points: 0, rejected: 0, file: "")
    private var report: (UploadProgress) -> Void = { _ in }
    private var batch = LineBatch()
    private var encoder = LineProtocolEncoder()

    /// Checks the settings.
    /// - Throws: ``UploadError`` for invalid settings.
    public init(settings: InfluxSettings, batchSize: Int = 5_000, maximumRetryNanoseconds: Int64 = 120_000_000_000) throws(UploadError) {
        self.settings = settings
        self.batchSize = max(1, batchSize)
        self.maximumRetryNanoseconds = maximumRetryNanoseconds
        do {
            writer = try InfluxWriter(settings: settings)
        } catch {
            throw UploadError(message: error.message, summary: UploadSummary())
        }
    }

    /// The system's reason for a failed file operation ("No such file or directory").
    static func reason(_ error: any Error) -> String {
        if let posix = (error as? CocoaError)?.underlying as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return "\(error)"
    }

    /// The files of `directory` an upload sends, in order: `metrics.lp`,
    /// `metrics.lp.gz`, then `spool-*.jsonl` sorted by name.
    /// - Throws: ``UploadError`` when the directory cannot be read or holds nothing to send.
    public static func sources(in directory: String) throws(UploadError) -> [UploadSource] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw UploadError(message: "cannot read the results directory \(directory): \(Self.reason(error))", summary: UploadSummary())
        }
        var sources: [UploadSource] = []
        func add(_ name: String, _ format: UploadSource.Format) {
            let path = directory + "/" + name
            // (FoundationEssentials gives `.size` as UInt64, not a bridged number: ask stat directly.)
            var info = stat()
            let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
            sources.append(UploadSource(path: path, format: format, bytes: size))
        }
        if names.contains("metrics.lp") { add("metrics.lp", .lineProtocol) }
        if names.contains("metrics.lp.gz") { add("metrics.lp.gz", .gzipLineProtocol) }
        for name in names where name.hasPrefix("spool-") && name.hasSuffix(".jsonl") { add(name, .spool) }
        guard !sources.isEmpty else {
            let csv = names.contains { $0.hasSuffix(".csv") }
            throw UploadError(
                message: "\(directory) holds no metrics.lp, metrics.lp.gz or spool-*.jsonl to upload"
                    + (csv ? " (CSV results from 'format: csv' cannot be uploaded; rerun with the line-protocol format)" : ""),
                summary: UploadSummary())
        }
        return sources
    }

    /// Checks the server (and creates the v1 database when allowed), then sends every source file.
    /// - Parameter progress: called after every batch.
    /// - Throws: ``UploadError`` with the counts so far.
    public func upload(directory: String, progress: @escaping (UploadProgress) -> Void = { _ in }) throws(UploadError) -> UploadSummary {
        let sources = try Self.sources(in: directory)
        summary = UploadSummary(files: sources)
        self.progress = UploadProgress(bytesRead: 0, totalBytes: sources.reduce(0) { $0 + $1.bytes }, points: 0, rejected: 0, file: "")
        report = progress
        do {
            try writer.prepare()
        } catch {
            throw UploadError(message: error.message, summary: summary)
        }
        var consumedBefore = 0
        for source in sources {
            self.progress.file = source.path
            try send(source) { consumed in self.progress.bytesRead = consumedBefore + consumed }
            consumedBefore += source.bytes
            self.progress.bytesRead = consumedBefore
        }
        try flush()
        report(self.progress)
        return summary
    }

    // MARK: - Reading

    private func send(_ source: UploadSource, consumed: (Int) -> Void) throws(UploadError) {
        var reader: ChunkReader
        do {
            reader = try ChunkReader(path: source.path, gzip: source.format == .gzipLineProtocol)
        } catch {
            throw UploadError(message: error.description, summary: summary)
        }
        defer { reader.close() }
        var pending: [UInt8] = []
        var lineNumber = 0
        while true {
            let chunk: [UInt8]?
            do {
                chunk = try reader.next()
            } catch {
                throw UploadError(message: error.description, summary: summary)
            }
            guard let chunk else { break }
            pending += chunk
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                lineNumber += 1
                // Position in the file: exact for plain files, per chunk for gzip.
                consumed(reader.consumedBytes - (source.format == .gzipLineProtocol ? 0 : pending.count - newline - 1))
                try take(pending[start..<newline], format: source.format, path: source.path, lineNumber: lineNumber)
                start = newline + 1
            }
            pending.removeSubrange(0..<start)
            consumed(reader.consumedBytes)
        }
        if !pending.isEmpty {
            lineNumber += 1
            try take(pending[...], format: source.format, path: source.path, lineNumber: lineNumber)
        }
    }

    private func take(_ line: ArraySlice<UInt8>, format: UploadSource.Format, path: String, lineNumber: Int) throws(UploadError) {
        var line = line
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard let first = line.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }), first != UInt8(ascii: "#") else {
            return  // empty line or comment
        }
        switch format {
        case .lineProtocol, .gzipLineProtocol:
            batch.append(line: line)
        case .spool:
            do {
                let sample = try SpoolFile.decode(String(decoding: line, as: UTF8.self))
                let point = Point(
                    measurement: sample.measurement,
                    tags: sample.tags.map { Tag($0.key, $0.value) },
                    fields: sample.fields.map { field in
                        switch field.value {
                        case .float(let d): Field(field.key, .float(d))
                        case .integer(let i): Field(field.key, .integer(i))
                        case .unsigned(let u): Field(field.key, .unsigned(u))
                        case .boolean(let b): Field(field.key, .boolean(b))
                        case .string(let s): Field(field.key, .string(s))
                        }
                    },
                    timestampNanoseconds: sample.timestampNanoseconds)
                if try !batch.appendEncoded({ (buffer: inout [UInt8]) throws(LineProtocolError) in try encoder.append(point, to: &buffer) }) {
                    reject("\(path) line \(lineNumber): nothing to write")
                }
            } catch let error as SpoolError {
                reject("\(path) line \(lineNumber): \(error.reason)")
            } catch {
                reject("\(path) line \(lineNumber): \(error)")
            }
        }
        if batch.count >= batchSize { try flush() }
    }

    /// Counts a refused point (`countedAlready`: it is among the processed lines of a write).
    private func reject(_ reason: String, countedAlready: Bool = false) {
        summary.rejected += 1
        progress.rejected += 1
        if !countedAlready { progress.points += 1 }
        if summary.rejectReasons.count < 5 { summary.rejectReasons.append(reason) }
    }

    // MARK: - Writing

    /// Sends the batch, retrying transient failures with capped exponential backoff.
    private func flush() throws(UploadError) {
        guard !batch.isEmpty else { return }
        var remaining = batch
        let started = Self.monotonicNanoseconds()
        var failures = 0
        while !remaining.isEmpty {
            let result = writer.write(remaining)
            summary.requests += result.requests
            let rejectedCount = result.rejected.count
            summary.written += result.processedCount - rejectedCount
            progress.points += result.processedCount
            for line in result.rejected { reject(line.reason, countedAlready: true) }
            guard let stop = result.stop else { break }
            if result.processedCount > 0 { failures = 0 }
            var rest = LineBatch()
            for index in result.processedCount..<remaining.count { rest.append(line: remaining.line(index)) }
            remaining = rest
            guard stop.kind == .retry else {
                throw UploadError(message: stop.message, summary: summary)
            }
            failures += 1
            summary.retries += 1
            let backoff = min(30_000_000_000, Int64(250_000_000) << Int64(min(failures - 1, 10)))
            let wait = max(stop.retryAfterNanoseconds, backoff)
            if Self.monotonicNanoseconds() + wait - started > maximumRetryNanoseconds {
                throw UploadError(
                    message: "giving up after \(maximumRetryNanoseconds / 1_000_000_000) s of failures: \(stop.message) (uploading again is safe: points already written are only overwritten)",
                    summary: summary)
            }
            report(progress)
            var pause = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
            var left = timespec()
            while nanosleep(&pause, &left) != 0 && errno == EINTR { pause = left }
        }
        batch.removeAll()
        report(progress)
    }

    private static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
