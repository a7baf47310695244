#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Why a resctrl operation failed, with the path, the errno and — where the
/// kernel gives one — the text of `info/last_cmd_status`.
///
/// Every case's ``description`` is one sentence a user can act on.
public enum ResctrlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// resctrl is not mounted at the root (or the root is not a resctrl tree).
    case notMounted(root: String, detail: String)
    /// A feature the caller needs is absent (no `info/L3_MON`, no MBA, ...).
    case unsupported(String)
    /// Out of RMIDs or CLOSIDs (ENOSPC on mkdir).
    case outOfIDs(path: String, kind: String, inUse: Int, limit: Int?, status: String?)
    /// Free RMIDs exist but are all in limbo (EBUSY on mkdir): retry later.
    case busy(path: String, status: String?)
    /// The group already exists (EEXIST on mkdir).
    case exists(path: String)
    /// The group or file vanished (ENOENT, ENODEV): removed by someone else,
    /// or resctrl was unmounted.
    case gone(path: String)
    /// Missing privilege (EACCES, EPERM), e.g. not root, or mkdir of a
    /// CTRL_MON group on a monitoring-only system.
    case permission(path: String, detail: String, status: String?)
    /// The kernel (or our validation, which mirrors it) refused a write.
    case invalid(path: String, message: String)
    /// Any other failure of a system call.
    case io(path: String, operation: String, errno: Int32, status: String?)
    /// A file was read but is not in the documented format.
    case malformed(path: String, detail: String)

    /// A one-sentence explanation a user can act on.
    public var description: String {
        switch self {
        case .notMounted(let root, let detail):
            return "resctrl is not mounted at \(root) (\(detail)); mount it with 'mount -t resctrl resctrl \(root)' on a CPU with RDT"
        case .unsupported(let text):
            return "resctrl: \(text)"
        case .outOfIDs(let path, let kind, let inUse, let limit, let status):
            let limitText = limit.map { " of \($0)" } ?? ""
            let statusText = status.map { "; kernel: '\($0)'" } ?? ""
            return "resctrl: cannot create \(path): out of \(kind): \(inUse) group(s) in use\(limitText)\(statusText); stop other monitoring or remove stale groups ('rdt4nn cleanup')"
        case .busy(let path, let status):
            let statusText = status.map { " (kernel: '\($0)')" } ?? ""
            return "resctrl: cannot create \(path) yet: every free RMID is still in limbo (EBUSY)\(statusText); the kernel frees them once their cache occupancy drops below info/L3_MON/max_threshold_occupancy, retry in a second"
        case .exists(let path):
            return "resctrl: \(path) already exists; a leftover of an earlier run? remove it with 'rdt4nn cleanup'"
        case .gone(let path):
            return "resctrl: \(path) no longer exists (the group was removed or resctrl unmounted)"
        case .permission(let path, let detail, let status):
            let statusText = status.map { "; kernel: '\($0)'" } ?? ""
            return "resctrl: permission denied on \(path): \(detail)\(statusText)"
        case .invalid(let path, let message):
            return "resctrl: \(path) refused the write: \(message)"
        case .io(let path, let operation, let errno, let status):
            let statusText = status.map { "; kernel: '\($0)'" } ?? ""
            return "resctrl: \(operation) \(path) failed: \(ResctrlError.errnoText(errno)) (errno \(errno))\(statusText)"
        case .malformed(let path, let detail):
            return "resctrl: \(path) has an unexpected format: \(detail)"
        }
    }

    /// True when the error means a group or file disappeared.
    public var isGone: Bool {
        if case .gone = self { return true }
        return false
    }

    /// `strerror` text of `code`.
    static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
