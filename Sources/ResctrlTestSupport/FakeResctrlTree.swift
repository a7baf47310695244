#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A fake resctrl tree in a plain directory, for tests and benchmarks.
///
/// It mirrors the fixture script of `linux-interfaces.md` §1.12 and stands in
/// for the kernel where a plain directory cannot: ``kernelStep()`` populates
/// group directories created by `mkdir` (the kernel does that atomically with
/// the mkdir; here the test calls it after the code under test created a
/// group), and ``setCounters(_:domain:occupancy:total:local:)`` plays the
/// hardware counters.  Values are rewritten in place (same inode), so readers
/// that keep the files open see them, as on kernfs.
///
/// Not thread-safe; one test owns one tree.
public struct FakeResctrlTree {
    /// The machine the tree imitates.
    public enum Profile: Sendable, Equatable {
        /// Intel 2-socket host of the §1.12 fixture: L3 ids 0 and 1, CBM
        /// `fff`, MBA % (min 10, gran 10), CLOSIDs L3 16 / MB 8, 224 RMIDs.
        case intel2Socket
        /// AMD: one L3 per CCX (`domains` of them, ids 0...), CBM `ffff`,
        /// sparse masks, `min_cbm_bits` 0, MB in 1/8 GB/s (2048 = unlimited).
        case amd(domains: Int)
        /// Intel 2-socket with sub-NUMA clustering (2 nodes per L3):
        /// `mon_L3_0X/` sums `mon_sub_L3_YY/` (nodes 0,1 on L3 0; 2,3 on L3 1);
        /// RMIDs divided by the nodes per L3.
        case snc2
        /// An old kernel with CDP: `info/L3DATA` + `info/L3CODE`, no
        /// `info/L3`, and a padded schemata (`    MB:0=  100;1=  100`).
        case legacyCDPPadded
    }

    /// The tree's root directory.
    public let root: String
    /// The profile it was built with.
    public let profile: Profile

    /// L3 (monitoring and control) domain ids.
    public var domains: [Int] {
        switch profile {
        case .intel2Socket, .snc2, .legacyCDPPadded: [0, 1]
        case .amd(let count): Array(0..<count)
        }
    }

    /// SNC nodes per L3 domain (empty without SNC).
    public var subdomains: [Int: [Int]] {
        profile == .snc2 ? [0: [0, 1], 1: [2, 3]] : [:]
    }

    /// The events `info/L3_MON/mon_features` lists.
    public static let events = ["llc_occupancy", "mbm_total_bytes", "mbm_local_bytes"]

    /// Builds the tree under `root` (created if missing; must be empty).
    public init(root: String, profile: Profile) throws(FakeTreeError) {
        self.root = root
        self.profile = profile
        try Self.makeDirectories(root)
        try build()
    }

    private func build() throws(FakeTreeError) {
        try put("info/last_cmd_status", "ok\n")
        let ids = domains
        func perDomain(_ value: String) -> String { ids.map { "\($0)=\(value)" }.joined(separator: ";") }
        switch profile {
        case .intel2Socket, .snc2:
            try put("info/L3/num_closids", "16\n")
            try put("info/L3/cbm_mask", "fff\n")
            try put("info/L3/min_cbm_bits", "1\n")
            try put("info/L3/shareable_bits", "c00\n")
            try put("info/L3/sparse_masks", "0\n")
            try put("info/L3/bit_usage", perDomain("XXSSSSSSSSSS") + "\n")
            try put("info/MB/num_closids", "8\n")
            try put("info/MB/min_bandwidth", "10\n")
            try put("info/MB/bandwidth_gran", "10\n")
            try put("info/MB/delay_linear", "1\n")
            try put("info/MB/thread_throttle_mode", "max\n")
            try put("info/L3_MON/num_rmids", profile == .snc2 ? "112\n" : "224\n")
            try put("schemata", "L3:\(perDomain("fff"))\nMB:\(perDomain("100"))\n")
            try put("size", "L3:\(perDomain("31457280"))\nMB:\(perDomain("100"))\n")
            try put("cpus", "ff\n")
            try put("cpus_list", "0-7\n")
        case .amd:
            try put("info/L3/num_closids", "16\n")
            try put("info/L3/cbm_mask", "ffff\n")
            try put("info/L3/min_cbm_bits", "0\n")
            try put("info/L3/shareable_bits", "0\n")
            try put("info/L3/sparse_masks", "1\n")
            try put("info/L3/bit_usage", perDomain("XXXXXXXXXXXXXXXX") + "\n")
            try put("info/MB/num_closids", "16\n")
            try put("info/MB/min_bandwidth", "0\n")
            try put("info/MB/bandwidth_gran", "1\n")
            try put("info/MB/delay_linear", "0\n")
            try put("info/L3_MON/num_rmids", "256\n")
            try put("schemata", "L3:\(perDomain("ffff"))\nMB:\(perDomain("2048"))\n")
            try put("size", "L3:\(perDomain("33554432"))\nMB:\(perDomain("2048"))\n")
            let cpus = ids.count * 8
            try put("cpus", String(repeating: "f", count: max(1, cpus / 4)) + "\n")
            try put("cpus_list", "0-\(cpus - 1)\n")
        case .legacyCDPPadded:
            for resource in ["L3DATA", "L3CODE"] {
                try put("info/\(resource)/num_closids", "8\n")
                try put("info/\(resource)/cbm_mask", "fffff\n")
                try put("info/\(resource)/min_cbm_bits", "1\n")
                try put("info/\(resource)/shareable_bits", "0\n")
            }
            try put("info/MB/num_closids", "8\n")
            try put("info/MB/min_bandwidth", "10\n")
            try put("info/MB/bandwidth_gran", "10\n")
            try put("info/MB/delay_linear", "1\n")
            try put("info/L3_MON/num_rmids", "176\n")
            try put("schemata", "L3DATA:0=000ff;1=fffff\nL3CODE:0=fffff;1=fffff\n    MB:0=  100;1=  100\n")
            try put("size", "L3DATA:0=3932160;1=31457280\nL3CODE:0=31457280;1=31457280\n    MB:0=  100;1=  100\n")
            try put("cpus", "ff\n")
            try put("cpus_list", "0-7\n")
        }
        try put("info/L3_MON/mon_features", Self.events.joined(separator: "\n") + "\n")
        try put("info/L3_MON/max_threshold_occupancy", "140416\n")
        try put("mode", "shareable\n")
        try put("tasks", "1\n2\n3\n812\n813\n")
        try Self.makeDirectories(root + "/mon_groups")
        try populateMonitoringData("")
        switch profile {
        case .intel2Socket:
            try setCounters("", domain: 0, occupancy: "18874368", total: "9876543210", local: "8765432109")
            try setCounters("", domain: 1, occupancy: "2097152", total: "123456789", local: "100000000")
        default:
            break
        }
    }

    /// Adds the §1.12 fixture's groups: CTRL_MON `rdt4nn-c0` (4 ways on
    /// domain 0, MB 50; tasks 4242 4243 4250; domain 1 MBM `Unavailable`) and
    /// its MON group `rdt4nn-c0-mon` (tasks 4242 4243; local `Error` on 0).
    public func addFixtureGroups() throws(FakeTreeError) {
        let group = "rdt4nn-c0"
        try Self.makeDirectories(root + "/" + group)
        try populateControlGroup(group)
        try put(group + "/schemata", "L3:0=f;1=fff\nMB:0=50;1=100\n")
        try put(group + "/size", "L3:0=10485760;1=31457280\nMB:0=50;1=100\n")
        try put(group + "/tasks", "4242\n4243\n4250\n")
        try setCounters(group, domain: 0, occupancy: "6291456", total: "5368709120", local: "4294967296")
        try setCounters(group, domain: 1, occupancy: "0", total: "Unavailable", local: "Unavailable")
        let monitor = group + "/mon_groups/rdt4nn-c0-mon"
        try Self.makeDirectories(root + "/" + monitor)
        try populateMonitorGroup(monitor)
        try put(monitor + "/tasks", "4242\n4243\n")
        try setCounters(monitor, domain: 0, occupancy: "4194304", total: "4000000000", local: "Error")
        try setCounters(monitor, domain: 1, occupancy: "0", total: "0", local: "0")
    }

    // MARK: - The kernel's part

    /// Does what the kernel does at `mkdir`: fills every group directory that
    /// has no `tasks` file yet (CTRL_MON groups at the top, MON groups in any
    /// `mon_groups/`), with counters at 0.  Returns the populated groups'
    /// relative paths.
    @discardableResult
    public func kernelStep() throws(FakeTreeError) -> [String] {
        var populated: [String] = []
        for name in try Self.list(root) where Self.isDirectory(root + "/" + name) && !["info", "mon_groups", "mon_data"].contains(name) {
            if !Self.exists(root + "/" + name + "/tasks") {
                try populateControlGroup(name)
                populated.append(name)
            }
            for monitor in (try? Self.list(root + "/" + name + "/mon_groups")) ?? [] where !Self.exists("\(root)/\(name)/mon_groups/\(monitor)/tasks") {
                try populateMonitorGroup("\(name)/mon_groups/\(monitor)")
                populated.append("\(name)/mon_groups/\(monitor)")
            }
        }
        for monitor in (try? Self.list(root + "/mon_groups")) ?? [] where !Self.exists("\(root)/mon_groups/\(monitor)/tasks") {
            try populateMonitorGroup("mon_groups/\(monitor)")
            populated.append("mon_groups/\(monitor)")
        }
        return populated
    }

    private func populateControlGroup(_ group: String) throws(FakeTreeError) {
        try put(group + "/schemata", try read("schemata").replacingPadding())
        try put(group + "/size", try read("size").replacingPadding())
        try put(group + "/mode", "shareable\n")
        try put(group + "/tasks", "")
        try put(group + "/cpus", "00\n")
        try put(group + "/cpus_list", "\n")
        try Self.makeDirectories(root + "/" + group + "/mon_groups")
        try populateMonitoringData(group)
    }

    private func populateMonitorGroup(_ group: String) throws(FakeTreeError) {
        try put(group + "/tasks", "")
        try put(group + "/cpus", "00\n")
        try put(group + "/cpus_list", "\n")
        try populateMonitoringData(group)
    }

    private func populateMonitoringData(_ group: String) throws(FakeTreeError) {
        for domain in domains {
            let dir = Self.join(group, "mon_data/\(Self.domainName(domain))")
            for event in Self.events { try put(dir + "/" + event, "0\n") }
            for node in subdomains[domain] ?? [] {
                for event in Self.events { try put(dir + "/mon_sub_L3_\(Self.twoDigits(node))/" + event, "0\n") }
            }
        }
    }

    /// `mon_L3_XX`: the cache id zero-padded to at least two digits.
    public static func domainName(_ domain: Int) -> String { "mon_L3_" + twoDigits(domain) }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    // MARK: - Counters

    /// Sets a group's monitoring files in `domain` (nil leaves a file as is).
    /// Values are written as given: numbers, `Unavailable`, `Error`.
    /// `group` is the relative path ("" for root, `g`, `g/mon_groups/m`).
    public func setCounters(_ group: String, domain: Int, occupancy: String? = nil, total: String? = nil, local: String? = nil) throws(FakeTreeError) {
        let dir = Self.join(group, "mon_data/\(Self.domainName(domain))")
        for (event, value) in zip(Self.events, [occupancy, total, local]) {
            if let value { try put(dir + "/" + event, value + "\n") }
        }
    }

    /// Sets one SNC node's files and rewrites the L3 domain's files as the
    /// sum over its nodes (as the kernel reports them).
    public func setNodeCounters(_ group: String, domain: Int, node: Int, occupancy: UInt64, total: UInt64, local: UInt64) throws(FakeTreeError) {
        let dir = Self.join(group, "mon_data/\(Self.domainName(domain))")
        let nodeDir = dir + "/mon_sub_L3_\(Self.twoDigits(node))"
        for (event, value) in zip(Self.events, [occupancy, total, local]) { try put(nodeDir + "/" + event, "\(value)\n") }
        for event in Self.events {
            var sum: UInt64 = 0
            for other in subdomains[domain] ?? [] {
                sum += UInt64(try read("\(dir)/mon_sub_L3_\(Self.twoDigits(other))/\(event)").trimmingNewline()) ?? 0
            }
            try put(dir + "/" + event, "\(sum)\n")
        }
    }

    /// Reads one counter file's text (without the newline).
    public func counter(_ group: String, domain: Int, event: String) throws(FakeTreeError) -> String {
        try read(Self.join(group, "mon_data/\(Self.domainName(domain))/\(event)")).trimmingNewline()
    }

    // MARK: - Files

    /// The task ids listed in a group's `tasks` file, in file order.
    public func tasks(_ group: String) throws(FakeTreeError) -> [Int32] {
        try read(Self.join(group, "tasks")).split(separator: "\n").compactMap { Int32($0) }
    }

    /// Writes `text` to `relative` in place (creating directories and file).
    public func put(_ relative: String, _ text: String) throws(FakeTreeError) {
        let path = root + "/" + relative
        try Self.makeDirectories(String(path[..<path.lastIndex(of: "/")!]))
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FakeTreeError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var text = text
        let written = text.withUTF8 { write(fd, $0.baseAddress, $0.count) }
        guard written == text.utf8.count else { throw FakeTreeError(path: path, operation: "write", errno: errno) }
    }

    /// Reads `relative` (or an absolute path below the root).
    public func read(_ relative: String) throws(FakeTreeError) -> String {
        let path = relative.hasPrefix(root + "/") ? relative : root + "/" + relative
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FakeTreeError(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when `relative` exists.
    public func exists(_ relative: String) -> Bool { Self.exists(root + "/" + relative) }

    /// Removes the whole tree.
    public func destroy() {
        Self.removeTree(root)
    }

    // MARK: - Helpers

    static func join(_ group: String, _ rest: String) -> String { group.isEmpty ? rest : group + "/" + rest }

    static func makeDirectories(_ path: String) throws(FakeTreeError) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw FakeTreeError(path: current, operation: "mkdir", errno: errno)
            }
        }
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func list(_ path: String) throws(FakeTreeError) -> [String] {
        guard let dir = opendir(path) else { throw FakeTreeError(path: path, operation: "opendir", errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func removeTree(_ path: String) {
        if isDirectory(path) {
            for name in (try? list(path)) ?? [] { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// A failed file operation while building or changing a fake tree.
public struct FakeTreeError: Error, Sendable, CustomStringConvertible {
    /// The path.
    public var path: String
    /// `open`, `write`, `mkdir`, ...
    public var operation: String
    /// The errno.
    public var errno: Int32

    /// "fake resctrl: mkdir /tmp/x failed: No space left on device".
    public var description: String {
        "fake resctrl: \(operation) \(path) failed: \(String(cString: strerror(errno)))"
    }
}

extension String {
    func trimmingNewline() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// A new group's schemata: the root's, without the old kernels' padding.
    func replacingPadding() -> String {
        split(separator: "\n").map { line in
            line.split(separator: " ", omittingEmptySubsequences: true).joined()
        }.joined(separator: "\n") + "\n"
    }
}
