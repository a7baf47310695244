#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// The checks a plugin file passes before the host maps it, in the spirit of
/// sudo and ssh: the host runs as root, so it loads only files that nobody
/// but root or the invoking user could have written.
public struct PluginFileVetting: Sendable {
    /// Owners the host trusts: root and the invoking user.
    public var trustedOwners: [UInt32]

    /// Trusts root and the real uid of this process.
    public init() {
        let uid = getuid()
        trustedOwners = uid == 0 ? [0] : [0, uid]
    }

    /// Trusts exactly `trustedOwners` (for tests).
    public init(trustedOwners: [UInt32]) { self.trustedOwners = trustedOwners }

    /// Checks the file and its directory.
    /// - Throws: ``PluginRefusal`` with the first reason found.
    public func vet(path: String) throws(PluginRefusal) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            throw PluginRefusal(path: path, reason: .cannotStat(String(cString: strerror(errno))))
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            throw PluginRefusal(path: path, reason: .notRegularFile(Self.describeFileType(type)))
        }
        try checkOwnerAndMode(of: path, info: info, refusing: path)

        let directory = Self.directory(of: path)
        var directoryInfo = stat()
        guard stat(directory, &directoryInfo) == 0 else {
            throw PluginRefusal(path: path, reason: .cannotStat("\(directory): \(String(cString: strerror(errno)))"))
        }
        try checkOwnerAndMode(of: directory, info: directoryInfo, refusing: path)

        let handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else {
            throw PluginRefusal(path: path, reason: .unreadable(String(cString: strerror(errno))))
        }
        defer { close(handle) }
        var magic = [UInt8](repeating: 0, count: 4)
        let count = read(handle, &magic, 4)
        let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
        guard count == 4, magic == elf else {
            throw PluginRefusal(path: path, reason: .notELF(firstBytes: Array(magic.prefix(max(0, count)))))
        }
    }

    private func checkOwnerAndMode(of checked: String, info: stat, refusing path: String) throws(PluginRefusal) {
        guard trustedOwners.contains(info.st_uid) else {
            throw PluginRefusal(path: path, reason: .foreignOwner(path: checked, uid: info.st_uid, allowed: trustedOwners))
        }
        if info.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            throw PluginRefusal(path: path, reason: .writableByOthers(path: checked, mode: info.st_mode))
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    static func describeFileType(_ type: mode_t) -> String {
        switch type {
        case S_IFLNK: "symbolic link"
        case S_IFDIR: "directory"
        case S_IFIFO: "named pipe"
        case S_IFSOCK: "socket"
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        default: "unknown file type"
        }
    }
}
