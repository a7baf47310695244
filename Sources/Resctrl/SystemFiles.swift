#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Thin, errno-preserving wrappers over the system calls resctrl needs.
///
/// Every function returns the errno of the failing call instead of reading
/// the global afterwards, so callers can map it without a race with other
/// libc calls in between.
enum SystemFiles {
    /// Reads the whole file; `.failure(errno)` on error.
    static func read(_ path: String, limit: Int = 1 << 20) -> Result<String, Errno> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Errno(errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// Opens `path` with `flags`, writes `text` in ONE `write(2)`, closes.
    static func writeOnce(_ path: String, _ text: String, flags: Int32) -> Errno? {
        let fd = open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { return Errno(errno) }
        defer { close(fd) }
        return writeOnce(fd: fd, text)
    }

    /// One `write(2)` of `text` to `fd` (retried on EINTR); a short write is EIO.
    static func writeOnce(fd: Int32, _ text: String) -> Errno? {
        var text = text
        return text.withUTF8 { bytes in
            while true {
                let count = write(fd, bytes.baseAddress, bytes.count)
                if count < 0 {
                    if errno == EINTR { continue }
                    return Errno(errno)
                }
                return count == bytes.count ? nil : Errno(EIO)
            }
        }
    }

    /// The entries of a directory (without `.` and `..`), sorted; with their types.
    static func list(_ path: String) -> Result<[(name: String, isDirectory: Bool)], Errno> {
        guard let dir = opendir(path) else { return .failure(Errno(errno)) }
        defer { closedir(dir) }
        var entries: [(name: String, isDirectory: Bool)] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) { isDirectory = Self.isDirectory(path + "/" + name) }
            entries.append((name, isDirectory))
        }
        return .success(entries.sorted { $0.name < $1.name })
    }

    /// True when `path` is a directory (symbolic links are not followed).
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// True when `path` exists.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// `realpath(3)`, nil on error.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `mkdir(path, 0755)`.
    static func makeDirectory(_ path: String) -> Errno? {
        mkdir(path, 0o755) == 0 ? nil : Errno(errno)
    }

    /// `rmdir(path)`.
    static func removeDirectory(_ path: String) -> Errno? {
        rmdir(path) == 0 ? nil : Errno(errno)
    }

    /// Removes `path` and everything below it without following symbolic
    /// links (used only on fake trees, where it stands in for the kernel's
    /// `rmdir` of a populated group).
    static func removeTree(_ path: String) -> Errno? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return Errno(errno) }
        if (info.st_mode & S_IFMT) != S_IFDIR {
            return unlink(path) == 0 ? nil : Errno(errno)
        }
        switch list(path) {
        case .failure(let error): return error
        case .success(let entries):
            for entry in entries {
                if let error = removeTree(path + "/" + entry.name) { return error }
            }
        }
        return removeDirectory(path)
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}

/// An `errno` value.
public struct Errno: Error, Sendable, Equatable, CustomStringConvertible {
    /// The code.
    public var code: Int32

    /// Wraps `code`.
    public init(_ code: Int32) { self.code = code }

    /// `strerror` text.
    public var description: String { String(cString: strerror(code)) }
}

/// An exclusive or shared `flock(2)` on the resctrl mount directory, the
/// kernel documentation's convention for multi-file sequences.
struct MountLock {
    private let fd: Int32

    /// Takes the lock (blocking); nil when the directory cannot be opened.
    init?(root: String, exclusive: Bool) {
        let fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno != EINTR {
                close(fd)
                return nil
            }
        }
        self.fd = fd
    }

    /// Releases the lock.
    func release() {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
