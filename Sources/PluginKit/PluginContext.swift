import PluginABI
import RDT4NNPluginSDK

/// An error a Swift plugin throws; PluginKit turns it into a status plus a
/// `set_error` message for the host.
public struct PluginError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status returned to the host.
    public var status: PluginStatus
    /// The message passed to `set_error`.
    public var message: String

    /// Creates an error.
    public init(_ status: PluginStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The platform lacks a feature: the host disables the instance.
    public static func unsupported(_ message: String) -> PluginError { PluginError(.unsupported, message) }
    /// Bad configuration.
    public static func config(_ message: String) -> PluginError { PluginError(.config, message) }
    /// Transient failure: the host backs off and retries.
    public static func retry(_ message: String) -> PluginError { PluginError(.retry, message) }
    /// Missing privilege.
    public static func permission(_ message: String) -> PluginError { PluginError(.permission, message) }
    /// Broken state.
    public static func fatal(_ message: String) -> PluginError { PluginError(.fatal, message) }

    public var description: String { "\(status.name): \(message)" }
}

/// What a collector instance observes.
public struct ObservedTarget: Sendable, Equatable {
    /// True for the whole host, false for one container.
    public var isHost: Bool
    /// The container's configured index (-1 for the host).
    public var index: Int32
    /// Main process id once running, else 0.
    public var pid: Int32
    /// Container name, id, image and cpuset ("" when unknown).
    public var name: String
    public var id: String
    public var image: String
    public var cpuset: String
    /// CPUs wanted when `cpuset` is empty (schedulers), else 0.
    public var cpusRequested: Int32

    /// Creates a target.
    public init(isHost: Bool, index: Int32, pid: Int32, name: String, id: String, image: String, cpuset: String, cpusRequested: Int32 = 0) {
        self.isHost = isHost
        self.index = index
        self.pid = pid
        self.name = name
        self.id = id
        self.image = image
        self.cpuset = cpuset
        self.cpusRequested = cpusRequested
    }

    /// Copies a borrowed C target.
    init(_ pointer: UnsafePointer<rdt4nn_target>) {
        let t = pointer.pointee
        self.init(
            isHost: t.kind == RDT4NN_TARGET_HOST,
            index: t.index,
            pid: t.pid,
            name: t.name.map { String(cString: $0) } ?? "",
            id: t.id.map { String(cString: $0) } ?? "",
            image: t.image.map { String(cString: $0) } ?? "",
            cpuset: t.cpuset.map { String(cString: $0) } ?? "",
            cpusRequested: Int(t.struct_size) >= MemoryLayout<rdt4nn_target>.offset(of: \.cpus_requested)! + 4 ? t.cpus_requested : 0
        )
    }
}

/// The host as one plugin instance sees it: logging, emitting, configuration.
///
/// A `PluginContext` is valid from `create` until `stop` returns; it is a
/// pair of pointers, cheap to copy.
public struct PluginContext {
    let host: UnsafePointer<rdt4nn_host_api>
    let ctx: OpaquePointer?

    init(host: UnsafePointer<rdt4nn_host_api>, ctx: OpaquePointer?) {
        self.host = host
        self.ctx = ctx
    }

    /// Writes a log line (prefixed by the host with plugin id and instance).
    public func log(_ level: PluginLogLevel, _ message: String) {
        host.pointee.log?(ctx, level.rawValue, message)
    }

    /// Logs at most once per `key` every few seconds; for per-tick failures.
    public func logRateLimited(key: String, _ level: PluginLogLevel, _ message: String) {
        host.pointee.log_ratelimited?(ctx, key, level.rawValue, message)
    }

    /// Hands samples to the host (copied before this returns).
    /// - Returns: `.ok`, `.backpressure` (nothing taken) or `.invalid`.
    @discardableResult
    public func emit(_ samples: [PluginSample]) -> PluginStatus {
        guard !samples.isEmpty, let emit = host.pointee.emit else { return .ok }
        let ctx = self.ctx
        return PluginStatus(rawValue: CBatchBuilder.withBatch(samples) { emit(ctx, $0) })
    }

    /// CLOCK_REALTIME ns.
    public var realtimeNanoseconds: Int64 { host.pointee.now_realtime_ns?() ?? 0 }
    /// CLOCK_MONOTONIC ns.
    public var monotonicNanoseconds: Int64 { host.pointee.now_monotonic_ns?() ?? 0 }

    /// The instance's configuration as JSON text (validated, defaults filled).
    public var configJSON: String {
        host.pointee.config_json?(ctx).map { String(cString: $0) } ?? "{}"
    }

    /// Reads a string key; nil when absent.
    public func string(_ key: String) throws(PluginError) -> String? {
        var out: UnsafePointer<CChar>?
        guard try lookup(key, { host.pointee.config_get_string?(ctx, key, &out) }) else { return nil }
        return out.map { String(cString: $0) }
    }

    /// Reads an integer key; nil when absent.
    public func integer(_ key: String) throws(PluginError) -> Int64? {
        var out: Int64 = 0
        guard try lookup(key, { host.pointee.config_get_i64?(ctx, key, &out) }) else { return nil }
        return out
    }

    /// Reads a number key; nil when absent.
    public func double(_ key: String) throws(PluginError) -> Double? {
        var out: Double = 0
        guard try lookup(key, { host.pointee.config_get_f64?(ctx, key, &out) }) else { return nil }
        return out
    }

    /// Reads a boolean key; nil when absent.
    public func bool(_ key: String) throws(PluginError) -> Bool? {
        var out: Int32 = 0
        guard try lookup(key, { host.pointee.config_get_bool?(ctx, key, &out) }) else { return nil }
        return out != 0
    }

    /// What this instance observes (re-read in `start`: the pid changes).
    public var target: ObservedTarget {
        guard let pointer = host.pointee.target?(ctx) else {
            return ObservedTarget(isHost: true, index: -1, pid: 0, name: "host", id: "", image: "", cpuset: "")
        }
        return ObservedTarget(pointer)
    }

    func setError(_ message: String) { host.pointee.set_error?(ctx, message) }

    private func lookup(_ key: String, _ call: () -> Int32?) throws(PluginError) -> Bool {
        switch PluginStatus(rawValue: call() ?? RDT4NN_E_NOT_FOUND) {
        case .ok: return true
        case .notFound: return false
        default: throw .config("configuration key '\(key)' has the wrong type")
        }
    }
}

/// The measurement window of one `collect` call.
public struct CollectWindow: Sendable, Equatable {
    /// Sequence number from 0.
    public var sequence: UInt64
    /// Window start and end, monotonic ns.
    public var startMonotonicNs: Int64
    public var endMonotonicNs: Int64
    /// The tick's realtime timestamp for the samples.
    public var timestampNs: Int64
    /// Window length in seconds.
    public var seconds: Double { Double(endMonotonicNs - startMonotonicNs) / 1e9 }
}
