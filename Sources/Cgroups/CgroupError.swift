#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Why a cgroup or procfs file could not be located or read.
///
/// Every case names the path involved, so the description tells a user what
/// to look at (`cgroup: cannot read /sys/fs/cgroup/memory/docker/…/memory.stat: …`).
public enum CgroupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The process or its cgroup no longer exists (ENOENT, ENODEV, ESRCH):
    /// the container stopped or was removed.  Transient from a collector's
    /// point of view: a restarted container gets a new pid and cgroup.
    case gone(path: String)
    /// The file exists but cannot be opened or read for lack of privilege.
    case permission(path: String)
    /// Any other read error, with the `strerror` text.
    case io(path: String, errno: Int32, reason: String)
    /// The file was read but its content is not in the documented format.
    case malformed(path: String, detail: String)
    /// No cgroup filesystem is mounted (neither `cgroup` nor `cgroup2` in mountinfo).
    case notMounted(mountinfo: String)

    /// A one-sentence explanation a user can act on.
    public var description: String {
        switch self {
        case .gone(let path):
            "cgroup: \(path) no longer exists (the process or its cgroup is gone; the container stopped or was removed)"
        case .permission(let path):
            "cgroup: permission denied reading \(path) (run as root)"
        case .io(let path, let errno, let reason):
            "cgroup: cannot read \(path): \(reason) (errno \(errno))"
        case .malformed(let path, let detail):
            "cgroup: \(path) has an unexpected format: \(detail)"
        case .notMounted(let mountinfo):
            "cgroup: no cgroup or cgroup2 filesystem is listed in \(mountinfo); mount the cgroup hierarchy first"
        }
    }

    /// True when the error means the process or cgroup disappeared.
    public var isGone: Bool {
        if case .gone = self { return true }
        return false
    }

    /// Maps an `errno` from opening or reading `path` to an error.
    static func from(errno code: Int32, path: String) -> CgroupError {
        switch code {
        case ENOENT, ENODEV, ESRCH, ENOTDIR: .gone(path: path)
        case EACCES, EPERM: .permission(path: path)
        default: .io(path: path, errno: code, reason: String(cString: strerror(code)))
        }
    }
}
