import PluginABI
import RDT4NNPluginSDK

/// A plugin function returned an error status.
public struct PluginCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The plugin.
    public var pluginID: String
    /// The instance name.
    public var instanceName: String
    /// The ABI function ("create", "start", "collect", ...).
    public var function: String
    /// What it returned.
    public var status: PluginStatus
    /// The `set_error` text, or the host's own explanation.
    public var message: String

    /// Creates an error.
    public init(pluginID: String, instanceName: String, function: String, status: PluginStatus, message: String) {
        self.pluginID = pluginID
        self.instanceName = instanceName
        self.function = function
        self.status = status
        self.message = message
    }

    public var description: String {
        "plugin '\(pluginID)' (\(instanceName)): \(function) returned \(status.name): \(message)"
    }
}

/// The life cycle every kind shares: configuration validation, the
/// context, `create`/`start`/`stop`/`destroy`, and the status and
/// `set_error` bookkeeping of each call.  Not thread-safe by design: the
/// owner serialises calls, which is the ABI's "never concurrent per
/// instance" rule.
final class InstanceLifecycle {
    typealias CreateFunction = @convention(c) (UnsafePointer<rdt4nn_host_api>?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    typealias StartFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32
    typealias StopFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void
    typealias DestroyFunction = @convention(c) (UnsafeMutableRawPointer?) -> Void

    let descriptor: PluginDescriptor
    let context: InstanceContext
    let ctx: OpaquePointer
    private(set) var instance: UnsafeMutableRawPointer?
    private var isDestroyed = false
    private let startFunction: StartFunction
    private let stopFunction: StopFunction
    private let destroyFunction: DestroyFunction

    /// Validates `config` against the plugin's schema, then calls `create`.
    init(
        descriptor: PluginDescriptor,
        instanceName: String,
        config: JSONValue,
        target: TargetInfo,
        emit: @escaping EmitHandler,
        log: @escaping LogHandler,
        create: CreateFunction,
        start: @escaping StartFunction,
        stop: @escaping StopFunction,
        destroy: @escaping DestroyFunction
    ) throws(PluginCallError) {
        let validated: JSONValue
        do {
            validated = try descriptor.configSchema.validate(config, pluginID: descriptor.id)
        } catch {
            throw PluginCallError(
                pluginID: descriptor.id,
                instanceName: instanceName,
                function: "configuration",
                status: .config,
                message: error.problems.joined(separator: "; ")
            )
        }
        self.descriptor = descriptor
        context = InstanceContext(
            pluginID: descriptor.id,
            instanceName: instanceName,
            config: validated,
            target: target,
            emit: emit,
            log: log
        )
        ctx = context.makeOpaquePointer()
        startFunction = start
        stopFunction = stop
        destroyFunction = destroy
        var created: UnsafeMutableRawPointer?
        let ctx = self.ctx
        do {
            try call("create") { create(HostAPITable.shared.pointer, ctx, &created) }
        } catch {
            isDestroyed = true  // nothing to destroy: create failed
            throw error
        }
        instance = created
    }

    /// Refuses a descriptor of another kind.
    static func wrongKind(_ descriptor: PluginDescriptor, instanceName: String, expected: PluginKind) -> PluginCallError {
        PluginCallError(
            pluginID: descriptor.id, instanceName: instanceName, function: "create", status: .invalid,
            message: "plugin is a \(descriptor.kind.rawValue), not a \(expected.rawValue)")
    }

    /// Runs one plugin call and turns a non-OK status into an error.
    func call(_ function: String, _ body: () -> Int32) throws(PluginCallError) {
        context.beginCall()
        let status = PluginStatus(rawValue: serialized(body))
        let message = context.endCall()
        guard status != .ok else { return }
        if message == nil {
            context.recordViolation("\(function) returned \(status.name) without calling set_error")
        }
        throw PluginCallError(
            pluginID: descriptor.id,
            instanceName: context.instanceName,
            function: function,
            status: status,
            message: message ?? "no message (the plugin did not call set_error)"
        )
    }

    /// Runs a void plugin call (stop, release).
    func callVoid(_ body: () -> Void) {
        context.beginCall()
        serialized(body)
        _ = context.endCall()
    }

    /// Runs a call into the plugin; one at a time across all its instances
    /// when it declared `RDT4NN_CAP_SINGLE_THREADED`.
    func serialized<R>(_ body: () -> R) -> R {
        guard let lock = descriptor.callLock else { return body() }
        return lock.withLock(body)
    }

    /// Calls `start`; `stop` is owed from now on, even if `start` fails.
    func start() throws(PluginCallError) {
        context.setPhase(.started)
        let (ctx, instance, start) = (self.ctx, self.instance, startFunction)
        try call("start") { start(ctx, instance) }
    }

    /// Calls `stop` once after `start`; emits after it returns are violations.
    func stop() {
        guard context.phase == .started else { return }
        context.setPhase(.stopping)
        let (ctx, instance, stop) = (self.ctx, self.instance, stopFunction)
        callVoid { stop(ctx, instance) }
        context.setPhase(.stopped)
    }

    /// Calls `destroy` (after `stop` if still started).  Idempotent.
    func destroy() {
        guard !isDestroyed else { return }
        stop()
        context.setPhase(.stopped)
        isDestroyed = true
        let (destroy, instance) = (destroyFunction, self.instance)
        serialized { destroy(instance) }
        self.instance = nil
    }

    deinit { destroy() }
}

/// One collector instance.  Not thread-safe by design: the owner serialises
/// calls, which is exactly the ABI's "never concurrent per instance" rule.
public final class CollectorInstance {
    /// The plugin.
    public var descriptor: PluginDescriptor { lifecycle.descriptor }
    /// The host-side context (violations, counts).
    public var context: InstanceContext { lifecycle.context }
    private let lifecycle: InstanceLifecycle
    private let collectFunction: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<rdt4nn_collect_args>?) -> Int32
    private var lastWindowEnd: Int64 = 0
    private var sequence: UInt64 = 0

    /// Validates `config` against the plugin's schema and calls `create`.
    public init(
        descriptor: PluginDescriptor,
        instanceName: String,
        config: JSONValue = .object([]),
        target: TargetInfo = .host,
        emit: @escaping EmitHandler,
        log: @escaping LogHandler
    ) throws(PluginCallError) {
        guard case .collector(let table) = descriptor.vtable.table else {
            throw InstanceLifecycle.wrongKind(descriptor, instanceName: instanceName, expected: .collector)
        }
        lifecycle = try InstanceLifecycle(
            descriptor: descriptor, instanceName: instanceName, config: config, target: target, emit: emit, log: log,
            create: table.create!, start: table.start!, stop: table.stop!, destroy: table.destroy!)
        collectFunction = table.collect!
    }

    /// Calls `start`; the first window begins now.
    public func start() throws(PluginCallError) {
        lastWindowEnd = HostClock.monotonicNanoseconds()
        try lifecycle.start()
    }

    /// Calls `collect` for the window ending at `monotonicNs`.
    public func collect(monotonicNs: Int64, realtimeNs: Int64) throws(PluginCallError) {
        var args = rdt4nn_collect_args(
            struct_size: UInt32(MemoryLayout<rdt4nn_collect_args>.size),
            reserved: 0,
            sequence: sequence,
            now_mono_ns: monotonicNs,
            window_start_mono_ns: lastWindowEnd,
            t_real_ns: realtimeNs
        )
        sequence += 1
        let (ctx, instance, collect) = (lifecycle.ctx, lifecycle.instance, collectFunction)
        try lifecycle.call("collect") { collect(ctx, instance, &args) }
        lastWindowEnd = monotonicNs
    }

    /// Calls `stop`; emits after it returns are violations.
    public func stop() { lifecycle.stop() }

    /// Calls `destroy` (after `stop` if still started).  Idempotent.
    public func destroy() { lifecycle.destroy() }
}
