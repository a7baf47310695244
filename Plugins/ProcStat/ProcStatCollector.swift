import PluginABI
import PluginKit
import RDT4NNPluginSDK

/// Host-wide CPU time shares from `/proc/stat` and memory from `/proc/meminfo`.
///
/// CPU figures are per-interval: the share of the window each CPU state took,
/// from the difference of two `/proc/stat` snapshots (the first at `start`).
final class ProcStatCollector: Collector {
    static let metadata = PluginMetadata(
        id: "procstat",
        name: "Host CPU and memory (/proc)",
        version: "1.0.0",
        summary: "Host-wide CPU state shares from /proc/stat and memory use from /proc/meminfo, per interval.",
        features: ["linux"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "per_cpu": {"type": "boolean", "default": false,
                          "description": "Also emit one procstat_cpu sample per logical CPU (tag cpu)."},
              "proc_root": {"type": "string", "default": "/proc",
                            "description": "Where procfs is mounted (tests point it at a fixture tree)."}
            }}
            """,
        metricsSchemaJSON: """
            {"measurements": [
              {"name": "procstat", "tags": [], "fields": [
                {"name": "cpu_busy_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "100 - idle - iowait, all CPUs"},
                {"name": "cpu_user_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "user + nice"},
                {"name": "cpu_system_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "system + irq + softirq"},
                {"name": "cpu_iowait_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "iowait"},
                {"name": "cpu_steal_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "time stolen by the hypervisor"},
                {"name": "context_switches_per_second", "type": "f64", "unit": "1/s", "kind": "gauge", "description": "ctxt delta / window"},
                {"name": "procs_running", "type": "i64", "unit": "1", "kind": "gauge", "description": "runnable tasks"},
                {"name": "procs_blocked", "type": "i64", "unit": "1", "kind": "gauge", "description": "tasks blocked on I/O"},
                {"name": "memory_total_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "MemTotal"},
                {"name": "memory_available_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "MemAvailable"},
                {"name": "memory_used_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "MemTotal - MemAvailable"},
                {"name": "memory_cached_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "Cached"},
                {"name": "swap_used_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "SwapTotal - SwapFree"}
              ]},
              {"name": "procstat_cpu", "tags": ["cpu"], "fields": [
                {"name": "busy_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "100 - idle - iowait of this CPU"},
                {"name": "user_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "user + nice"},
                {"name": "system_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "system + irq + softirq"}
              ]}
            ]}
            """
    )

    private let perCPU: Bool
    private let procRoot: String
    private var previous: StatSnapshot?

    init(context: PluginContext) throws(PluginError) {
        perCPU = try context.bool("per_cpu") ?? false
        procRoot = try context.string("proc_root") ?? "/proc"
    }

    func start(context: PluginContext) throws(PluginError) {
        previous = try readStat(at: context.monotonicNanoseconds)
        _ = try readMeminfo()
    }

    func collect(context: PluginContext, window: CollectWindow) throws(PluginError) {
        let current = try readStat(at: window.endMonotonicNs)
        defer { previous = current }
        let memory = try readMeminfo()
        var samples: [PluginSample] = []
        var fields: [(key: String, value: PluginFieldValue)] = []
        if let previous, let shares = current.total.shares(since: previous.total) {
            fields += [
                ("cpu_busy_percent", .float(shares.busy)),
                ("cpu_user_percent", .float(shares.user)),
                ("cpu_system_percent", .float(shares.system)),
                ("cpu_iowait_percent", .float(shares.iowait)),
                ("cpu_steal_percent", .float(shares.steal)),
            ]
            let seconds = Double(current.monotonicNs - previous.monotonicNs) / 1e9
            if seconds > 0, current.contextSwitches >= previous.contextSwitches {
                fields.append(("context_switches_per_second", .float(Double(current.contextSwitches - previous.contextSwitches) / seconds)))
            }
            if perCPU {
                for (cpu, times) in current.perCPU.sorted(by: { $0.key < $1.key }) {
                    guard let before = previous.perCPU[cpu], let cpuShares = times.shares(since: before) else { continue }
                    samples.append(
                        PluginSample(
                            measurement: "procstat_cpu",
                            tags: [("cpu", String(cpu))],
                            fields: [("busy_percent", .float(cpuShares.busy)), ("user_percent", .float(cpuShares.user)), ("system_percent", .float(cpuShares.system))],
                            timestampNanoseconds: window.timestampNs
                        )
                    )
                }
            }
        }
        fields += [("procs_running", .integer(current.procsRunning)), ("procs_blocked", .integer(current.procsBlocked))]
        for (key, meminfoKey) in [("memory_total_bytes", "MemTotal"), ("memory_available_bytes", "MemAvailable"), ("memory_cached_bytes", "Cached")] {
            if let value = memory[meminfoKey] { fields.append((key, .integer(value))) }
        }
        if let total = memory["MemTotal"], let available = memory["MemAvailable"] {
            fields.append(("memory_used_bytes", .integer(total - available)))
        }
        if let swapTotal = memory["SwapTotal"], let swapFree = memory["SwapFree"] {
            fields.append(("swap_used_bytes", .integer(swapTotal - swapFree)))
        }
        samples.insert(PluginSample(measurement: "procstat", fields: fields, timestampNanoseconds: window.timestampNs), at: 0)
        if context.emit(samples) == .backpressure {
            context.logRateLimited(key: "backpressure", .warn, "host buffers full; dropped one interval of procstat samples")
        }
    }

    private func readStat(at monotonicNs: Int64) throws(PluginError) -> StatSnapshot {
        let path = "\(procRoot)/stat"
        guard let text = ProcFiles.read(path) else {
            throw .unsupported("cannot read \(path): \(ProcFiles.lastErrorDescription())")
        }
        guard let snapshot = StatSnapshot(parsing: text, monotonicNs: monotonicNs) else {
            throw .fatal("\(path) has no aggregate 'cpu' line; unexpected format")
        }
        return snapshot
    }

    /// meminfo values in bytes by key.
    private func readMeminfo() throws(PluginError) -> [String: Int64] {
        let path = "\(procRoot)/meminfo"
        guard let text = ProcFiles.read(path) else {
            throw .unsupported("cannot read \(path): \(ProcFiles.lastErrorDescription())")
        }
        var values: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            guard parts.count >= 2, let number = Int64(parts[1]) else { continue }
            let isKiB = parts.count >= 3 && parts[2] == "kB"
            values[String(parts[0])] = isKiB ? number * 1024 : number
        }
        guard values["MemTotal"] != nil else { throw .fatal("\(path) has no MemTotal line; unexpected format") }
        return values
    }
}

/// Jiffies per CPU state from one `cpu` line.
struct CPUTimes: Equatable {
    var user: UInt64, nice: UInt64, system: UInt64, idle: UInt64, iowait: UInt64, irq: UInt64, softirq: UInt64, steal: UInt64

    init?(fields: [Substring]) {
        let numbers = fields.compactMap { UInt64($0) }
        guard numbers.count >= 4 else { return nil }
        func at(_ i: Int) -> UInt64 { i < numbers.count ? numbers[i] : 0 }
        (user, nice, system, idle, iowait, irq, softirq, steal) = (at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7))
    }

    var total: UInt64 { user + nice + system + idle + iowait + irq + softirq + steal }

    /// Shares of the interval since `earlier`, in percent; nil when no time passed.
    func shares(since earlier: CPUTimes) -> (busy: Double, user: Double, system: Double, iowait: Double, steal: Double)? {
        guard total > earlier.total else { return nil }
        let span = Double(total - earlier.total)
        func share(_ now: UInt64, _ then: UInt64) -> Double { now >= then ? Double(now - then) / span * 100 : 0 }
        let idle = share(idle, earlier.idle)
        let iowait = share(iowait, earlier.iowait)
        return (
            max(0, 100 - idle - iowait),
            share(user + nice, earlier.user + earlier.nice),
            share(system + irq + softirq, earlier.system + earlier.irq + earlier.softirq),
            iowait,
            share(steal, earlier.steal)
        )
    }
}

/// One reading of `/proc/stat`.
struct StatSnapshot {
    var monotonicNs: Int64
    var total: CPUTimes
    var perCPU: [Int: CPUTimes] = [:]
    var contextSwitches: UInt64 = 0
    var procsRunning: Int64 = 0
    var procsBlocked: Int64 = 0

    init?(parsing text: String, monotonicNs: Int64) {
        self.monotonicNs = monotonicNs
        var aggregate: CPUTimes?
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let key = fields.first else { continue }
            switch key {
            case "cpu": aggregate = CPUTimes(fields: Array(fields.dropFirst()))
            case "ctxt": contextSwitches = fields.count > 1 ? UInt64(fields[1]) ?? 0 : 0
            case "procs_running": procsRunning = fields.count > 1 ? Int64(fields[1]) ?? 0 : 0
            case "procs_blocked": procsBlocked = fields.count > 1 ? Int64(fields[1]) ?? 0 : 0
            default:
                if key.hasPrefix("cpu"), let cpu = Int(key.dropFirst(3)), let times = CPUTimes(fields: Array(fields.dropFirst())) {
                    perCPU[cpu] = times
                }
            }
        }
        guard let aggregate else { return nil }
        total = aggregate
    }
}

/// The library's exports: one collector.
enum ProcStatLibrary {
    static let plugins: [ExportedPlugin] = [.collector(ProcStatCollector.self) { ProcStatCollector.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(ProcStatLibrary.plugins.count) },
        descriptor: { ProcStatLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    ProcStatLibrary.entry.pointer
}
