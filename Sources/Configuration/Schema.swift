/// The keys each section of a configuration accepts, and which format each comes from.
enum KeyFamily: Sendable {
    /// Accepted with the same meaning by every format.
    case shared
    /// From the original rdt4nn driver.
    case rdt4nn
    /// From container-bench.
    case containerBench
    /// rdt4nn's own additions.
    case native

    var format: ConfigFormat? {
        switch self {
        case .shared: nil
        case .rdt4nn: .rdt4nn
        case .containerBench: .containerBench
        case .native: .native
        }
    }
}

/// An ordered table of accepted keys.
typealias KeyTable = [(key: String, family: KeyFamily)]

enum Schema {
    /// Top-level keys that are not containers.
    static let topLevel: KeyTable = [
        ("benchmark", .shared), ("arrival", .containerBench), ("data", .containerBench), ("workloads", .containerBench),
    ]

    static let benchmark: KeyTable = [
        ("name", .shared), ("description", .shared), ("max_t", .shared), ("log_level", .shared),
        ("scheduler", .shared), ("data", .shared), ("docker", .shared),
        ("drain", .containerBench), ("pid_sync_interval", .containerBench), ("accounting", .containerBench),
        ("id_prefix", .native), ("interval_ms", .native), ("collectors", .native), ("sink", .native),
        ("plugins", .native), ("allow_shared_cores", .native),
    ]

    static let benchmarkData: KeyTable = [
        ("db", .shared), ("profilefrequency", .rdt4nn), ("rdt", .rdt4nn), ("perf", .rdt4nn), ("dockerstats", .rdt4nn),
    ]

    static let database: KeyTable = [
        ("host", .shared), ("name", .shared), ("user", .shared), ("password", .shared), ("org", .shared),
        ("version", .native), ("token", .native),
    ]

    static let docker: KeyTable = [("auth", .rdt4nn), ("registry", .containerBench)]
    static let dockerAuth: KeyTable = [("registry", .rdt4nn), ("username", .rdt4nn), ("password", .rdt4nn)]
    static let dockerRegistry: KeyTable = [("host", .containerBench), ("username", .containerBench), ("password", .containerBench)]
    static let accounting: KeyTable = [("log_level", .containerBench)]

    /// `benchmark.scheduler` (mapping form).
    static let scheduler: KeyTable = [
        ("implementation", .shared), ("rdt", .shared), ("config", .native),
        ("log_level", .containerBench), ("prober", .containerBench), ("allocator", .containerBench),
        ("force_move_for_priority_admission", .containerBench), ("evict_for_priority_admission", .containerBench),
        ("rebalance", .containerBench), ("rebalance_batch", .containerBench),
        ("max_l3", .containerBench), ("max_mem", .containerBench), ("probing_t", .containerBench),
        ("break_cpu_load", .containerBench), ("break_llc_occupancy", .containerBench), ("break_improvement", .containerBench),
        ("greedy_allocation", .containerBench), ("reallocate", .containerBench), ("allocate_unbound", .containerBench),
        ("skip_allocation_after_probing", .containerBench), ("break_condition", .containerBench),
        ("warmup_t", .containerBench), ("cooldown_t", .containerBench),
    ]

    static let prober: KeyTable = [
        "log_level", "implementation", "abortable", "isolated", "default_t", "warmup_t", "cooldown_t",
        "default_probe_cores", "probe_image", "allocate", "greedy_allocation", "min_l3", "max_l3", "step_l3",
        "min_mem", "max_mem", "mem_step", "order", "probing_t", "buffer_ways", "buffer_memory",
        "probing_frequency", "drop_outliers",
    ].map { ($0, KeyFamily.containerBench) }

    static let allocator: KeyTable = [
        "implementation", "target", "warmup_t", "duration", "step_size_l3", "step_size_mb", "min_l3_ways",
        "max_l3_ways", "min_mem_bandwidth", "max_mem_bandwidth", "force_reallocation", "isolate_others", "order",
        "break_on_efficiency",
    ].map { ($0, KeyFamily.containerBench) }

    /// `benchmark.sink` (mapping form).
    static let sink: KeyTable = [("id", .native), ("config", .native)]

    static let container: KeyTable = [
        ("image", .shared), ("index", .shared), ("port", .shared), ("core", .shared), ("command", .shared),
        ("start", .shared), ("stop", .shared), ("env", .shared),
        ("name", .containerBench), ("start_t", .containerBench), ("stop_t", .containerBench),
        ("expected_t", .containerBench), ("num_cores", .containerBench), ("environment", .containerBench),
        ("volumes", .containerBench), ("privileged", .containerBench), ("critical", .containerBench),
        ("priority", .containerBench), ("ipc", .containerBench), ("ipce", .containerBench), ("data", .containerBench),
        ("cpus", .native), ("memory", .native), ("cpuset_mems", .native), ("ports", .native), ("optional", .native),
        ("collectors", .native), ("interval_ms", .native), ("args", .native),
    ]

    /// A container's (or the top-level trace) `data:` block.
    static let containerData: KeyTable = [
        ("frequency", .containerBench), ("perf", .containerBench), ("docker", .containerBench), ("rdt", .containerBench),
    ]

    static let perfFlags = [
        "cache_misses", "cache_references", "instructions", "cycles", "branch_instructions", "branch_misses",
        "bus_cycles", "stalls_total", "stalls_l3_miss", "stalls_l2_miss", "stalls_l1d_miss", "stalls_mem_any",
        "resource_stalls_sb", "resource_stalls_scoreboard",
        "l1d_cache_load_misses", "l1d_cache_loads", "l1d_cache_stores", "l1i_cache_load_misses",
        "llc_load_misses", "llc_loads", "llc_store_misses", "llc_stores",
        "cache_miss_rate", "instructions_per_cycle", "stalled_cycles_percent",
    ]

    static let dockerFlags = [
        "assigned_cores", "cpu_usage_total", "cpu_usage_kernel", "cpu_usage_user", "cpu_usage_percent",
        "cpu_throttling", "memory_usage", "memory_limit", "memory_cache", "memory_rss", "memory_swap",
        "memory_usage_percent", "network_rx_bytes", "network_tx_bytes", "disk_read_bytes", "disk_write_bytes",
    ]

    static let rdtFlags = [
        "l3_cache_occupancy", "memory_bandwidth_total", "memory_bandwidth_local", "rdt_class_name", "mon_group_name",
        "l3_cache_allocation", "l3_cache_allocation_pct", "mba_throttle", "cache_llc_utilization_percent",
        "bandwidth_utilization_percent",
    ]

    static let arrival: KeyTable = [
        ("seed", .containerBench), ("mean", .containerBench), ("sigma", .containerBench), ("length", .containerBench),
        ("split", .containerBench), ("sensitivities", .containerBench), ("sensetivities", .containerBench),
        ("priority_split", .containerBench), ("priorities", .containerBench),
    ]

    static let arrivalLength: KeyTable = [
        ("mean", .containerBench), ("sigma", .containerBench), ("min", .containerBench), ("max", .containerBench),
    ]

    static let workloadTemplate: KeyTable = [
        ("image", .containerBench), ("command", .containerBench), ("num_cores", .containerBench),
        ("critical", .containerBench), ("priority", .containerBench), ("ipc", .containerBench), ("ipce", .containerBench),
        ("kind", .containerBench), ("sensitivity", .containerBench),
    ]

    /// The scheduler names of the original tools (kept verbatim in plans).
    static let originalSchedulers = [
        "default", "rdt", "adaptive", "least_loaded", "probe", "allocation", "probe_allocation",
        "interference_aware", "dynamic", "dynamic_v2", "dynamic_v3", "dynamic-v3",
    ]
}
