/// Where a process's cgroups are: one directory per v1 controller and/or the
/// directory in the unified v2 hierarchy.
public struct CgroupLocation: Sendable, Equatable {
    /// How the host mounts cgroups.
    public var mode: CgroupMode
    /// The v1 directory of each controller the process's hierarchies bind
    /// (`"memory": "/sys/fs/cgroup/memory/docker/<id>"`).
    public var v1Directories: [String: String]
    /// The process's directory in the cgroup2 hierarchy, when one is mounted.
    public var unifiedDirectory: String?

    /// Creates a location.
    public init(mode: CgroupMode, v1Directories: [String: String], unifiedDirectory: String?) {
        self.mode = mode
        self.v1Directories = v1Directories
        self.unifiedDirectory = unifiedDirectory
    }

    /// The v1 directory of `controller`, if a v1 hierarchy carries it.
    public func v1Directory(_ controller: String) -> String? {
        v1Directories[controller]
    }
}

/// Locates cgroups through procfs and the mount table, under configurable roots.
///
/// Nothing is hard-coded: mount points come from `<procRoot>/self/mountinfo`
/// and the process's paths from `<procRoot>/<pid>/cgroup`.  `cgroupRoot`
/// exists so tests can point everything at a fixture tree: a mount point at
/// or below the conventional `/sys/fs/cgroup` is looked up at the same place
/// below `cgroupRoot` instead (the identity with the defaults).
public struct CgroupFilesystem: Sendable, Equatable {
    /// Where procfs is mounted (`/proc`).
    public var procRoot: String
    /// Where the cgroup hierarchy is (`/sys/fs/cgroup`).
    public var cgroupRoot: String

    /// The controllers ``locate(pid:)`` resolves for v1.
    public static let controllers = ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "perf_event"]

    /// The mount point cgroup hierarchies conventionally live under.
    public static let conventionalRoot = "/sys/fs/cgroup"

    /// Creates a locator.
    public init(procRoot: String = "/proc", cgroupRoot: String = CgroupFilesystem.conventionalRoot) {
        self.procRoot = Self.trimmingTrailingSlash(procRoot)
        self.cgroupRoot = Self.trimmingTrailingSlash(cgroupRoot)
    }

    /// The cgroup mounts of this process's mount namespace.
    public func mounts() throws(CgroupError) -> CgroupMounts {
        let path = procRoot + "/self/mountinfo"
        let text = try KernelText.read(path)
        var table = try CgroupMounts(parsingMountinfo: text, path: path)
        for index in table.mounts.indices {
            table.mounts[index].mountPoint = rebase(table.mounts[index].mountPoint)
        }
        return table
    }

    /// The host's cgroup mode, from the mount table.
    public func mode() throws(CgroupError) -> CgroupMode {
        guard let mode = try mounts().mode else { throw .notMounted(mountinfo: procRoot + "/self/mountinfo") }
        return mode
    }

    /// The cgroup membership of `pid` (`<procRoot>/<pid>/cgroup`).
    /// - Throws: ``CgroupError/gone(path:)`` when the process does not exist.
    public func membership(pid: Int32) throws(CgroupError) -> ProcCgroup {
        let path = "\(procRoot)/\(pid)/cgroup"
        return try ProcCgroup(parsing: try KernelText.read(path), path: path)
    }

    /// Resolves the cgroup directories of `pid` for ``controllers`` and the
    /// unified hierarchy.
    /// - Throws: ``CgroupError/gone(path:)`` when the process or its cgroup
    ///   directories do not exist, ``CgroupError/notMounted(mountinfo:)``
    ///   when no cgroup filesystem is mounted.
    public func locate(pid: Int32) throws(CgroupError) -> CgroupLocation {
        let table = try mounts()
        guard let mode = table.mode else { throw .notMounted(mountinfo: procRoot + "/self/mountinfo") }
        let membership = try membership(pid: pid)
        var directories: [String: String] = [:]
        for controller in Self.controllers {
            guard let path = membership.v1Path(controller: controller) else { continue }
            // The same hierarchy may be mounted several times; take the first
            // mount whose sub-tree holds the path.
            for mount in table.mounts where mount.binds(controller) {
                if let directory = mount.directory(of: path) {
                    directories[controller] = directory
                    break
                }
            }
        }
        var unified: String?
        if let path = membership.unifiedPath {
            for mount in table.mounts where mount.isUnified {
                if let directory = mount.directory(of: path) {
                    unified = directory
                    break
                }
            }
        }
        // A directory that vanished between reading /proc/<pid>/cgroup and now
        // means the container is going away.
        for directory in directories.values.sorted() + (unified.map { [$0] } ?? []) where !KernelText.isDirectory(directory) {
            throw .gone(path: directory)
        }
        return CgroupLocation(mode: mode, v1Directories: directories, unifiedDirectory: unified)
    }

    /// Maps a mount point from mountinfo to where it is read from.
    func rebase(_ mountPoint: String) -> String {
        let conventional = Self.conventionalRoot
        guard cgroupRoot != conventional else { return mountPoint }
        if mountPoint == conventional { return cgroupRoot }
        if mountPoint.hasPrefix(conventional + "/") { return cgroupRoot + mountPoint.dropFirst(conventional.count) }
        return mountPoint
    }

    private static func trimmingTrailingSlash(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}
