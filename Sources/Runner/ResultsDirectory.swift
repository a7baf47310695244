import PluginABI
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A failure to write the run's results.
public struct ResultsError: Error, Sendable, CustomStringConvertible {
    /// What was being written.
    public var path: String
    /// The system's reason.
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// `results/<benchmark_id>/`: the config as run, `metadata.json`,
/// `events.jsonl` and `logs/<container>.log`.
public final class ResultsDirectory: Sendable {
    /// The directory.
    public let path: String
    /// The lifecycle event log.
    public let events: EventLog

    /// Creates `root/<id>/` and `logs/` (mode 0755), refusing an existing one.
    public init(root: String, benchmarkID: BenchmarkID) throws(ResultsError) {
        let path = (root.hasSuffix("/") ? String(root.dropLast()) : root) + "/" + benchmarkID.value
        try Self.createDirectories(root)
        guard mkdir(path, 0o755) == 0 else { throw ResultsError(path: path, reason: String(cString: strerror(errno))) }
        guard mkdir(path + "/logs", 0o755) == 0 else { throw ResultsError(path: path + "/logs", reason: String(cString: strerror(errno))) }
        self.path = path
        events = try EventLog(path: path + "/events.jsonl")
    }

    /// `mkdir -p path` (mode 0777 less the umask, like FileManager's `createDirectory`).
    private static func createDirectories(_ path: String) throws(ResultsError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            var info = stat()
            if stat(prefix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { continue }
            guard mkdir(prefix, 0o777) == 0 || errno == EEXIST else {
                throw ResultsError(path: prefix, reason: String(cString: strerror(errno)))
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw ResultsError(path: path, reason: "not a directory")
        }
    }

    /// Writes `name` atomically (temporary file, fsync, rename).
    public func write(_ name: String, text: String) throws(ResultsError) {
        let target = path + "/" + name
        let temporary = target + ".tmp"
        let handle = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard handle >= 0 else { throw ResultsError(path: temporary, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(handle, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(handle)
                throw ResultsError(path: temporary, reason: reason)
            }
            written += n
        }
        fsync(handle)
        close(handle)
        guard rename(temporary, target) == 0 else { throw ResultsError(path: target, reason: String(cString: strerror(errno))) }
    }

    /// Writes `metadata.json`.
    public func writeMetadata(_ metadata: JSONValue) throws(ResultsError) {
        try write("metadata.json", text: metadata.prettyText + "\n")
    }

    /// Where a container's log goes.
    public func logPath(container: String) -> String {
        path + "/logs/" + container.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }.map(String.init).joined() + ".log"
    }
}

/// One lifecycle event with its planned and actual times.
public struct RunEvent: Sendable, Equatable {
    /// What happened: container_created, container_started, container_stopped,
    /// container_exited, container_removed, run_started, run_finished, signal, error...
    public var event: String
    /// The container, if the event concerns one.
    public var container: String?
    /// Planned offset from the run's start (ns), when the event was planned.
    public var plannedOffsetNs: Int64?
    /// Actual offset from the run's start (ns).
    public var actualOffsetNs: Int64
    /// Monotonic and wall clock at the event.
    public var monotonicNs: Int64
    public var wallNs: Int64
    /// Anything else worth keeping (exit code, cpuset, error text...).
    public var detail: [(key: String, value: JSONValue)]

    /// Creates an event.
    public init(event: String, container: String? = nil, plannedOffsetNs: Int64? = nil, actualOffsetNs: Int64, monotonicNs: Int64, wallNs: Int64, detail: [(key: String, value: JSONValue)] = []) {
        self.event = event
        self.container = container
        self.plannedOffsetNs = plannedOffsetNs
        self.actualOffsetNs = actualOffsetNs
        self.monotonicNs = monotonicNs
        self.wallNs = wallNs
        self.detail = detail
    }

    public static func == (lhs: RunEvent, rhs: RunEvent) -> Bool { lhs.json == rhs.json }

    /// The JSON object written as one line.
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("event", .string(event))]
        if let container { members.append(("container", .string(container))) }
        if let plannedOffsetNs { members.append(("planned_offset_ns", .integer(plannedOffsetNs))) }
        members.append(("actual_offset_ns", .integer(actualOffsetNs)))
        if let plannedOffsetNs { members.append(("skew_ns", .integer(actualOffsetNs - plannedOffsetNs))) }
        members.append(("monotonic_ns", .integer(monotonicNs)))
        members.append(("wall_ns", .integer(wallNs)))
        members += detail
        return .object(members)
    }
}

/// `events.jsonl`: one JSON object per line, each written with a single
/// `write(2)` so a crash never leaves half a line; fsync'd on close.
public final class EventLog: Sendable {
    private let handle: Int32
    /// Every event logged so far (for metadata and tests).
    private let recorded = Mutex<[RunEvent]>([])

    init(path: String) throws(ResultsError) {
        let handle = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard handle >= 0 else { throw ResultsError(path: path, reason: String(cString: strerror(errno))) }
        self.handle = handle
    }

    /// Appends an event.
    public func append(_ event: RunEvent) {
        let line = Array((event.json.jsonText + "\n").utf8)
        recorded.withLock { events in
            events.append(event)
            _ = line.withUnsafeBytes { Glibc.write(handle, $0.baseAddress, $0.count) }
        }
    }

    /// Events so far.
    public var all: [RunEvent] { recorded.withLock { $0 } }

    /// Flushes to disk.
    public func sync() { fsync(handle) }

    deinit {
        fsync(handle)
        close(handle)
    }
}
