/// How the cgroup hierarchies are mounted on this host.
public enum CgroupMode: String, Sendable, Equatable, CustomStringConvertible {
    /// Only cgroup v1 hierarchies (one mount per controller or controller group).
    case v1
    /// cgroup v1 controllers plus a cgroup2 mount without them (systemd "hybrid").
    case hybrid
    /// Only the unified cgroup v2 hierarchy.
    case unified

    /// `v1`, `hybrid` or `unified`.
    public var description: String { rawValue }
}

/// One cgroup filesystem mount, from `/proc/self/mountinfo`.
public struct CgroupMount: Sendable, Equatable {
    /// True for `cgroup2`, false for a v1 `cgroup` mount.
    public var isUnified: Bool
    /// Where it is mounted, as mountinfo names it (octal escapes decoded).
    public var mountPoint: String
    /// The cgroup the mount shows as its root (`/` unless a sub-tree was mounted).
    public var root: String
    /// The filesystem's super options: for v1 they name the bound controllers
    /// (`rw,cpu,cpuacct`, `rw,name=systemd`).
    public var superOptions: [String]

    /// Creates a mount record.
    public init(isUnified: Bool, mountPoint: String, root: String, superOptions: [String]) {
        self.isUnified = isUnified
        self.mountPoint = mountPoint
        self.root = root
        self.superOptions = superOptions
    }

    /// True when this v1 mount carries `controller` (`memory`, `name=systemd`).
    public func binds(_ controller: String) -> Bool {
        !isUnified && superOptions.contains(controller)
    }

    /// The directory of cgroup `path` (as listed in `/proc/<pid>/cgroup`) in
    /// this mount, or nil when the path lies outside the mounted sub-tree.
    public func directory(of path: String) -> String? {
        let relative: Substring
        if root == "/" {
            relative = path[...]
        } else if path == root {
            relative = ""
        } else if path.hasPrefix(root + "/") {
            relative = path.dropFirst(root.count)
        } else {
            return nil
        }
        if relative == "/" || relative.isEmpty { return mountPoint }
        return mountPoint == "/" ? String(relative) : mountPoint + relative
    }
}

/// The cgroup mounts of a mount namespace, parsed from `/proc/self/mountinfo`.
public struct CgroupMounts: Sendable, Equatable {
    /// Every `cgroup` and `cgroup2` mount in file order.
    public var mounts: [CgroupMount]

    /// Creates the table from mounts.
    public init(mounts: [CgroupMount]) {
        self.mounts = mounts
    }

    /// Parses mountinfo text, keeping the cgroup mounts; `path` is only used in errors.
    ///
    /// A line reads `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS`.
    public init(parsingMountinfo text: String, path: String = "/proc/self/mountinfo") throws(CgroupError) {
        var mounts: [CgroupMount] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let separator = fields.firstIndex(of: "-"), separator >= 6, fields.count >= separator + 3 else {
                throw .malformed(path: path, detail: "line '\(line)' lacks the ' - FSTYPE SOURCE OPTIONS' part")
            }
            let fsType = fields[separator + 1]
            guard fsType == "cgroup" || fsType == "cgroup2" else { continue }
            mounts.append(
                CgroupMount(
                    isUnified: fsType == "cgroup2",
                    mountPoint: Self.unescape(fields[4]),
                    root: Self.unescape(fields[3]),
                    superOptions: fields[separator + 3].split(separator: ",").map(String.init)
                )
            )
        }
        self.mounts = mounts
    }

    /// The mode the mounts imply, nil when no cgroup filesystem is mounted.
    public var mode: CgroupMode? {
        let hasV1 = mounts.contains { !$0.isUnified }
        let hasV2 = mounts.contains { $0.isUnified }
        switch (hasV1, hasV2) {
        case (true, true): return .hybrid
        case (true, false): return .v1
        case (false, true): return .unified
        case (false, false): return nil
        }
    }

    /// The first v1 mount carrying `controller`.
    public func v1Mount(for controller: String) -> CgroupMount? {
        mounts.first { $0.binds(controller) }
    }

    /// The first cgroup2 mount.
    public var unifiedMount: CgroupMount? {
        mounts.first { $0.isUnified }
    }

    /// Decodes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
    static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let utf8 = Array(field.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "\\"), i + 3 < utf8.count {
                let digits = utf8[(i + 1)...(i + 3)]
                if digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) {
                    let value = digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) }
                    if value < 256 {
                        bytes.append(UInt8(value))
                        i += 4
                        continue
                    }
                }
            }
            bytes.append(utf8[i])
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
