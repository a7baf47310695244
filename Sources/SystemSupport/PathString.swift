#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Path text operations with the semantics of Foundation's `NSString` path
/// methods on Linux, without Foundation.
public enum PathString {
    /// The path without its last component, as `NSString.deletingLastPathComponent`:
    /// `"a/b/"` → `"a"`, `"/a"` → `"/"`, `"a"` → `""`, `"/"` → `"/"`, `""` → `""`.
    public static func deletingLastComponent(_ path: String) -> String {
        let fixed = fixingSlashes(path)
        if fixed == "/" || fixed.isEmpty { return fixed }
        guard let slash = fixed.lastIndex(of: "/") else { return "" }
        if slash == fixed.startIndex { return "/" }
        return String(fixed[..<slash])
    }

    /// The path with `component` appended, as `NSString.appendingPathComponent`.
    public static func appending(_ component: String, to path: String) -> String {
        if component.isEmpty { return path }
        if path.isEmpty { return component }
        return path.hasSuffix("/") ? path + component : path + "/" + component
    }

    /// The path tidied as `NSString.standardizingPath` does: a leading `~`
    /// expanded, repeated and trailing slashes removed, `.` components dropped
    /// (a leading one stays), symbolic links along the way replaced by their
    /// targets, and `..` removing the component before it in absolute paths
    /// (relative paths keep their `..`).
    public static func standardizing(_ path: String) -> String {
        let expanded = expandingTilde(path)
        let isAbsolute = path.hasPrefix("~") || path.hasPrefix("/")
        var components = components(of: expanded)
        guard !components.isEmpty else { return expanded }
        var resolved = components.removeFirst()
        for component in components {
            switch component {
            case "", ".":
                break
            case ".." where isAbsolute:
                resolved = deletingLastComponent(resolved)
            default:
                resolved = appending(component, to: resolved)
                if let target = symbolicLinkTarget(resolved) {
                    resolved = target.hasPrefix("/") ? target : appending(target, to: deletingLastComponent(resolved))
                }
            }
        }
        return resolved
    }

    /// `/`-separated components; a leading `/` is a component of its own.
    static func components(of path: String) -> [String] {
        var result: [String] = []
        if path.hasPrefix("/") { result.append("/") }
        result += path.split(separator: "/").map(String.init)
        return result
    }

    /// Runs of `/` made one, a trailing `/` removed (except from `/` itself).
    static func fixingSlashes(_ path: String) -> String {
        var result = ""
        var previousWasSlash = false
        for character in path {
            if character == "/" && previousWasSlash { continue }
            previousWasSlash = character == "/"
            result.append(character)
        }
        if result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// `~` or `~user` at the start replaced by the home directory.
    static func expandingTilde(_ path: String) -> String {
        guard path.hasPrefix("~") else { return path }
        let endOfUser = path.firstIndex(of: "/") ?? path.endIndex
        let user = String(path[path.index(after: path.startIndex)..<endOfUser])
        guard let home = homeDirectory(user: user) else { return path }
        var result = home + path[endOfUser...]
        if result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    private static func homeDirectory(user: String) -> String? {
        if user.isEmpty, let home = getenv("HOME") { return String(cString: home) }
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        let result = user.isEmpty
            ? getpwuid_r(getuid(), &entry, &buffer, buffer.count, &found)
            : getpwnam_r(user, &entry, &buffer, buffer.count, &found)
        guard result == 0, found != nil, let directory = entry.pw_dir else { return nil }
        return String(cString: directory)
    }

    /// The target of the symbolic link at `path`, nil when it is none.
    private static func symbolicLinkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
