import PluginABI
/// Why the host refused a plugin file (or one plugin inside a file).
public struct PluginRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// The plugin id when the refusal concerns one plugin of a loaded file.
    public var pluginID: String?
    /// The reason, one sentence.
    public var reason: Reason

    /// Every reason the loader refuses something.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        case cannotStat(String)
        case notRegularFile(String)
        case writableByOthers(path: String, mode: UInt32)
        case foreignOwner(path: String, uid: UInt32, allowed: [UInt32])
        case unreadable(String)
        case notELF(firstBytes: [UInt8])
        case dlopenFailed(String)
        case missingEntrySymbol(String)
        case entryReturnedNull
        case wrongMagic(UInt32)
        case abiMajorMismatch(pluginMajor: UInt16, pluginMinor: UInt16, hostMajor: UInt16, hostMinor: UInt16)
        case entryTooSmall(size: UInt32, required: Int)
        case missingFunction(String)
        case noPlugins
        case invalidDescriptor(index: UInt32, problem: String)
        case duplicateID(id: String, firstPath: String)
        case libraryInitFailed(status: PluginStatus, message: String)

        public var description: String {
            switch self {
            case .cannotStat(let error):
                return "cannot examine the file: \(error)"
            case .notRegularFile(let type):
                return "not a regular file (\(type)); plugins must be regular files, not links or devices"
            case .writableByOthers(let path, let mode):
                return "\(path) is writable by group or others (mode \(String(mode & 0o7777, radix: 8))); run 'chmod go-w \(path)'"
            case .foreignOwner(let path, let uid, let allowed):
                let names = allowed.map { $0 == 0 ? "root" : "uid \($0)" }.joined(separator: " or ")
                return "\(path) is owned by uid \(uid), not by \(names); the host runs privileged and only loads files it can trust"
            case .unreadable(let error):
                return "cannot read the file: \(error)"
            case .notELF(let bytes):
                let shown = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
                return "not an ELF shared object (starts with \(shown.isEmpty ? "nothing: the file is empty" : shown))"
            case .dlopenFailed(let message):
                return "dlopen failed: \(message)"
            case .missingEntrySymbol(let message):
                return "no exported symbol 'rdt4nn_plugin_entry' (\(message)); build with RDT4NN_EXPORT and the rdt4nn.version script"
            case .entryReturnedNull:
                return "rdt4nn_plugin_entry() returned NULL"
            case .wrongMagic(let magic):
                return "wrong magic 0x\(String(magic, radix: 16, uppercase: true)) (expected 0x4E4E3452, \"R4NN\"); not an rdt4nn plugin"
            case .abiMajorMismatch(let pluginMajor, let pluginMinor, let hostMajor, let hostMinor):
                return "plugin built for rdt4nn ABI \(pluginMajor).\(pluginMinor), host supports ABI \(hostMajor).x (\(hostMajor).\(hostMinor)); rebuild it against this SDK"
            case .entryTooSmall(let size, let required):
                return "entry descriptor too small: struct_size \(size), at least \(required) bytes needed"
            case .missingFunction(let name):
                return "entry descriptor lacks required function '\(name)'"
            case .noPlugins:
                return "plugin_count() returned 0: the file holds no plugins"
            case .invalidDescriptor(let index, let problem):
                return "plugin descriptor \(index): \(problem)"
            case .duplicateID(let id, let firstPath):
                return "duplicate plugin id '\(id)': already loaded from \(firstPath)"
            case .libraryInitFailed(let status, let message):
                return "library_init returned \(status.name): \(message)"
            }
        }
    }

    public var description: String {
        if let pluginID { return "refused plugin '\(pluginID)' in \(path): \(reason)" }
        return "refused \(path): \(reason)"
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
