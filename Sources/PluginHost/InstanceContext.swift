import PluginABI
import RDT4NNPluginSDK
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A log line a plugin sent through the host API.
public struct PluginLogRecord: Sendable, Equatable {
    /// Plugin id.
    public var pluginID: String
    /// Instance name (container name, "host", or "library").
    public var instanceName: String
    /// Severity.
    public var level: PluginLogLevel
    /// The text.
    public var message: String
    /// How many earlier messages with the same rate-limit key were suppressed.
    public var suppressedBefore: Int

    /// Creates a record.
    public init(pluginID: String, instanceName: String, level: PluginLogLevel, message: String, suppressedBefore: Int = 0) {
        self.pluginID = pluginID
        self.instanceName = instanceName
        self.level = level
        self.message = message
        self.suppressedBefore = suppressedBefore
    }
}

/// What a collector or scheduler instance observes, as the host knows it.
public struct TargetInfo: Sendable, Equatable {
    /// Host-wide or one container.
    public enum Kind: Sendable, Equatable { case host, container }
    public var kind: Kind
    public var index: Int32
    public var pid: Int32
    public var name: String
    public var id: String
    public var image: String
    public var cpuset: String
    /// CPUs wanted when `cpuset` is empty.
    public var cpusRequested: Int32

    /// The whole host.
    public static let host = TargetInfo(kind: .host, index: -1, pid: 0, name: "host", id: "", image: "", cpuset: "")

    /// Creates a target.
    public init(kind: Kind, index: Int32, pid: Int32, name: String, id: String, image: String, cpuset: String, cpusRequested: Int32 = 0) {
        self.kind = kind
        self.index = index
        self.pid = pid
        self.name = name
        self.id = id
        self.image = image
        self.cpuset = cpuset
        self.cpusRequested = cpusRequested
    }
}

/// Receives samples a plugin emits; returns the status `emit` reports.
public typealias EmitHandler = @Sendable (_ samples: [PluginSample]) -> PluginStatus
/// Receives log lines.
public typealias LogHandler = @Sendable (_ record: PluginLogRecord) -> Void

/// The host-side state behind one `rdt4nn_ctx *`.
///
/// Plugins may call host functions from any thread, so everything mutable
/// sits behind one small mutex.  A context is deliberately never freed (see
/// ``InstanceContext/makeOpaquePointer()``): a misbehaving plugin that calls
/// the host after `destroy` must hit a context that says "stopped", not
/// freed memory.
public final class InstanceContext: Sendable {
    /// Where the instance is in its life cycle.
    public enum Phase: Sendable, Equatable { case library, created, started, stopping, stopped }

    /// The plugin's id.
    public let pluginID: String
    /// The instance's name in logs.
    public let instanceName: String
    private let configText: UnsafeMutablePointerBox<CChar>
    private let config: JSONValue
    private let state: Mutex<State>
    /// The strings of the previous batch, reused by the next (see ``StringReuse``).
    private let batchStrings = Mutex(StringReuse())
    private let emitHandler: EmitHandler
    private let logHandler: LogHandler

    private struct State {
        var phase: Phase
        var lastError: String?
        var borrowed: [UInt] = []  // addresses of strdup'd strings
        var target: TargetInfo
        var cTarget: UnsafeMutablePointer<rdt4nn_target>?
        var cTargetStrings: [UnsafeMutablePointer<CChar>] = []
        var violations: [String] = []
        var rateLimits: [String: (lastNs: Int64, suppressed: Int)] = [:]
        var emittedBatches = 0
        var emittedSamples = 0
    }

    /// Creates a context.
    /// - Parameters:
    ///   - config: the validated configuration object (defaults filled in).
    public init(
        pluginID: String,
        instanceName: String,
        phase: Phase = .created,
        config: JSONValue = .object([]),
        target: TargetInfo = .host,
        emit: @escaping EmitHandler,
        log: @escaping LogHandler
    ) {
        self.pluginID = pluginID
        self.instanceName = instanceName
        self.config = config
        self.configText = UnsafeMutablePointerBox(strdup(config.jsonText))
        self.state = Mutex(State(phase: phase, target: target))
        self.emitHandler = emit
        self.logHandler = log
    }

    /// An unbalanced retain: the pointer stays valid for the life of the process.
    func makeOpaquePointer() -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(self).toOpaque())
    }

    static func from(_ pointer: OpaquePointer?) -> InstanceContext? {
        guard let pointer else { return nil }
        return Unmanaged<InstanceContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }

    // MARK: - Host side

    /// The current phase.
    public var phase: Phase { state.withLock { $0.phase } }

    /// Moves to `phase` (host-main only).
    public func setPhase(_ phase: Phase) { state.withLock { $0.phase = phase } }

    /// Replaces what the instance observes (between calls only).
    public func setTarget(_ target: TargetInfo) {
        state.withLock { state in
            state.target = target
            Self.freeCTarget(&state)
        }
    }

    /// Starts a plugin call: clears the previous error message.
    func beginCall() { state.withLock { $0.lastError = nil } }

    /// Ends a plugin call: frees borrowed strings, returns the `set_error` text.
    func endCall() -> String? {
        state.withLock { state in
            for address in state.borrowed { free(UnsafeMutableRawPointer(bitPattern: address)) }
            state.borrowed.removeAll()
            return state.lastError
        }
    }

    /// Contract violations seen so far (emit after stop, malformed batches...).
    public var violations: [String] { state.withLock { $0.violations } }

    /// Records a violation found by the host.
    func recordViolation(_ message: String) { state.withLock { $0.violations.append(message) } }

    /// Number of emitted batches and samples accepted so far.
    public var emittedCounts: (batches: Int, samples: Int) { state.withLock { ($0.emittedBatches, $0.emittedSamples) } }

    // MARK: - Host API implementations

    func log(level: Int32, message: String) {
        let level = PluginLogLevel(rawValue: level) ?? .error
        if phase == .stopped {
            recordViolation("log called after stop returned: \(message)")
            return
        }
        logHandler(PluginLogRecord(pluginID: pluginID, instanceName: instanceName, level: level, message: message, suppressedBefore: 0))
    }

    func logRateLimited(key: String, level: Int32, message: String) {
        let now = HostClock.monotonicNanoseconds()
        let suppressed: Int? = state.withLock { state in
            if let entry = state.rateLimits[key], now - entry.lastNs < HostClock.rateLimitWindowNs {
                state.rateLimits[key] = (entry.lastNs, entry.suppressed + 1)
                return nil
            }
            let suppressed = state.rateLimits[key]?.suppressed ?? 0
            state.rateLimits[key] = (now, 0)
            return suppressed
        }
        guard let suppressed else { return }
        let level = PluginLogLevel(rawValue: level) ?? .error
        logHandler(
            PluginLogRecord(pluginID: pluginID, instanceName: instanceName, level: level, message: message, suppressedBefore: suppressed)
        )
    }

    func emit(_ batch: UnsafePointer<rdt4nn_batch>?) -> PluginStatus {
        let phase = self.phase
        guard phase == .started || phase == .stopping else {
            let when = phase == .stopped ? "after stop returned" : "before start"
            recordViolation("emit called \(when); the batch was dropped")
            return .invalid
        }
        let samples: [PluginSample]
        do {
            samples = try batchStrings.withLock { (strings) throws(PluginContractError) in try BatchCopier.copy(batch, strings: &strings) }
        } catch {
            recordViolation(error.message)
            logHandler(PluginLogRecord(pluginID: pluginID, instanceName: instanceName, level: .error, message: error.message, suppressedBefore: 0))
            return .invalid
        }
        let status = emitHandler(samples)
        if status == .ok {
            state.withLock {
                $0.emittedBatches += 1
                $0.emittedSamples += samples.count
            }
        }
        return status
    }

    func setError(_ message: String) { state.withLock { $0.lastError = message } }

    var configJSONPointer: UnsafePointer<CChar> { UnsafePointer(configText.pointer) }

    func configValue(_ key: String) -> JSONValue? {
        guard let value = config[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    func borrow(_ string: String) -> UnsafePointer<CChar> {
        let copy = strdup(string)!
        let address = UInt(bitPattern: copy)
        state.withLock { $0.borrowed.append(address) }
        return UnsafePointer(copy)
    }

    func targetPointer() -> UnsafePointer<rdt4nn_target> {
        state.withLock { state in
            if let existing = state.cTarget { return UnsafePointer(existing) }
            let target = state.target
            var strings: [UnsafeMutablePointer<CChar>] = []
            func keep(_ s: String) -> UnsafePointer<CChar> {
                let copy = strdup(s)!
                strings.append(copy)
                return UnsafePointer(copy)
            }
            let pointer = UnsafeMutablePointer<rdt4nn_target>.allocate(capacity: 1)
            pointer.initialize(
                to: rdt4nn_target(
                    struct_size: UInt32(MemoryLayout<rdt4nn_target>.size),
                    kind: target.kind == .host ? RDT4NN_TARGET_HOST : RDT4NN_TARGET_CONTAINER,
                    index: target.index,
                    pid: target.pid,
                    name: keep(target.name),
                    id: keep(target.id),
                    image: keep(target.image),
                    cpuset: keep(target.cpuset),
                    cpus_requested: target.cpusRequested,
                    reserved: 0
                )
            )
            state.cTarget = pointer
            state.cTargetStrings = strings
            return UnsafePointer(pointer)
        }
    }

    private static func freeCTarget(_ state: inout State) {
        if let pointer = state.cTarget {
            pointer.deallocate()
            state.cTarget = nil
        }
        for string in state.cTargetStrings { free(string) }
        state.cTargetStrings.removeAll()
    }
}

/// Owns a C allocation made once and never changed; freed with the owner.
///
/// `@unchecked Sendable` is sound: the pointer is written once in `init`,
/// the memory it points to is never written after that, and it is freed
/// only in `deinit`, when no other reference exists.
final class UnsafeMutablePointerBox<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>?) {
        guard let pointer else { fatalError("out of memory") }
        self.pointer = pointer
    }
    deinit { free(pointer) }
}

/// The clocks every plugin shares.
public enum HostClock {
    /// CLOCK_MONOTONIC in ns.
    public static func monotonicNanoseconds() -> Int64 { read(CLOCK_MONOTONIC) }
    /// CLOCK_REALTIME in ns since the Unix epoch.
    public static func realtimeNanoseconds() -> Int64 { read(CLOCK_REALTIME) }
    /// One message per key per this window in `log_ratelimited`.
    static let rateLimitWindowNs: Int64 = 10_000_000_000

    private static func read(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
