#if canImport(Glibc)
@preconcurrency import Glibc
#endif

import PluginABI
import RDT4NNPluginSDK

/// Static facts about a plugin, turned into its C descriptor.
public struct PluginMetadata: Sendable {
    /// Stable id ([a-z0-9._-]).
    public var id: String
    /// Human-readable name.
    public var name: String
    /// Semantic version.
    public var version: String
    /// One sentence.
    public var summary: String
    /// Feature words ("linux", "needs-root", ...).
    public var features: [String]
    /// JSON Schema of the configuration, nil for none.
    public var configSchemaJSON: String?
    /// What the plugin emits (collectors).
    public var metricsSchemaJSON: String?
    /// `RDT4NN_CAP_*` bits.
    public var capabilities: UInt32

    /// Creates metadata; `vendor` is "rdt4nn" and `license` "MIT" for built-ins.
    public init(
        id: String,
        name: String,
        version: String,
        summary: String,
        features: [String] = ["linux"],
        configSchemaJSON: String? = nil,
        metricsSchemaJSON: String? = nil,
        capabilities: UInt32 = 0
    ) {
        self.id = id
        self.name = name
        self.version = version
        self.summary = summary
        self.features = features
        self.configSchemaJSON = configSchemaJSON
        self.metricsSchemaJSON = metricsSchemaJSON
        self.capabilities = capabilities
    }
}

/// What every plugin written in Swift has, whatever its kind: metadata,
/// `create`, `start`, `stop`.  PluginKit maps each ABI call to a method and
/// thrown ``PluginError``s to statuses with `set_error` messages.
public protocol PluginLifecycle: AnyObject {
    /// Id, name, schemas.
    static var metadata: PluginMetadata { get }
    /// `create`: read and check the configuration; no hardware, no threads, no I/O.
    init(context: PluginContext) throws(PluginError)
    /// `start`: acquire resources (open counters, files, connections).
    func start(context: PluginContext) throws(PluginError)
    /// `stop`: release everything; no host calls afterwards.
    func stop(context: PluginContext)
}

extension PluginLifecycle {
    /// Default: nothing to release.
    public func stop(context: PluginContext) {}

    /// The `create` function of the C vtable.  Call it from a non-capturing
    /// closure naming the concrete type:
    /// `.collector(MyCollector.self) { MyCollector.exportedCreate($0, $1, $2) }`.
    public static func exportedCreate(
        _ host: UnsafePointer<rdt4nn_host_api>?,
        _ ctx: OpaquePointer?,
        _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32 {
        guard let host, let out else { return RDT4NN_E_INVALID }
        let context = PluginContext(host: host, ctx: ctx)
        do {
            out.pointee = Unmanaged.passRetained(PluginBox(try Self(context: context), host: host)).toOpaque()
            return RDT4NN_OK
        } catch {
            context.setError(error.message)
            return error.status.rawValue
        }
    }
}

/// A collector written in Swift.
public protocol Collector: PluginLifecycle {
    /// `collect`: measure the window and `emit`.
    func collect(context: PluginContext, window: CollectWindow) throws(PluginError)
}

/// `start` of every kind's vtable.
let pluginStart: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 = { ctx, raw in
    guard let box = PluginBox.from(raw) else { return RDT4NN_E_INVALID }
    let context = PluginContext(host: box.host, ctx: ctx)
    return reportErrors(context) { () throws(PluginError) in try box.plugin.start(context: context) }
}

/// `stop` of every kind's vtable.
let pluginStop: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { ctx, raw in
    guard let box = PluginBox.from(raw) else { return }
    box.plugin.stop(context: PluginContext(host: box.host, ctx: ctx))
}

private let collectorCollect: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<rdt4nn_collect_args>?) -> Int32 = {
    ctx, raw, args in
    guard let box = PluginBox.from(raw), let collector = box.collector, let args else { return RDT4NN_E_INVALID }
    let context = PluginContext(host: box.host, ctx: ctx)
    let window = CollectWindow(
        sequence: args.pointee.sequence,
        startMonotonicNs: args.pointee.window_start_mono_ns,
        endMonotonicNs: args.pointee.now_mono_ns,
        timestampNs: args.pointee.t_real_ns
    )
    return reportErrors(context) { () throws(PluginError) in try collector.collect(context: context, window: window) }
}

/// One plugin ready to be listed by the entry point.
public struct ExportedPlugin: Sendable {
    let descriptor: FrozenPointer<rdt4nn_plugin_desc>

    /// Exports a collector.  `create` must be a non-capturing closure that
    /// calls `T.exportedCreate` (C function pointers cannot capture the type).
    public static func collector<T: Collector>(
        _ type: T.Type,
        create: @convention(c) (UnsafePointer<rdt4nn_host_api>?, OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    ) -> ExportedPlugin {
        let vtable = FrozenPointer(
            rdt4nn_collector_vtable(
                struct_size: UInt32(MemoryLayout<rdt4nn_collector_vtable>.size),
                caps: T.metadata.capabilities,
                create: create,
                start: pluginStart,
                collect: collectorCollect,
                stop: pluginStop,
                destroy: pluginBoxDestroy
            )
        )
        return ExportedPlugin(descriptor: makeDescriptor(T.metadata, kind: RDT4NN_KIND_COLLECTOR, vtable: UnsafeRawPointer(vtable.pointer)))
    }

    static func makeDescriptor(_ metadata: PluginMetadata, kind: UInt32, vtable: UnsafeRawPointer) -> FrozenPointer<rdt4nn_plugin_desc> {
        // Strings live for the life of the process, as the ABI requires.
        func keep(_ s: String?) -> UnsafePointer<CChar>? { s.map { UnsafePointer(strdup($0)!) } }
        let features = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: metadata.features.count + 1)
        for (index, feature) in metadata.features.enumerated() { features[index] = keep(feature) }
        features[metadata.features.count] = nil
        return FrozenPointer(
            rdt4nn_plugin_desc(
                struct_size: UInt32(MemoryLayout<rdt4nn_plugin_desc>.size),
                kind: kind,
                id: keep(metadata.id),
                name: keep(metadata.name),
                version: keep(metadata.version),
                description: keep(metadata.summary),
                vendor: keep("rdt4nn"),
                url: nil,
                license: keep("MIT"),
                features: UnsafePointer(features),
                config_schema_json: keep(metadata.configSchemaJSON),
                metrics_schema_json: keep(metadata.metricsSchemaJSON),
                vtable: vtable
            )
        )
    }
}

extension [ExportedPlugin] {
    /// Descriptor `index`, nil when out of range (for `plugin_desc`).
    public func descriptor(at index: UInt32) -> UnsafePointer<rdt4nn_plugin_desc>? {
        Int(index) < count ? self[Int(index)].descriptor.pointer : nil
    }
}

/// The entry descriptor of one shared object.
///
/// ```swift
/// enum MyLibrary {
///     static let plugins: [ExportedPlugin] = [.collector(My.self) { My.exportedCreate($0, $1, $2) }]
///     static let entry = PluginLibraryEntry(
///         count: { UInt32(MyLibrary.plugins.count) },
///         descriptor: { MyLibrary.plugins.descriptor(at: $0) })
/// }
/// @_cdecl("rdt4nn_plugin_entry")
/// public func rdt4nn_plugin_entry() -> UnsafeRawPointer { MyLibrary.entry.pointer }
/// ```
public struct PluginLibraryEntry: Sendable {
    private let entry: FrozenPointer<rdt4nn_plugin_entry_t>

    /// Builds the entry descriptor.  `count` and `descriptor` must be
    /// non-capturing closures reading the library's static plugin list.
    public init(
        count: @convention(c) () -> UInt32,
        descriptor: @convention(c) (UInt32) -> UnsafePointer<rdt4nn_plugin_desc>?
    ) {
        entry = FrozenPointer(
            rdt4nn_plugin_entry_t(
                magic: RDT4NN_MAGIC,
                struct_size: UInt32(MemoryLayout<rdt4nn_plugin_entry_t>.size),
                abi_major: UInt16(RDT4NN_ABI_MAJOR),
                abi_minor: UInt16(RDT4NN_ABI_MINOR),
                reserved: 0,
                sdk_version: UnsafePointer(strdup(RDT4NN_SDK_VERSION)!),
                library_init: nil,
                library_deinit: nil,
                plugin_count: count,
                plugin_desc: descriptor
            )
        )
    }

    /// What `rdt4nn_plugin_entry` returns.
    public var pointer: UnsafeRawPointer { UnsafeRawPointer(entry.pointer) }
}

/// A C value copied once into memory that is never written again nor freed.
///
/// `@unchecked Sendable` is sound: after `init` the memory is read-only for
/// the life of the process (plugins are never unmapped), so any thread may
/// read it.
struct FrozenPointer<T>: @unchecked Sendable {
    let pointer: UnsafePointer<T>
    init(_ value: T) {
        let storage = UnsafeMutablePointer<T>.allocate(capacity: 1)
        storage.initialize(to: value)
        pointer = UnsafePointer(storage)
    }
}
