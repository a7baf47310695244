import PluginABI
import RDT4NNPluginSDK

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// One plugin file the loader looked at.
public struct PluginFileReport: Sendable {
    /// The file.
    public var path: String
    /// ABI version the file was built for, when readable ("1.0").
    public var abiVersion: String?
    /// Plugins loaded from it.
    public var plugins: [PluginDescriptor]
    /// Refusals: of the whole file, or of single plugins in it.
    public var refusals: [PluginRefusal]
}

/// Everything loaded from the plugin directories.
public struct PluginCatalog: Sendable {
    /// Per-file reports in load order.
    public var files: [PluginFileReport]

    /// Every loaded plugin.
    public var plugins: [PluginDescriptor] { files.flatMap(\.plugins) }
    /// Every refusal.
    public var refusals: [PluginRefusal] { files.flatMap(\.refusals) }

    /// The plugin with `id`, if loaded.
    public func plugin(id: String) -> PluginDescriptor? { plugins.first { $0.id == id } }

    /// Throws when a plugin the configuration requires did not load.
    public func require(_ ids: [String]) throws(PluginLoadError) {
        for id in ids where plugin(id: id) == nil {
            if let refusal = refusals.first(where: { $0.pluginID == id }) {
                throw PluginLoadError.requiredPluginRefused(id: id, refusal: refusal)
            }
            throw PluginLoadError.requiredPluginMissing(id: id, searched: files.map(\.path))
        }
    }
}

/// A failure to assemble the plugins a run needs.
public enum PluginLoadError: Error, Sendable, CustomStringConvertible {
    case directoryUnreadable(path: String, reason: String)
    case requiredPluginRefused(id: String, refusal: PluginRefusal)
    case requiredPluginMissing(id: String, searched: [String])

    public var description: String {
        switch self {
        case .directoryUnreadable(let path, let reason):
            "cannot read plugin directory \(path): \(reason)"
        case .requiredPluginRefused(let id, let refusal):
            "required plugin '\(id)' was refused: \(refusal)"
        case .requiredPluginMissing(let id, let searched):
            "plugin not found: '\(id)' (looked in \(searched.isEmpty ? "no plugin files" : searched.joined(separator: ", ")))"
        }
    }
}

/// Loads plugin shared objects and checks them before running any of their code.
public struct PluginLoader: Sendable {
    /// The file checks applied before `dlopen`.
    public var vetting: PluginFileVetting
    /// Receives log lines plugins write during `library_init`.
    public var log: LogHandler

    /// Creates a loader.
    public init(vetting: PluginFileVetting = PluginFileVetting(), log: @escaping LogHandler = { _ in }) {
        self.vetting = vetting
        self.log = log
    }

    /// Loads every `*.so` in `directories` (sorted by name), refusing what
    /// fails a check; a refusal never stops the other files from loading.
    /// - Throws: only when a directory cannot be read at all.
    public func load(directories: [String]) throws(PluginLoadError) -> PluginCatalog {
        var paths: [String] = []
        for directory in directories {
            guard let handle = opendir(directory) else {
                throw .directoryUnreadable(path: directory, reason: String(cString: strerror(errno)))
            }
            var names: [String] = []
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name.hasSuffix(".so") { names.append(name) }
            }
            closedir(handle)
            let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            paths += names.sorted().map { "\(base)/\($0)" }
        }
        return load(files: paths)
    }

    /// Loads the given files in order.
    public func load(files: [String]) -> PluginCatalog {
        var reports: [PluginFileReport] = []
        var seen: [String: String] = [:]
        for path in files {
            var report = loadFile(path)
            var kept: [PluginDescriptor] = []
            for plugin in report.plugins {
                if let first = seen[plugin.id] {
                    report.refusals.append(PluginRefusal(path: path, pluginID: plugin.id, reason: .duplicateID(id: plugin.id, firstPath: first)))
                } else {
                    seen[plugin.id] = path
                    kept.append(plugin)
                }
            }
            report.plugins = kept
            reports.append(report)
        }
        return PluginCatalog(files: reports)
    }

    /// Vets, maps and reads one file.  Never throws: problems become refusals.
    public func loadFile(_ path: String) -> PluginFileReport {
        var report = PluginFileReport(path: path, abiVersion: nil, plugins: [], refusals: [])
        do throws(PluginRefusal) {
            try vetting.vet(path: path)
            let entry = try Self.openEntry(path: path)
            report.abiVersion = "\(entry.pointee.abi_major).\(entry.pointee.abi_minor)"
            try initializeLibrary(entry, path: path)
            let count = entry.pointee.plugin_count!()
            guard count > 0 else { throw PluginRefusal(path: path, reason: .noPlugins) }
            let sdk = entry.pointee.sdk_version.map { String(cString: $0) } ?? "unknown"
            for index in 0..<min(count, 1024) {
                do {
                    report.plugins.append(
                        try DescriptorReader.read(
                            entry.pointee.plugin_desc!(index),
                            index: index,
                            path: path,
                            abiVersion: report.abiVersion ?? "?",
                            sdkVersion: sdk
                        )
                    )
                } catch {
                    report.refusals.append(error)
                }
            }
        } catch {
            report.refusals.append(error)
        }
        return report
    }

    /// `dlopen`s the file and checks the entry descriptor's magic, size, ABI
    /// major and required functions before anything else of the plugin runs.
    static func openEntry(path: String) throws(PluginRefusal) -> UnsafePointer<rdt4nn_plugin_entry_t> {
        _ = dlerror()
        // Never dlclose: RTLD_NODELETE keeps the mapping even if we did, and a
        // rejected handle's constructors have already run.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw PluginRefusal(path: path, reason: .dlopenFailed(dlerror().map { String(cString: $0) } ?? "unknown error"))
        }
        _ = dlerror()
        guard let symbol = dlsym(handle, RDT4NN_ENTRY_SYMBOL) else {
            throw PluginRefusal(path: path, reason: .missingEntrySymbol(dlerror().map { String(cString: $0) } ?? "not found"))
        }
        let entryFunction = unsafeBitCast(symbol, to: rdt4nn_plugin_entry_fn.self)
        guard let entry = entryFunction() else { throw PluginRefusal(path: path, reason: .entryReturnedNull) }
        // The first 12 bytes (magic, struct_size, abi_major, abi_minor) are
        // readable in every ABI version: check them before the rest.
        let raw = UnsafeRawPointer(entry)
        let magic = raw.load(as: UInt32.self)
        guard magic == RDT4NN_MAGIC else { throw PluginRefusal(path: path, reason: .wrongMagic(magic)) }
        let size = raw.load(fromByteOffset: 4, as: UInt32.self)
        let major = raw.load(fromByteOffset: 8, as: UInt16.self)
        let minor = raw.load(fromByteOffset: 10, as: UInt16.self)
        guard major == UInt16(RDT4NN_ABI_MAJOR) else {
            throw PluginRefusal(
                path: path,
                reason: .abiMajorMismatch(pluginMajor: major, pluginMinor: minor, hostMajor: UInt16(RDT4NN_ABI_MAJOR), hostMinor: UInt16(RDT4NN_ABI_MINOR))
            )
        }
        let needed = MemoryLayout<rdt4nn_plugin_entry_t>.size
        guard size >= UInt32(needed) else {
            throw PluginRefusal(path: path, reason: .entryTooSmall(size: size, required: needed))
        }
        guard entry.pointee.plugin_count != nil else { throw PluginRefusal(path: path, reason: .missingFunction("plugin_count")) }
        guard entry.pointee.plugin_desc != nil else { throw PluginRefusal(path: path, reason: .missingFunction("plugin_desc")) }
        return entry
    }

    private func initializeLibrary(_ entry: UnsafePointer<rdt4nn_plugin_entry_t>, path: String) throws(PluginRefusal) {
        guard let initialize = entry.pointee.library_init else { return }
        let name = String(path.split(separator: "/").last ?? Substring(path))
        let context = InstanceContext(pluginID: name, instanceName: "library", phase: .library, emit: { _ in .invalid }, log: log)
        let ctx = context.makeOpaquePointer()
        context.beginCall()
        let status = PluginStatus(rawValue: initialize(HostAPITable.shared.pointer, ctx, UInt32(RDT4NN_ABI_MINOR), path))
        let message = context.endCall()
        guard status == .ok else {
            throw PluginRefusal(path: path, reason: .libraryInitFailed(status: status, message: message ?? "no message (set_error was not called)"))
        }
    }
}
