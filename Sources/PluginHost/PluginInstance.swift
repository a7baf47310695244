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

/// Shared machinery of the instance wrappers: config validation, the
/// context, status and `set_error` bookkeeping.
struct InstanceCore {
    let descriptor: PluginDescriptor
    let context: InstanceContext
    let ctx: OpaquePointer

    init(
        descriptor: PluginDescriptor,
        instanceName: String,
        config: JSONValue,
        target: TargetInfo,
        emit: @escaping EmitHandler,
        log: @escaping LogHandler
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
    }

    /// Runs one plugin call and turns a non-OK status into an error.
    func call(_ function: String, _ body: () -> Int32) throws(PluginCallError) {
        context.beginCall()
        let status = PluginStatus(rawValue: body())
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
        body()
        _ = context.endCall()
    }
}

/// One collector instance.  Not thread-safe by design: the owner serialises
/// calls, which is exactly the ABI's "never concurrent per instance" rule.
public final class CollectorInstance {
    /// The plugin.
    public var descriptor: PluginDescriptor { core.descriptor }
    /// The host-side context (violations, counts).
    public var context: InstanceContext { core.context }
    private let core: InstanceCore
    private let vtable: rdt4nn_collector_vtable
    private var instance: UnsafeMutableRawPointer?
    private var isDestroyed = false
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
            throw PluginCallError(pluginID: descriptor.id, instanceName: instanceName, function: "create", status: .invalid, message: "plugin is a \(descriptor.kind.rawValue), not a collector")
        }
        core = try InstanceCore(descriptor: descriptor, instanceName: instanceName, config: config, target: target, emit: emit, log: log)
        vtable = table
        var created: UnsafeMutableRawPointer?
        let ctx = core.ctx
        do {
            try core.call("create") { table.create!(HostAPITable.shared.pointer, ctx, &created) }
        } catch {
            isDestroyed = true
            throw error
        }
        instance = created
    }

    /// Calls `start`.
    public func start() throws(PluginCallError) {
        core.context.setPhase(.started)
        lastWindowEnd = HostClock.monotonicNanoseconds()
        let (ctx, instance, start) = (core.ctx, instance, vtable.start!)
        try core.call("start") { start(ctx, instance) }
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
        let (ctx, instance, collect) = (core.ctx, instance, vtable.collect!)
        try core.call("collect") { collect(ctx, instance, &args) }
        lastWindowEnd = monotonicNs
    }

    /// Calls `stop`; emits after it returns are violations.
    public func stop() {
        guard core.context.phase == .started else { return }
        core.context.setPhase(.stopping)
        let (ctx, instance, stop) = (core.ctx, instance, vtable.stop!)
        core.callVoid { stop(ctx, instance) }
        core.context.setPhase(.stopped)
    }

    /// Calls `destroy` (after `stop` if still started).  Idempotent.
    public func destroy() {
        guard !isDestroyed else { return }
        stop()
        core.context.setPhase(.stopped)
        isDestroyed = true
        let destroy = vtable.destroy!
        destroy(instance)
        instance = nil
    }

    deinit { destroy() }
}
