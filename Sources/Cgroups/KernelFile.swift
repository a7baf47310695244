#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Borrowed bytes of one file read.
public typealias KernelBytes = UnsafeBufferPointer<UInt8>

/// Whole-file reads of small kernel files, for set-up paths (not per sample).
enum KernelText {
    /// The file as text.
    static func read(_ path: String, limit: Int = 1 << 20) throws(CgroupError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .from(errno: errno, path: path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .from(errno: errno, path: path)
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when `path` names a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The target of a symbolic link, nil when it cannot be read.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count - 1) }
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A kernel file opened once and re-read from offset 0 on every sample.
///
/// cgroup and procfs files regenerate their content on every read from
/// offset 0, so keeping the descriptor saves the path walk of `open` each
/// time.  A removed cgroup makes reads fail with ENODEV, which maps to
/// ``CgroupError/gone(path:)``.
public struct KernelFile: Sendable {
    /// The descriptor (closed by ``close()``).
    public let descriptor: Int32
    /// The path, for messages.
    public let path: String
    /// True when the whole content comes from one `show` call (every cgroup
    /// file, `/proc/stat`): a short read then means end of file, which saves
    /// one system call per read.
    public let isSingleRecord: Bool

    /// Opens `path` read-only; nil when it does not exist (the kernel or
    /// configuration does not provide it: an absent value, not an error).
    /// - Throws: ``CgroupError`` for every other failure.
    public static func openIfPresent(_ path: String, singleRecord: Bool = true) throws(CgroupError) -> KernelFile? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .from(errno: errno, path: path)
        }
        return KernelFile(descriptor: fd, path: path, isSingleRecord: singleRecord)
    }

    /// Closes the descriptor.
    public func close() {
        _ = Glibc.close(descriptor)
    }
}

/// One growable buffer that ``KernelFile`` reads land in.
///
/// Not thread-safe: one reader owns it and reads one file at a time.
public final class KernelReadBuffer {
    private var storage: UnsafeMutableRawBufferPointer

    /// Creates a buffer; it doubles when a file does not fit.
    public init(capacity: Int = 16 * 1024) {
        storage = .allocate(byteCount: max(capacity, 256), alignment: 8)
    }

    deinit { storage.deallocate() }

    /// Below this many bytes a short read of a multi-record file is its end.
    static let shortReadEndBytes = 2048

    /// Reads all of `file` from offset 0 and passes the bytes (valid during
    /// `body` only) to `body`.
    public func read<R>(_ file: KernelFile, _ body: (KernelBytes) throws(CgroupError) -> R) throws(CgroupError) -> R {
        var filled = 0
        while true {
            if filled == storage.count { grow() }
            let wanted = storage.count - filled
            let count = pread(file.descriptor, storage.baseAddress! + filled, wanted, off_t(filled))
            if count < 0 {
                if errno == EINTR { continue }
                throw .from(errno: errno, path: file.path)
            }
            filled += count
            // A seq_file read returns whole records until its one-page
            // buffer would overflow: a short read under half a page is the
            // end for files whose records are a few hundred bytes (net/dev).
            if count == 0 || (count < wanted && (file.isSingleRecord || filled < Self.shortReadEndBytes)) { break }
        }
        let bytes = UnsafeBufferPointer(start: storage.baseAddress!.assumingMemoryBound(to: UInt8.self), count: filled)
        return try body(bytes)
    }

    private func grow() {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 8)
        bigger.copyMemory(from: UnsafeRawBufferPointer(storage))
        storage.deallocate()
        storage = bigger
    }
}
