import FoundationEssentials
import SystemSupport
import PluginABI

/// What the machine is, for `metadata.json` and `benchmark_meta`.
public struct HostFacts: Sendable, Equatable {
    public var hostname: String
    public var cpuModel: String
    public var sockets: Int
    public var physicalCores: Int
    public var logicalCPUs: Int
    /// Last-level cache size in bytes and its associativity (ways), when sysfs tells.
    public var l3SizeBytes: Int64?
    public var l3Ways: Int?
    public var kernel: String
    /// "v1", "v2" or "hybrid".
    public var cgroupVersion: String
    /// CPU flags relevant to RDT that are present (rdt_a, cat_l3, cdp_l3, mba, cqm_llc, cqm_mbm_total, cqm_mbm_local).
    public var rdtFlags: [String]
    /// Whether resctrl is mounted at /sys/fs/resctrl.
    public var resctrlMounted: Bool
    /// /proc/sys/kernel/perf_event_paranoid, when readable.
    public var perfEventParanoid: Int?
    /// Whether the v1 perf_event cgroup controller (or v2) is available for per-container counting.
    public var perfCgroupAvailable: Bool

    /// Reads the facts from `/proc` and `/sys` under `root` ("" = the real machine).
    public static func read(root: String = "") -> HostFacts {
        func text(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }
        func trimmed(_ path: String) -> String? { text(path)?.trimmingWhitespaceAndNewlines() }

        let cpuinfo = text("/proc/cpuinfo") ?? ""
        var model = "unknown"
        var flags: Set<String> = []
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingWhitespace() }
            guard parts.count == 2 else { continue }
            if parts[0] == "model name" && model == "unknown" { model = parts[1] }
            if parts[0] == "flags" && flags.isEmpty { flags = Set(parts[1].split(separator: " ").map(String.init)) }
        }
        let online = (try? CPUList(parsing: trimmed("/sys/devices/system/cpu/online") ?? "")) ?? CPUList([])
        var packages = Set<String>()
        var cores = Set<String>()
        for cpu in online.cpus {
            let package = trimmed("/sys/devices/system/cpu/cpu\(cpu)/topology/physical_package_id") ?? "0"
            let core = trimmed("/sys/devices/system/cpu/cpu\(cpu)/topology/core_id") ?? "\(cpu)"
            packages.insert(package)
            cores.insert("\(package)/\(core)")
        }
        var l3Size: Int64?
        var l3Ways: Int?
        for index in 0..<8 {
            let base = "/sys/devices/system/cpu/cpu\(online.cpus.first ?? 0)/cache/index\(index)"
            guard let level = trimmed(base + "/level") else { continue }
            if level == "3" {
                l3Size = trimmed(base + "/size").flatMap(Self.parseCacheSize)
                l3Ways = trimmed(base + "/ways_of_associativity").flatMap { Int($0) }
            }
        }
        let mounts = text("/proc/self/mounts") ?? ""
        let hasCgroup2Root = mounts.split(separator: "\n").contains { $0.contains(" /sys/fs/cgroup cgroup2 ") }
        let hasCgroup2Anywhere = mounts.contains(" cgroup2 ")
        let hasV1 = mounts.split(separator: "\n").contains { $0.hasPrefix("cgroup ") }
        let cgroup = hasCgroup2Root ? "v2" : (hasV1 && hasCgroup2Anywhere ? "hybrid" : "v1")
        let perfCgroup = hasCgroup2Root || mounts.split(separator: "\n").contains { $0.hasPrefix("cgroup ") && $0.contains("perf_event") }
        let rdtNames = ["rdt_a", "cat_l3", "cdp_l3", "cat_l2", "mba", "cqm", "cqm_llc", "cqm_occup_llc", "cqm_mbm_total", "cqm_mbm_local"]
        return HostFacts(
            hostname: ProcessInfo.processInfo.hostName,
            cpuModel: model,
            sockets: max(1, packages.count),
            physicalCores: cores.count,
            logicalCPUs: online.cpus.count,
            l3SizeBytes: l3Size,
            l3Ways: l3Ways,
            kernel: trimmed("/proc/sys/kernel/osrelease") ?? "unknown",
            cgroupVersion: cgroup,
            rdtFlags: rdtNames.filter { flags.contains($0) },
            resctrlMounted: mounts.split(separator: "\n").contains { $0.contains(" /sys/fs/resctrl resctrl ") },
            perfEventParanoid: trimmed("/proc/sys/kernel/perf_event_paranoid").flatMap { Int($0) },
            perfCgroupAvailable: perfCgroup
        )
    }

    /// "32768K" / "30M" → bytes.
    static func parseCacheSize(_ text: String) -> Int64? {
        let unit = text.last.map(String.init)?.uppercased()
        let multiplier: Int64 = unit == "K" ? 1024 : unit == "M" ? 1024 * 1024 : unit == "G" ? 1 << 30 : 1
        let digits = multiplier == 1 ? text : String(text.dropLast())
        return Int64(digits).map { $0 * multiplier }
    }

    /// The facts as JSON for `metadata.json`.
    public var json: JSONValue {
        .object([
            ("hostname", .string(hostname)),
            ("cpu_model", .string(cpuModel)),
            ("sockets", .integer(Int64(sockets))),
            ("physical_cores", .integer(Int64(physicalCores))),
            ("logical_cpus", .integer(Int64(logicalCPUs))),
            ("l3_size_bytes", l3SizeBytes.map { .integer($0) } ?? .null),
            ("l3_ways", l3Ways.map { .integer(Int64($0)) } ?? .null),
            ("kernel", .string(kernel)),
            ("cgroup_version", .string(cgroupVersion)),
            ("rdt_cpu_flags", .array(rdtFlags.map { .string($0) })),
            ("rdt_supported", .bool(!rdtFlags.isEmpty)),
            ("resctrl_mounted", .bool(resctrlMounted)),
            ("perf_event_paranoid", perfEventParanoid.map { .integer(Int64($0)) } ?? .null),
            ("perf_cgroup_available", .bool(perfCgroupAvailable)),
        ])
    }
}
