#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Reads small kernel files (/proc, /sys) without Foundation.
public enum ProcFiles {
    /// The whole file as text, or nil with `errno` set when it cannot be read.
    public static func read(_ path: String, limit: Int = 1 << 20) -> String? {
        let handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else { return nil }
        defer { close(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(handle, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The `strerror` text of the current `errno`.
    public static func lastErrorDescription() -> String { String(cString: strerror(errno)) }
}
