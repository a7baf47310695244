import PluginABI
import RDT4NNPluginSDK

/// A plugin found in a loaded file: its descriptor copied into Swift values,
/// plus the (immutable, never unmapped) function table.
public struct PluginDescriptor: Sendable {
    /// Stable id.
    public var id: String
    /// Human-readable name.
    public var name: String
    /// Semantic version.
    public var version: String
    /// One sentence.
    public var summary: String
    /// Optional metadata.
    public var vendor: String?
    public var url: String?
    public var license: String?
    /// Declared features ("linux", "needs-root", ...).
    public var features: [String]
    /// The kind.
    public var kind: PluginKind
    /// Capability bits (`RDT4NN_CAP_*`).
    public var capabilities: UInt32
    /// Raw schema texts as the plugin declared them.
    public var configSchemaJSON: String?
    public var metricsSchemaJSON: String?
    /// Parsed config schema (empty when the plugin takes no configuration).
    public var configSchema: ConfigSchema
    /// Parsed metrics schema (collectors).
    public var metricsSchema: MetricsSchema?
    /// The file it came from.
    public var path: String
    /// ABI version the plugin was built for, "1.0".
    public var abiVersion: String
    /// SDK version string the plugin reports.
    public var sdkVersion: String
    /// Whether the plugin wants one instance per container.
    public var isPerContainer: Bool { capabilities & RDT4NN_CAP_PER_CONTAINER != 0 }
    /// Whether the host must never call two of its instances at once.
    public var isSingleThreaded: Bool { capabilities & RDT4NN_CAP_SINGLE_THREADED != 0 }

    let vtable: VTableReference
    /// Shared by every copy of this descriptor, so by all its instances; nil
    /// unless the plugin is single-threaded.
    let callLock: PluginCallLock?
}

/// The kind-specific function table, copied out of plugin memory.
///
/// `@unchecked Sendable` is sound: the tables are plain values (function
/// pointers and integers) copied once at load time and never mutated.
struct VTableReference: @unchecked Sendable {
    enum Table {
        case collector(rdt4nn_collector_vtable)
        case scheduler(rdt4nn_scheduler_vtable)
        case sink(rdt4nn_sink_vtable)
    }
    let table: Table
}

enum DescriptorReader {
    private static let idCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")

    /// Validates and copies descriptor `index` of a loaded file.
    static func read(
        _ pointer: UnsafePointer<rdt4nn_plugin_desc>?,
        index: UInt32,
        path: String,
        abiVersion: String,
        sdkVersion: String
    ) throws(PluginRefusal) -> PluginDescriptor {
        func refuse(_ problem: String, id: String? = nil) -> PluginRefusal {
            PluginRefusal(path: path, pluginID: id, reason: .invalidDescriptor(index: index, problem: problem))
        }
        guard let pointer else { throw refuse("plugin_desc(\(index)) returned NULL") }
        let minimum = MemoryLayout<rdt4nn_plugin_desc>.size
        guard pointer.pointee.struct_size >= UInt32(minimum) else {
            throw refuse("descriptor too small: struct_size \(pointer.pointee.struct_size), at least \(minimum) bytes needed")
        }
        let desc = pointer.pointee
        guard let idPointer = desc.id else { throw refuse("id is NULL") }
        let id = String(cString: idPointer)
        guard !id.isEmpty, id.allSatisfy({ idCharacters.contains($0) }) else {
            throw refuse("id '\(id)' must be non-empty and use only a-z, 0-9, '.', '_' and '-'")
        }
        func required(_ field: UnsafePointer<CChar>?, _ name: String) throws(PluginRefusal) -> String {
            guard let field, field.pointee != 0 else { throw refuse("\(name) is NULL or empty", id: id) }
            return String(cString: field)
        }
        let name = try required(desc.name, "name")
        let version = try required(desc.version, "version")
        let summary = try required(desc.description, "description")
        guard let kind = PluginKind(abiValue: desc.kind) else { throw refuse("unknown kind \(desc.kind)", id: id) }
        guard let vtablePointer = desc.vtable else { throw refuse("vtable is NULL", id: id) }

        var features: [String] = []
        if var cursor = desc.features {
            while let feature = cursor.pointee, features.count < 64 {
                features.append(String(cString: feature))
                cursor += 1
            }
        }
        let configText = desc.config_schema_json.map { String(cString: $0) }
        let metricsText = desc.metrics_schema_json.map { String(cString: $0) }
        let configSchema: ConfigSchema
        var metricsSchema: MetricsSchema?
        do {
            configSchema = try configText.map { text throws(PluginContractError) in try ConfigSchema(json: text) } ?? .empty
            metricsSchema = try metricsText.map { text throws(PluginContractError) in try MetricsSchema(json: text) }
        } catch {
            throw refuse(error.message, id: id)
        }

        let table: VTableReference.Table
        let caps: UInt32
        switch kind {
        case .collector:
            let vt = try readTable(vtablePointer, as: rdt4nn_collector_vtable.self, refuse: { refuse($0, id: id) })
            try requireFunctions(
                [("create", vt.create != nil), ("start", vt.start != nil), ("collect", vt.collect != nil), ("stop", vt.stop != nil), ("destroy", vt.destroy != nil)],
                refuse: { refuse($0, id: id) }
            )
            guard metricsSchema != nil else { throw refuse("collectors must declare metrics_schema_json", id: id) }
            table = .collector(vt)
            caps = vt.caps
        case .scheduler:
            let vt = try readTable(vtablePointer, as: rdt4nn_scheduler_vtable.self, refuse: { refuse($0, id: id) })
            try requireFunctions(
                [("create", vt.create != nil), ("start", vt.start != nil), ("admit", vt.admit != nil), ("release", vt.release != nil), ("stop", vt.stop != nil), ("destroy", vt.destroy != nil)],
                refuse: { refuse($0, id: id) }
            )
            table = .scheduler(vt)
            caps = vt.caps
        case .sink:
            let vt = try readTable(vtablePointer, as: rdt4nn_sink_vtable.self, refuse: { refuse($0, id: id) })
            try requireFunctions(
                [("create", vt.create != nil), ("start", vt.start != nil), ("write", vt.write != nil), ("stop", vt.stop != nil), ("destroy", vt.destroy != nil)],
                refuse: { refuse($0, id: id) }
            )
            table = .sink(vt)
            caps = vt.caps
        }
        return PluginDescriptor(
            id: id,
            name: name,
            version: version,
            summary: summary,
            vendor: desc.vendor.map { String(cString: $0) },
            url: desc.url.map { String(cString: $0) },
            license: desc.license.map { String(cString: $0) },
            features: features,
            kind: kind,
            capabilities: caps,
            configSchemaJSON: configText,
            metricsSchemaJSON: metricsText,
            configSchema: configSchema,
            metricsSchema: metricsSchema,
            path: path,
            abiVersion: abiVersion,
            sdkVersion: sdkVersion,
            vtable: VTableReference(table: table),
            callLock: caps & RDT4NN_CAP_SINGLE_THREADED != 0 ? PluginCallLock() : nil
        )
    }

    /// Copies a table whose first field is `struct_size`, zero-filling a
    /// smaller (older) one; refuses one too small to hold ABI 1.0's slots.
    private static func readTable<T>(
        _ raw: UnsafeRawPointer,
        as type: T.Type,
        refuse: (String) -> PluginRefusal
    ) throws(PluginRefusal) -> T {
        let size = raw.load(as: UInt32.self)
        let needed = MemoryLayout<T>.size
        guard size >= UInt32(needed) else {
            throw refuse("\(T.self) too small: struct_size \(size), at least \(needed) bytes needed")
        }
        return raw.load(as: T.self)
    }

    private static func requireFunctions(_ functions: [(String, Bool)], refuse: (String) -> PluginRefusal) throws(PluginRefusal) {
        for (name, present) in functions where !present {
            throw refuse("vtable lacks required function '\(name)'")
        }
    }
}
