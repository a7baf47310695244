import PluginABI
import RDT4NNPluginSDK

/// What a sink did with a batch (`rdt4nn_write_result`), checked by the host.
public struct SinkWriteOutcome: Sendable, Equatable {
    /// The status the sink set in the result.
    public var status: PluginStatus
    /// Samples [0, processedCount) were handled (stored or rejected).
    public var processedCount: Int
    /// Indices refused for good.
    public var rejectedIndices: [Int]
    /// Last HTTP status for network sinks, else 0.
    public var httpStatus: Int32
    /// Wait before retrying the rest, ns.
    public var retryAfterNs: Int64
    /// The `set_error` text, if any.
    public var message: String?

    /// Creates an outcome.
    public init(status: PluginStatus, processedCount: Int, rejectedIndices: [Int], httpStatus: Int32, retryAfterNs: Int64, message: String?) {
        self.status = status
        self.processedCount = processedCount
        self.rejectedIndices = rejectedIndices
        self.httpStatus = httpStatus
        self.retryAfterNs = retryAfterNs
        self.message = message
    }
}

/// One sink instance; calls are serialised by the owner.
public final class SinkInstance {
    /// The plugin.
    public var descriptor: PluginDescriptor { lifecycle.descriptor }
    /// The host-side context.
    public var context: InstanceContext { lifecycle.context }
    private let lifecycle: InstanceLifecycle
    private let vtable: rdt4nn_sink_vtable

    /// Validates the config and calls `create`.
    public init(descriptor: PluginDescriptor, instanceName: String, config: JSONValue = .object([]), log: @escaping LogHandler) throws(PluginCallError) {
        guard case .sink(let table) = descriptor.vtable.table else {
            throw InstanceLifecycle.wrongKind(descriptor, instanceName: instanceName, expected: .sink)
        }
        lifecycle = try InstanceLifecycle(
            descriptor: descriptor, instanceName: instanceName, config: config, target: .host, emit: { _ in .invalid }, log: log,
            create: table.create!, start: table.start!, stop: table.stop!, destroy: table.destroy!)
        vtable = table
    }

    /// Calls `start`.
    public func start() throws(PluginCallError) { try lifecycle.start() }

    /// Offers `samples` to the sink and validates the result it fills in.
    /// - Throws: ``PluginContractError`` when the result is inconsistent.
    public func write(_ samples: [PluginSample]) throws(PluginContractError) -> SinkWriteOutcome {
        let count = samples.count
        var rejected = [UInt32](repeating: 0, count: max(count, 1))
        let (ctx, instance, write) = (lifecycle.ctx, lifecycle.instance, vtable.write!)
        lifecycle.context.beginCall()
        let (returned, result) = CBatchBuilder.withBatch(samples) { batch in
            rejected.withUnsafeMutableBufferPointer { buffer in
                var result = rdt4nn_write_result()
                result.struct_size = UInt32(MemoryLayout<rdt4nn_write_result>.size)
                result.rejected = buffer.baseAddress
                result.rejected_cap = UInt32(buffer.count)
                let status = lifecycle.serialized { write(ctx, instance, batch, &result) }
                return (status, result)
            }
        }
        let message = lifecycle.context.endCall()
        guard Int(result.processed_count) <= count else {
            throw PluginContractError("write reported processed_count \(result.processed_count) for a batch of \(count)")
        }
        guard result.rejected_count <= result.processed_count else {
            throw PluginContractError("write reported \(result.rejected_count) rejected of \(result.processed_count) processed")
        }
        let indices = rejected.prefix(Int(result.rejected_count)).map(Int.init)
        if let bad = indices.first(where: { $0 >= Int(result.processed_count) }) {
            throw PluginContractError("write rejected index \(bad), outside the processed range 0..<\(result.processed_count)")
        }
        if returned != result.status {
            throw PluginContractError("write returned \(PluginStatus(rawValue: returned).name) but set result.status \(PluginStatus(rawValue: result.status).name)")
        }
        if returned != RDT4NN_OK && message == nil {
            lifecycle.context.recordViolation("write returned \(PluginStatus(rawValue: returned).name) without calling set_error")
        }
        if returned == RDT4NN_OK && Int(result.processed_count) != count {
            throw PluginContractError("write returned OK but processed only \(result.processed_count) of \(count) samples")
        }
        return SinkWriteOutcome(
            status: PluginStatus(rawValue: returned),
            processedCount: Int(result.processed_count),
            rejectedIndices: indices,
            httpStatus: result.http_status,
            retryAfterNs: result.retry_after_ns,
            message: message
        )
    }

    /// Calls `flush` when the sink has one.
    public func flush() throws(PluginCallError) {
        guard let flush = vtable.flush else { return }
        let (ctx, instance) = (lifecycle.ctx, lifecycle.instance)
        try lifecycle.call("flush") { flush(ctx, instance) }
    }

    /// Calls `stop`.
    public func stop() { lifecycle.stop() }

    /// Calls `destroy` (after `stop`).  Idempotent.
    public func destroy() { lifecycle.destroy() }
}

/// Where a scheduler placed a container.
public struct Placement: Sendable, Equatable {
    /// cpulist, "" for no preference.
    public var cpuset: String
    /// memory nodes, "" for no preference.
    public var cpusetMems: String
}

/// One scheduler instance; calls come from the host's control thread.
public final class SchedulerInstance {
    /// The plugin.
    public var descriptor: PluginDescriptor { lifecycle.descriptor }
    /// The host-side context.
    public var context: InstanceContext { lifecycle.context }
    private let lifecycle: InstanceLifecycle
    private let vtable: rdt4nn_scheduler_vtable

    /// Validates the config and calls `create`.
    public init(descriptor: PluginDescriptor, config: JSONValue = .object([]), log: @escaping LogHandler) throws(PluginCallError) {
        guard case .scheduler(let table) = descriptor.vtable.table else {
            throw InstanceLifecycle.wrongKind(descriptor, instanceName: "scheduler", expected: .scheduler)
        }
        lifecycle = try InstanceLifecycle(
            descriptor: descriptor, instanceName: "scheduler", config: config, target: .host, emit: { _ in .invalid }, log: log,
            create: table.create!, start: table.start!, stop: table.stop!, destroy: table.destroy!)
        vtable = table
    }

    /// Calls `start`.
    public func start() throws(PluginCallError) { try lifecycle.start() }

    /// Asks where `container` should run.
    public func admit(_ container: TargetInfo) throws(PluginCallError) -> Placement {
        lifecycle.context.setTarget(container)
        let capacity = 4096
        var cpuset = [CChar](repeating: 0, count: capacity)
        var mems = [CChar](repeating: 0, count: capacity)
        let (ctx, instance, admit) = (lifecycle.ctx, lifecycle.instance, vtable.admit!)
        let target = lifecycle.context.targetPointer()
        try cpuset.withUnsafeMutableBufferPointer { cpusetBuffer throws(PluginCallError) in
            try mems.withUnsafeMutableBufferPointer { memsBuffer throws(PluginCallError) in
                var placement = rdt4nn_placement(
                    struct_size: UInt32(MemoryLayout<rdt4nn_placement>.size),
                    cpuset_cap: UInt32(capacity),
                    cpuset: cpusetBuffer.baseAddress,
                    cpuset_mems_cap: UInt32(capacity),
                    reserved: 0,
                    cpuset_mems: memsBuffer.baseAddress
                )
                try lifecycle.call("admit") { admit(ctx, instance, target, &placement) }
            }
        }
        guard cpuset.contains(0), mems.contains(0) else {
            throw PluginCallError(pluginID: descriptor.id, instanceName: "scheduler", function: "admit", status: .invalid, message: "placement strings are not NUL-terminated within their capacity")
        }
        return Placement(
            cpuset: String(cString: cpuset.withUnsafeBufferPointer { $0.baseAddress! }),
            cpusetMems: String(cString: mems.withUnsafeBufferPointer { $0.baseAddress! })
        )
    }

    /// Tells the scheduler `container` stopped.
    public func release(_ container: TargetInfo) {
        lifecycle.context.setTarget(container)
        let (ctx, instance, release) = (lifecycle.ctx, lifecycle.instance, vtable.release!)
        let target = lifecycle.context.targetPointer()
        lifecycle.callVoid { release(ctx, instance, target) }
    }

    /// Calls `on_tick` when the scheduler has one.
    public func tick(monotonicNs: Int64, realtimeNs: Int64) throws(PluginCallError) {
        guard let onTick = vtable.on_tick else { return }
        var args = rdt4nn_tick_args(
            struct_size: UInt32(MemoryLayout<rdt4nn_tick_args>.size),
            reserved: 0,
            now_mono_ns: monotonicNs,
            t_real_ns: realtimeNs,
            observations: nil
        )
        let (ctx, instance) = (lifecycle.ctx, lifecycle.instance)
        try lifecycle.call("on_tick") { onTick(ctx, instance, &args) }
    }

    /// Calls `stop`.
    public func stop() { lifecycle.stop() }

    /// Calls `destroy`.  Idempotent.
    public func destroy() { lifecycle.destroy() }
}

