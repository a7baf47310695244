/// The cgroup membership of one process, parsed from `/proc/<pid>/cgroup`.
///
/// cgroup v1 lines read `N:controller[,controller]:/path` (`N:name=systemd:/path`
/// for named hierarchies); the cgroup v2 line reads `0::/path`.  A hybrid host
/// lists both kinds.
public struct ProcCgroup: Sendable, Equatable {
    /// One line of the file.
    public struct Entry: Sendable, Equatable {
        /// Hierarchy id (0 for the unified v2 hierarchy).
        public var hierarchyID: Int
        /// Controllers bound to the hierarchy (`["cpu", "cpuacct"]`, `["name=systemd"]`);
        /// empty for the v2 line.
        public var controllers: [String]
        /// Path of the cgroup, relative to the hierarchy root as seen from the
        /// reader's cgroup namespace (starts with `/`).
        public var path: String

        /// Creates an entry.
        public init(hierarchyID: Int, controllers: [String], path: String) {
            self.hierarchyID = hierarchyID
            self.controllers = controllers
            self.path = path
        }
    }

    /// The lines in file order.
    public var entries: [Entry]

    /// Creates a membership from entries.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Parses the text of `/proc/<pid>/cgroup`; `path` is only used in errors.
    public init(parsing text: String, path: String = "/proc/<pid>/cgroup") throws(CgroupError) {
        var entries: [Entry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            // The path itself may contain ':' — split at the first two only.
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let id = Int(parts[0]), parts[2].hasPrefix("/") else {
                throw .malformed(path: path, detail: "line '\(line)' is not 'N:controllers:/path'")
            }
            let controllers = parts[1].isEmpty ? [] : parts[1].split(separator: ",").map(String.init)
            if id == 0 && !controllers.isEmpty {
                throw .malformed(path: path, detail: "line '\(line)' has hierarchy 0 with controllers")
            }
            entries.append(Entry(hierarchyID: id, controllers: controllers, path: String(parts[2])))
        }
        guard !entries.isEmpty else { throw .malformed(path: path, detail: "the file is empty") }
        self.entries = entries
    }

    /// The v1 cgroup path of the hierarchy `controller` is bound to, if any.
    public func v1Path(controller: String) -> String? {
        entries.first { $0.hierarchyID != 0 && $0.controllers.contains(controller) }?.path
    }

    /// The path in the unified v2 hierarchy (the `0::` line), if any.
    public var unifiedPath: String? {
        entries.first { $0.hierarchyID == 0 && $0.controllers.isEmpty }?.path
    }
}
