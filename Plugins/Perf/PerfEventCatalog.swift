import CPerfEvent

/// One countable event: what to pass to `perf_event_open` and how it is
/// reported.
struct PerfEventSpec: Sendable, Equatable {
    /// Which kind of PMU the event needs; decides grouping.
    enum Family: Sendable, Equatable {
        /// Kernel software events (no PMU; always schedulable).
        case software
        /// Generic hardware, hardware cache and raw PMU events.
        case hardware
    }

    /// The event's name in `perf list` spelling ("task-clock", "LLC-load-misses", "r412e").
    var name: String
    /// `perf_event_attr.type`.
    var type: UInt32
    /// `perf_event_attr.config`.
    var config: UInt64
    /// The field the count goes to ("task_clock_ns"); for a custom raw event the
    /// `event` tag value of a `perf_raw` sample.
    var field: String
    /// Prefix of the `<base>_enabled_ns` / `<base>_running_ns` fields.
    var timeBase: String
    /// UCUM unit of the count ("ns" or "1").
    var unit: String
    /// Help text for the metrics schema.
    var summary: String
    /// Software or hardware.
    var family: Family
    /// A `r<hex>` event given by code: reported in `perf_raw`, not as a `perf` field.
    var isCustomRaw: Bool = false
    /// Set when the raw code is only meaningful on one CPU vendor ("GenuineIntel").
    var vendor: String?

    /// `<base>_enabled_ns`.
    var enabledField: String { timeBase + "_enabled_ns" }
    /// `<base>_running_ns`.
    var runningField: String { timeBase + "_running_ns" }
}

/// Every event the collector knows by name, and the parser for `r<hex>`.
enum PerfEventCatalog {
    private static let hardware = UInt32(PERF_TYPE_HARDWARE.rawValue)
    private static let software = UInt32(PERF_TYPE_SOFTWARE.rawValue)
    private static let hardwareCache = UInt32(PERF_TYPE_HW_CACHE.rawValue)
    private static let raw = UInt32(PERF_TYPE_RAW.rawValue)

    /// The events in the default configuration: the software events plus the
    /// common hardware ones (dropped with one warning where unsupported).
    static let defaultEventNames = [
        "task-clock", "context-switches", "cpu-migrations", "page-faults",
        "cycles", "instructions", "cache-references", "cache-misses",
        "branches", "branch-misses", "stalled-cycles-frontend",
    ]

    /// All named events, in schema order.
    static let named: [PerfEventSpec] = softwareEvents + hardwareEvents + cacheEvents + intelStallEvents

    private static let softwareEvents: [PerfEventSpec] = [
        sw("task-clock", PERF_COUNT_SW_TASK_CLOCK, field: "task_clock_ns", unit: "ns", "CPU time the target's tasks ran (per-task clock), summed over CPUs"),
        sw("cpu-clock", PERF_COUNT_SW_CPU_CLOCK, field: "cpu_clock_ns", unit: "ns", "CPU time by the per-CPU clock while the target ran"),
        sw("context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES, field: "context_switches", "context switches"),
        sw("cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS, field: "cpu_migrations", "moves of a task to another CPU"),
        sw("page-faults", PERF_COUNT_SW_PAGE_FAULTS, field: "page_faults", "page faults (minor + major)"),
        sw("minor-faults", PERF_COUNT_SW_PAGE_FAULTS_MIN, field: "minor_faults", "minor page faults (no I/O)"),
        sw("major-faults", PERF_COUNT_SW_PAGE_FAULTS_MAJ, field: "major_faults", "major page faults (I/O)"),
        sw("alignment-faults", PERF_COUNT_SW_ALIGNMENT_FAULTS, field: "alignment_faults", "alignment faults"),
        sw("emulation-faults", PERF_COUNT_SW_EMULATION_FAULTS, field: "emulation_faults", "instruction emulation faults"),
    ]

    private static let hardwareEvents: [PerfEventSpec] = [
        hw("cycles", PERF_COUNT_HW_CPU_CYCLES, "CPU cycles (frequency-scaled)"),
        hw("instructions", PERF_COUNT_HW_INSTRUCTIONS, "instructions retired"),
        hw("cache-references", PERF_COUNT_HW_CACHE_REFERENCES, "cache references (about LLC accesses)"),
        hw("cache-misses", PERF_COUNT_HW_CACHE_MISSES, "cache misses (about LLC misses)"),
        hw("branches", PERF_COUNT_HW_BRANCH_INSTRUCTIONS, "branch instructions retired"),
        hw("branch-misses", PERF_COUNT_HW_BRANCH_MISSES, "mispredicted branches"),
        hw("bus-cycles", PERF_COUNT_HW_BUS_CYCLES, "bus cycles"),
        hw("ref-cycles", PERF_COUNT_HW_REF_CPU_CYCLES, "reference cycles (not frequency-scaled)"),
        hw("stalled-cycles-frontend", PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, "cycles the front end issued nothing"),
        hw("stalled-cycles-backend", PERF_COUNT_HW_STALLED_CYCLES_BACKEND, "cycles the back end retired nothing"),
    ]

    /// `<cache>-<op>s` (accesses) and `<cache>-<op>-misses`, as `perf list` names them.
    private static let cacheEvents: [PerfEventSpec] = {
        let caches: [(String, perf_hw_cache_id)] = [
            ("L1-dcache", PERF_COUNT_HW_CACHE_L1D), ("L1-icache", PERF_COUNT_HW_CACHE_L1I), ("LLC", PERF_COUNT_HW_CACHE_LL),
            ("dTLB", PERF_COUNT_HW_CACHE_DTLB), ("iTLB", PERF_COUNT_HW_CACHE_ITLB), ("branch", PERF_COUNT_HW_CACHE_BPU),
            ("node", PERF_COUNT_HW_CACHE_NODE),
        ]
        let ops: [(String, String, perf_hw_cache_op_id)] = [
            ("load", "loads", PERF_COUNT_HW_CACHE_OP_READ), ("store", "stores", PERF_COUNT_HW_CACHE_OP_WRITE),
            ("prefetch", "prefetches", PERF_COUNT_HW_CACHE_OP_PREFETCH),
        ]
        var events: [PerfEventSpec] = []
        for (cacheName, cacheID) in caches {
            for (op, plural, opID) in ops {
                let base = UInt64(cacheID.rawValue) | UInt64(opID.rawValue) << 8
                let access = "\(cacheName)-\(plural)"
                let miss = "\(cacheName)-\(op)-misses"
                events.append(cache(access, config: base | UInt64(PERF_COUNT_HW_CACHE_RESULT_ACCESS.rawValue) << 16, "\(cacheName) \(op) accesses"))
                events.append(cache(miss, config: base | UInt64(PERF_COUNT_HW_CACHE_RESULT_MISS.rawValue) << 16, "\(cacheName) \(op) misses"))
            }
        }
        return events
    }()

    /// The original tool's Intel stall events (Skylake and later encodings of
    /// `cycle_activity.*` and `resource_stalls.*`); refused on other vendors.
    private static let intelStallEvents: [PerfEventSpec] = [
        intel("cycle_activity.stalls_total", 0x4_0004a3, field: "stalls_total", "cycles with no uop executed (cycle_activity.stalls_total)"),
        intel("cycle_activity.stalls_l3_miss", 0x6_0006a3, field: "stalls_l3_miss", "stall cycles while an L3 miss is outstanding"),
        intel("cycle_activity.stalls_l2_miss", 0x5_0005a3, field: "stalls_l2_miss", "stall cycles while an L2 miss is outstanding"),
        intel("cycle_activity.stalls_l1d_miss", 0xc_000ca3, field: "stalls_l1d_miss", "stall cycles while an L1D miss is outstanding"),
        intel("cycle_activity.stalls_mem_any", 0x14_0014a3, field: "stalls_mem_any", "stall cycles while a memory load is outstanding"),
        intel("resource_stalls.sb", 0x8a2, field: "resource_stalls_sb", "stall cycles with the store buffer full"),
        intel("resource_stalls.scoreboard", 0x2a2, field: "resource_stalls_scoreboard", "stall cycles waiting on the scoreboard"),
    ]

    /// Other spellings accepted in configurations (keys already normalized).
    private static let aliases: [String: String] = [
        "cpu-cycles": "cycles", "branch-instructions": "branches", "ref-cpu-cycles": "ref-cycles",
        "faults": "page-faults", "cs": "context-switches", "migrations": "cpu-migrations",
        "idle-cycles-frontend": "stalled-cycles-frontend", "idle-cycles-backend": "stalled-cycles-backend",
        "llc-loads-misses": "llc-load-misses",
    ]

    /// Looks up a configured event name.  Case and `_`/`-` do not matter
    /// ("LLC_load_misses" = "LLC-load-misses"); the original tool's field names
    /// ("cpu_cycles", "branch_instructions", "stalls_total") work too;
    /// `r<hex>` (1–16 hex digits) is a raw PMU event.
    static func lookup(_ name: String) -> PerfEventSpec? {
        let key = normalize(name)
        if let event = named.first(where: { normalize($0.name) == key || normalize($0.field) == key }) { return event }
        if let target = aliases[key], let event = named.first(where: { normalize($0.name) == target }) { return event }
        return parseRaw(name)
    }

    /// `r<hex>` → a custom raw event reported in `perf_raw` under tag `event=r<hex>`.
    static func parseRaw(_ name: String) -> PerfEventSpec? {
        let lower = name.lowercased()
        guard lower.hasPrefix("r"), lower.count >= 2, lower.count <= 17 else { return nil }
        let digits = lower.dropFirst()
        guard digits.allSatisfy(\.isHexDigit), let code = UInt64(digits, radix: 16) else { return nil }
        let canonical = "r" + String(code, radix: 16)
        return PerfEventSpec(
            name: canonical, type: raw, config: code, field: canonical, timeBase: "", unit: "1",
            summary: "raw PMU event \(canonical)", family: .hardware, isCustomRaw: true
        )
    }

    /// Lowercased with `_` and `.` turned into `-`.
    static func normalize(_ name: String) -> String {
        String(name.lowercased().map { $0 == "_" || $0 == "." ? "-" : $0 })
    }

    private static func sw(_ name: String, _ id: perf_sw_ids, field: String, unit: String = "1", _ summary: String) -> PerfEventSpec {
        PerfEventSpec(
            name: name, type: software, config: UInt64(id.rawValue), field: field,
            timeBase: field.hasSuffix("_ns") ? String(field.dropLast(3)) : field, unit: unit, summary: summary, family: .software
        )
    }

    private static func hw(_ name: String, _ id: perf_hw_id, _ summary: String) -> PerfEventSpec {
        let field = fieldName(name)
        return PerfEventSpec(name: name, type: hardware, config: UInt64(id.rawValue), field: field, timeBase: field, unit: "1", summary: summary, family: .hardware)
    }

    private static func cache(_ name: String, config: UInt64, _ summary: String) -> PerfEventSpec {
        let field = fieldName(name)
        return PerfEventSpec(name: name, type: hardwareCache, config: config, field: field, timeBase: field, unit: "1", summary: summary, family: .hardware)
    }

    private static func intel(_ name: String, _ code: UInt64, field: String, _ summary: String) -> PerfEventSpec {
        PerfEventSpec(name: name, type: raw, config: code, field: field, timeBase: field, unit: "1", summary: summary, family: .hardware, vendor: "GenuineIntel")
    }

    /// "L1-dcache-load-misses" → "l1_dcache_load_misses".
    static func fieldName(_ name: String) -> String {
        String(name.lowercased().map { $0 == "-" || $0 == "." ? "_" : $0 })
    }
}
