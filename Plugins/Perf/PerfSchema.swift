import PluginABI

/// The perf collector's configuration and metrics schemas, generated from
/// the event catalog so that every field it can emit is declared.
enum PerfSchema {
    /// `config_schema_json`.
    static let configJSON: String = {
        let defaults = JSONValue.array(PerfEventCatalog.defaultEventNames.map { .string($0) })
        let properties: [(key: String, value: JSONValue)] = [
            ("events", .object([
                ("type", .string("array")),
                ("items", .object([("type", .string("string"))])),
                ("default", defaults),
                ("description", .string("Events to count, by perf name (task-clock, context-switches, cpu-migrations, page-faults, minor-faults, major-faults, cpu-clock, cycles, instructions, cache-references, cache-misses, branches, branch-misses, bus-cycles, ref-cycles, stalled-cycles-frontend, stalled-cycles-backend, L1-dcache-loads, LLC-load-misses, dTLB-load-misses, ...), the original tool's Intel stall events (stalls_total, stalls_l3_miss, stalls_l2_miss, stalls_l1d_miss, stalls_mem_any, resource_stalls_sb, resource_stalls_scoreboard), or a raw PMU code r<hex> (reported in perf_raw). Case and -/_ do not matter. Events the machine cannot count are reported once and left out.")),
            ])),
            ("mode", .object([
                ("type", .string("string")),
                ("enum", .array([.string("auto"), .string("cgroup"), .string("pid")])),
                ("default", .string("auto")),
                ("description", .string("cgroup: count every task of the container's perf_event cgroup, one group per online CPU. pid: count the container's main process (all its threads) with inherit; processes that already exist besides it are missed. auto: cgroup when the container's perf_event cgroup is found, else pid.")),
            ])),
            ("cgroup_root", .object([
                ("type", .string("string")),
                ("description", .string("Mount point of the cgroup hierarchy that holds perf_event (e.g. /sys/fs/cgroup/perf_event on cgroup v1, /sys/fs/cgroup on v2). Default: found in /proc/self/mountinfo.")),
            ])),
            ("max_hardware_group", .object([
                ("type", .string("integer")),
                ("minimum", .integer(1)),
                ("maximum", .integer(16)),
                ("default", .integer(4)),
                ("description", .string("Most hardware events per group; a group needing more counters than the PMU has never runs.")),
            ])),
        ]
        return JSONValue.object([("type", .string("object")), ("properties", .object(properties))]).jsonText
    }()

    /// `metrics_schema_json`: `perf` (one field triple per named event plus
    /// derived ratios) and `perf_raw` (one sample per raw `r<hex>` event).
    static let metricsJSON: String = {
        func field(_ name: String, _ type: String, _ unit: String, _ kind: String, _ description: String) -> JSONValue {
            .object([("name", .string(name)), ("type", .string(type)), ("unit", .string(unit)), ("kind", .string(kind)), ("description", .string(description))])
        }
        var fields: [JSONValue] = []
        for event in PerfEventCatalog.named {
            fields.append(field(event.field, "i64", event.unit, "delta", "\(event.name): \(event.summary); per-interval delta summed over CPUs, each CPU scaled by enabled/running; absent when not counted"))
            fields.append(field(event.enabledField, "i64", "ns", "delta", "time \(event.name) was enabled in the interval, summed over CPUs (cgroup and per-task events: time the target's tasks were on a CPU)"))
            fields.append(field(event.runningField, "i64", "ns", "delta", "time \(event.name) was on a counter in the interval, summed over CPUs (below enabled = multiplexed)"))
        }
        fields.append(field("ipc", "f64", "1", "gauge", "instructions / cycles in the interval"))
        fields.append(field("cache_miss_rate", "f64", "1", "gauge", "cache-misses / cache-references in the interval (0-1)"))
        fields.append(field("branch_miss_rate", "f64", "1", "gauge", "branch-misses / branches in the interval (0-1)"))
        fields.append(field("stalled_cycles_percent", "f64", "%", "gauge", "100 x stall cycles / cycles; stall cycles from stalls_total if counted, else stalled-cycles-backend, else stalled-cycles-frontend"))
        let raw: [JSONValue] = [
            field("count", "i64", "1", "delta", "the raw event's count in the interval, scaled for multiplexing; absent when not counted"),
            field("enabled_ns", "i64", "ns", "delta", "time the event was enabled in the interval, summed over CPUs"),
            field("running_ns", "i64", "ns", "delta", "time the event was on a counter in the interval, summed over CPUs"),
        ]
        let measurements: [JSONValue] = [
            .object([("name", .string("perf")), ("tags", .array([])), ("fields", .array(fields))]),
            .object([("name", .string("perf_raw")), ("tags", .array([.string("event")])), ("fields", .array(raw))]),
        ]
        return JSONValue.object([("measurements", .array(measurements))]).jsonText
    }()
}
