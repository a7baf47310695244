#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import PluginABI
import RDT4NNPluginSDK

/// A borrowed batch handed to a sink's `write`: valid during the call only.
public struct SinkBatch {
    /// The C batch (common tags are already merged into each sample by the host).
    public let raw: UnsafePointer<rdt4nn_batch>

    /// Number of samples.
    public var count: Int { Int(raw.pointee.count) }

    /// Copies the samples into Swift values (convenient, allocates).
    public func samples() -> [PluginSample] {
        let batch = raw.pointee
        return (0..<count).map { index in
            let sample = batch.samples[index]
            let tags: [(key: String, value: String)] = (0..<Int(sample.n_tags)).map { i in
                (String(cString: sample.tags[i].key), String(cString: sample.tags[i].value))
            }
            let fields: [(key: String, value: PluginFieldValue)] = (0..<Int(sample.n_fields)).map { i in
                let field = sample.fields[i]
                let key = String(cString: field.key)
                switch field.type {
                case RDT4NN_FIELD_F64: return (key, .float(field.v.f64))
                case RDT4NN_FIELD_I64: return (key, .integer(field.v.i64))
                case RDT4NN_FIELD_U64: return (key, .unsigned(field.v.u64))
                case RDT4NN_FIELD_BOOL: return (key, .boolean(field.v.u64 != 0))
                default: return (key, .string(field.v.str.map { String(cString: $0) } ?? ""))
                }
            }
            return PluginSample(measurement: String(cString: sample.measurement), tags: tags, fields: fields, timestampNanoseconds: sample.t_real_ns)
        }
    }
}

/// What a sink did with a batch (see `rdt4nn_write_result` in the header).
public struct SinkWriteResult: Sendable, Equatable {
    /// OK when every sample was handled, RETRY when some must be retried, or
    /// FATAL / PERMISSION / CONFIG when the sink cannot work at all.
    public var status: PluginStatus
    /// Samples [0, processedCount) were handled.
    public var processedCount: Int
    /// Indices (< processedCount) refused for good.
    public var rejected: [Int]
    /// Last HTTP status for network sinks.
    public var httpStatus: Int32
    /// How long to wait before retrying the rest.
    public var retryAfterNs: Int64
    /// Reason for rejections or failure (passed to `set_error`).
    public var message: String?

    /// Everything stored.
    public static func accepted(_ count: Int, httpStatus: Int32 = 0) -> SinkWriteResult {
        SinkWriteResult(status: .ok, processedCount: count, rejected: [], httpStatus: httpStatus, retryAfterNs: 0, message: nil)
    }

    /// Creates a result.
    public init(status: PluginStatus, processedCount: Int, rejected: [Int] = [], httpStatus: Int32 = 0, retryAfterNs: Int64 = 0, message: String? = nil) {
        self.status = status
        self.processedCount = processedCount
        self.rejected = rejected
        self.httpStatus = httpStatus
        self.retryAfterNs = retryAfterNs
        self.message = message
    }
}

/// A sink written in Swift.
public protocol Sink: PluginLifecycle {
    /// `write`: store the batch and say what happened to each sample.
    func write(context: PluginContext, batch: SinkBatch) -> SinkWriteResult
    /// `flush`: make what was written durable.
    func flush(context: PluginContext) throws(PluginError)
}

extension Sink {
    /// Default: nothing buffered.
    public func flush(context: PluginContext) throws(PluginError) {}
}

/// A scheduler (resource-placement policy) written in Swift.
public protocol Scheduler: PluginLifecycle {
    /// `admit`: where `container` should run (cpulists; "" = no preference).
    func admit(context: PluginContext, container: ObservedTarget) throws(PluginError) -> (cpuset: String, cpusetMems: String)
    /// `release`: the container stopped.
    func release(context: PluginContext, container: ObservedTarget)
    /// `on_tick`: periodic decisions.
    func tick(context: PluginContext, monotonicNs: Int64, realtimeNs: Int64) throws(PluginError)
}

extension Scheduler {
    /// Default: no periodic work.
    public func tick(context: PluginContext, monotonicNs: Int64, realtimeNs: Int64) throws(PluginError) {}
}

/// Holds one plugin instance (of any kind) behind the C `void *`; the kind
/// views are resolved once, at `create`.
final class PluginBox {
    let plugin: any PluginLifecycle
    let collector: (any Collector)?
    let sink: (any Sink)?
    let scheduler: (any Scheduler)?
    let host: UnsafePointer<rdt4nn_host_api>

    init(_ plugin: any PluginLifecycle, host: UnsafePointer<rdt4nn_host_api>) {
        self.plugin = plugin
        collector = plugin as? any Collector
        sink = plugin as? any Sink
        scheduler = plugin as? any Scheduler
        self.host = host
    }

    static func from(_ raw: UnsafeMutableRawPointer?) -> PluginBox? {
        raw.map { Unmanaged<PluginBox>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Runs a throwing plugin method; a thrown error becomes `set_error` plus its status.
func reportErrors(_ context: PluginContext, _ body: () throws(PluginError) -> Void) -> Int32 {
    do {
        try body()
        return RDT4NN_OK
    } catch {
        context.setError(error.message)
        return error.status.rawValue
    }
}

let pluginBoxDestroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
    guard let raw else { return }
    Unmanaged<PluginBox>.fromOpaque(raw).release()
}

private let sinkWrite: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<rdt4nn_batch>?, UnsafeMutablePointer<rdt4nn_write_result>?) -> Int32 = {
    ctx, raw, batch, resultPointer in
    guard let box = PluginBox.from(raw), let sink = box.sink, let batch, let resultPointer else { return RDT4NN_E_INVALID }
    let context = PluginContext(host: box.host, ctx: ctx)
    let result = sink.write(context: context, batch: SinkBatch(raw: batch))
    let capacity = Int(resultPointer.pointee.rejected_cap)
    let rejected = result.rejected.prefix(capacity)
    if let array = resultPointer.pointee.rejected {
        for (slot, index) in rejected.enumerated() { array[slot] = UInt32(index) }
    }
    resultPointer.pointee.status = result.status.rawValue
    resultPointer.pointee.processed_count = UInt32(result.processedCount)
    resultPointer.pointee.rejected_count = UInt32(rejected.count)
    resultPointer.pointee.http_status = result.httpStatus
    resultPointer.pointee.retry_after_ns = result.retryAfterNs
    if let message = result.message { context.setError(message) }
    return result.status.rawValue
}

private let sinkFlush: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ctx, raw in
    guard let box = PluginBox.from(raw), let sink = box.sink else { return RDT4NN_E_INVALID }
    let context = PluginContext(host: box.host, ctx: ctx)
    return reportErrors(context) { () throws(PluginError) in try sink.flush(context: context) }
}

private let schedulerAdmit: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<rdt4nn_target>?, UnsafeMutablePointer<rdt4nn_placement>?) -> Int32 = {
    ctx, raw, target, placement in
    guard let box = PluginBox.from(raw), let scheduler = box.scheduler, let target, let placement else { return RDT4NN_E_INVALID }
    let context = PluginContext(host: box.host, ctx: ctx)
    return reportErrors(context) { () throws(PluginError) in
        let chosen = try scheduler.admit(context: context, container: ObservedTarget(target))
        try copy(chosen.cpuset, into: placement.pointee.cpuset, capacity: placement.pointee.cpuset_cap, what: "cpuset")
        try copy(chosen.cpusetMems, into: placement.pointee.cpuset_mems, capacity: placement.pointee.cpuset_mems_cap, what: "cpuset_mems")
    }
}

private func copy(_ string: String, into buffer: UnsafeMutablePointer<CChar>?, capacity: UInt32, what: String) throws(PluginError) {
    let bytes = Array(string.utf8CString)
    guard let buffer, bytes.count <= Int(capacity) else {
        throw .fatal("\(what) '\(string)' does not fit the host's \(capacity)-byte buffer")
    }
    for (index, byte) in bytes.enumerated() { buffer[index] = byte }
}

private let schedulerRelease: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<rdt4nn_target>?) -> Void = {
    ctx, raw, target in
    guard let box = PluginBox.from(raw), let scheduler = box.scheduler, let target else { return }
    scheduler.release(context: PluginContext(host: box.host, ctx: ctx), container: ObservedTarget(target))
}

private let schedulerTick: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<rdt4nn_tick_args>?) -> Int32 = {
    ctx, raw, args in
    guard let box = PluginBox.from(raw), let scheduler = box.scheduler, let args else { return RDT4NN_E_INVALID }
    let context = PluginContext(host: box.host, ctx: ctx)
    return reportErrors(context) { () throws(PluginError) in
        try scheduler.tick(context: context, monotonicNs: args.pointee.now_mono_ns, realtimeNs: args.pointee.t_real_ns)
    }
}

extension ExportedPlugin {
    /// Exports a sink.  `create` must be a non-capturing closure calling
    /// `T.exportedCreate`.
    public static func sink<T: Sink>(
        _ type: T.Type,
        create: @convention(c) (UnsafePointer<rdt4nn_host_api>?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    ) -> ExportedPlugin {
        let vtable = FrozenPointer(
            rdt4nn_sink_vtable(
                struct_size: UInt32(MemoryLayout<rdt4nn_sink_vtable>.size),
                caps: T.metadata.capabilities,
                create: create,
                start: pluginStart,
                write: sinkWrite,
                flush: sinkFlush,
                stop: pluginStop,
                destroy: pluginBoxDestroy
            )
        )
        return ExportedPlugin(descriptor: makeDescriptor(T.metadata, kind: RDT4NN_KIND_SINK, vtable: UnsafeRawPointer(vtable.pointer)))
    }

    /// Exports a scheduler.  `create` must be a non-capturing closure calling
    /// `T.exportedCreate`.
    public static func scheduler<T: Scheduler>(
        _ type: T.Type,
        create: @convention(c) (UnsafePointer<rdt4nn_host_api>?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    ) -> ExportedPlugin {
        let vtable = FrozenPointer(
            rdt4nn_scheduler_vtable(
                struct_size: UInt32(MemoryLayout<rdt4nn_scheduler_vtable>.size),
                caps: T.metadata.capabilities,
                create: create,
                start: pluginStart,
                admit: schedulerAdmit,
                release: schedulerRelease,
                on_tick: schedulerTick,
                stop: pluginStop,
                destroy: pluginBoxDestroy
            )
        )
        return ExportedPlugin(descriptor: makeDescriptor(T.metadata, kind: RDT4NN_KIND_SCHEDULER, vtable: UnsafeRawPointer(vtable.pointer)))
    }
}
