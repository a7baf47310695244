import PluginKit

/// Finds the directory of a process's perf_event cgroup from
/// `/proc/<pid>/cgroup` and `/proc/self/mountinfo` (never a hard-coded layout).
struct PerfCgroupLocator {
    /// procfs root (tests may point it elsewhere).
    var procRoot = "/proc"
    /// Overrides the mount point of the hierarchy that holds perf_event
    /// (`cgroup_root` in the configuration); nil = from mountinfo.
    var mountOverride: String?

    /// A located cgroup.
    struct Location: Equatable {
        /// The directory to open and pass with `PERF_FLAG_PID_CGROUP`.
        var directory: String
        /// The path inside the hierarchy ("/docker/<id>").
        var path: String
        /// "v1" or "v2".
        var hierarchy: String
    }

    /// The perf_event cgroup directory of `pid`, or why there is none usable.
    ///
    /// A cgroup v1 `perf_event` hierarchy wins over the v2 unified one (on a
    /// hybrid host perf_event is bound to v1 and absent from v2).  The cgroup
    /// must isolate the process: the hierarchy root or this process's own
    /// cgroup would count unrelated tasks, so they are refused.
    func locate(pid: Int32) -> Result<Location, LocateError> {
        let cgroupFile = "\(procRoot)/\(pid)/cgroup"
        guard let text = ProcFiles.read(cgroupFile) else {
            return .failure(LocateError(processGone: true, message: "cannot read \(cgroupFile): \(ProcFiles.lastErrorDescription())"))
        }
        let own = ProcFiles.read("\(procRoot)/self/cgroup").map(Self.parseMembership) ?? []
        let membership = Self.parseMembership(text)
        let chosen: (line: Membership, hierarchy: String)
        if let v1 = membership.first(where: { $0.controllers.contains("perf_event") }) {
            chosen = (v1, "v1")
        } else if let v2 = membership.first(where: { $0.hierarchyID == "0" && $0.controllers.isEmpty }) {
            chosen = (v2, "v2")
        } else {
            return .failure(LocateError(message: "\(cgroupFile) lists no perf_event (v1) or unified (v2) cgroup; mount the perf_event controller (mount -t cgroup -o perf_event none /sys/fs/cgroup/perf_event) before starting dockerd"))
        }
        if chosen.line.path == "/" {
            return .failure(LocateError(message: "process \(pid) is in the root of the \(chosen.hierarchy) perf_event hierarchy, which would count every task on the host"))
        }
        if let mine = own.first(where: { $0.hierarchyID == chosen.line.hierarchyID }), mine.path == chosen.line.path {
            return .failure(LocateError(message: "process \(pid) shares rdt4nn's own \(chosen.hierarchy) cgroup \(mine.path), which would not isolate the container (is the perf_event controller mounted for Docker?)"))
        }
        let mount: (point: String, root: String)
        if let mountOverride {
            mount = (mountOverride, "/")
        } else if let found = Self.findMount(in: ProcFiles.read("\(procRoot)/self/mountinfo") ?? "", v1Controller: chosen.hierarchy == "v1" ? "perf_event" : nil) {
            mount = found
        } else {
            return .failure(LocateError(message: chosen.hierarchy == "v1"
                ? "the perf_event cgroup hierarchy is not mounted in this mount namespace (no cgroup mount with perf_event in /proc/self/mountinfo)"
                : "cgroup2 is not mounted in this mount namespace (no cgroup2 entry in /proc/self/mountinfo)"))
        }
        var relative = chosen.line.path
        if mount.root != "/" {
            guard relative.hasPrefix(mount.root) else {
                return .failure(LocateError(message: "cgroup \(relative) of process \(pid) is outside the mounted part \(mount.root) of the hierarchy at \(mount.point)"))
            }
            relative = String(relative.dropFirst(mount.root.count))
        }
        let directory = mount.point + (relative.hasPrefix("/") ? "" : "/") + relative
        return .success(Location(directory: directory, path: chosen.line.path, hierarchy: chosen.hierarchy))
    }

    /// Why no cgroup could be used.
    struct LocateError: Error, Equatable {
        /// The process (or its /proc entry) is gone.
        var processGone = false
        /// A sentence for the user.
        var message: String
    }

    /// One line of `/proc/<pid>/cgroup`: `id:controllers:path`.
    struct Membership: Equatable {
        var hierarchyID: String
        var controllers: [String]
        var path: String
    }

    static func parseMembership(_ text: String) -> [Membership] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            let controllers = parts[1].split(separator: ",").map(String.init)
            return Membership(hierarchyID: String(parts[0]), controllers: controllers, path: String(parts[2]))
        }
    }

    /// The mount point and mounted root of the v1 hierarchy holding
    /// `v1Controller`, or of cgroup2 when nil, from mountinfo text.
    static func findMount(in mountinfo: String, v1Controller: String?) -> (point: String, root: String)? {
        for line in mountinfo.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard let dash = fields.firstIndex(of: "-"), dash >= 5, fields.count > dash + 3 else { continue }
            let fsType = fields[dash + 1]
            let superOptions = fields[dash + 3].split(separator: ",").map(String.init)
            let matches = v1Controller.map { fsType == "cgroup" && superOptions.contains($0) } ?? (fsType == "cgroup2")
            if matches { return (unescape(fields[4]), unescape(fields[3])) }
        }
        return nil
    }

    /// mountinfo escapes space, tab, newline and backslash as `\ooo`.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 4 <= source.count,
               let value = UInt8(String(decoding: source[(index + 1)..<(index + 4)], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
