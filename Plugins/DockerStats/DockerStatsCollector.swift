import Cgroups
import PluginABI
import PluginKit
import RDT4NNPluginSDK

/// Per-container resource statistics read straight from the container's
/// cgroup files and `/proc/<pid>/net/dev` — the numbers `docker stats`
/// shows, without asking the daemon (whose stats call takes one to two
/// seconds and a lot of daemon CPU per sample).
///
/// `start` locates the cgroup directories of the target's main process
/// (`/proc/<pid>/cgroup` plus the mount table; v1, hybrid and v2) and opens
/// every file once; each `collect` re-reads them in place.  CPU % uses the
/// docker CLI's formula over the real window between two reads.
final class DockerStatsCollector: Collector {
    static let metadata = PluginMetadata(
        id: "dockerstats",
        name: "Container resource statistics (cgroups)",
        version: "1.0.0",
        summary: "Per-container CPU, memory, pids, block I/O and network counters read from the container's cgroup files and /proc/<pid>/net/dev, matching docker stats. With the option detail_interval_ms, the memory breakdown, block I/O and network fields come once per that interval and are absent in between.",
        features: ["linux", "cgroup-v1", "cgroup-v2"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "cgroup_root": {"type": "string", "default": "/sys/fs/cgroup",
                              "description": "Where the cgroup hierarchy is; mount points below /sys/fs/cgroup in mountinfo are looked up here instead (tests point it at a fixture tree)."},
              "proc_root": {"type": "string", "default": "/proc",
                            "description": "Where procfs is mounted (tests point it at a fixture tree)."},
              "detail_interval_ms": {"type": "integer", "default": 0, "minimum": 0, "maximum": 3600000,
                                     "description": "Read the memory breakdown (limit, cache, rss, swap, working set, memory %), block I/O and network counters only on the first collection at or after each multiple of this interval (the same ticks for every container); the other collections carry CPU, memory usage and pids, and the detail fields are absent there, never repeated. Halves the files read per container and tick (cgroup v1: 5 instead of 10), which matters when CPUs idle between ticks and every read is cold. 0: every collection."}
            }}
            """,
        metricsSchemaJSON: """
            {"measurements": [
              {"name": "docker_stats", "tags": [], "fields": [
                {"name": "cpu_usage_ns", "type": "i64", "unit": "ns", "kind": "counter", "description": "CPU time used by the container since it started (v1 cpuacct.usage; v2 cpu.stat usage_usec)"},
                {"name": "cpu_user_ns", "type": "i64", "unit": "ns", "kind": "counter", "description": "user-mode CPU time (v1 cpuacct.stat user, USER_HZ resolution; v2 user_usec)"},
                {"name": "cpu_kernel_ns", "type": "i64", "unit": "ns", "kind": "counter", "description": "kernel-mode CPU time (v1 cpuacct.stat system, USER_HZ resolution; v2 system_usec)"},
                {"name": "cpu_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "docker stats CPU %: delta container CPU / delta host CPU (/proc/stat) x online CPUs x 100 since the previous collection (absent on the first after a start); 100 = one CPU; /proc/stat counts in 1/USER_HZ ticks, coarse below 1 s"},
                {"name": "cpu_wall_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "delta container CPU / delta CLOCK_MONOTONIC between the reads of the usage counter x 100, since the previous collection (absent on the first after a start); 100 = one CPU. The kernel charges a running task at scheduler ticks, so one window may be off by up to one tick of CPU time (4 ms at CONFIG_HZ=250, 8 % of a 50 ms window); the error does not add up over windows"},
                {"name": "cpu_periods", "type": "i64", "unit": "1", "kind": "counter", "description": "CFS quota enforcement periods elapsed (nr_periods; only with a CPU quota)"},
                {"name": "cpu_throttled_periods", "type": "i64", "unit": "1", "kind": "counter", "description": "periods in which the container was throttled (nr_throttled)"},
                {"name": "cpu_throttled_ns", "type": "i64", "unit": "ns", "kind": "counter", "description": "time the container was throttled (v1 throttled_time; v2 throttled_usec)"},
                {"name": "memory_usage_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "charged memory including page cache (v1 memory.usage_in_bytes; v2 memory.current)"},
                {"name": "memory_limit_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "memory limit; the host's MemTotal when unlimited or larger, as docker stats reports it"},
                {"name": "memory_cache_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "page cache (v1 memory.stat total_cache; v2 file)"},
                {"name": "memory_rss_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "anonymous memory (v1 memory.stat total_rss; v2 anon)"},
                {"name": "memory_swap_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "swap used (v1 memory.stat total_swap or memsw - usage; v2 memory.swap.current); absent without swap accounting"},
                {"name": "memory_working_set_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "usage - inactive_file (docker stats MEM USAGE)"},
                {"name": "memory_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "working set / memory_limit_bytes x 100 (docker stats MEM %)"},
                {"name": "pids", "type": "i64", "unit": "1", "kind": "gauge", "description": "tasks (processes and threads) in the container (pids.current)"},
                {"name": "blkio_read_bytes", "type": "i64", "unit": "By", "kind": "counter", "description": "bytes read from block devices, all devices (v1 blkio.throttle.io_service_bytes; v2 io.stat rbytes)"},
                {"name": "blkio_write_bytes", "type": "i64", "unit": "By", "kind": "counter", "description": "bytes written to block devices (v1 blkio.throttle.io_service_bytes; v2 io.stat wbytes)"},
                {"name": "blkio_read_ops", "type": "i64", "unit": "1", "kind": "counter", "description": "read operations (v1 blkio.throttle.io_serviced; v2 io.stat rios)"},
                {"name": "blkio_write_ops", "type": "i64", "unit": "1", "kind": "counter", "description": "write operations (v1 blkio.throttle.io_serviced; v2 io.stat wios)"},
                {"name": "network_rx_bytes", "type": "i64", "unit": "By", "kind": "counter", "description": "bytes received on the container's interfaces except lo (/proc/<pid>/net/dev); absent when it shares the host's network namespace"},
                {"name": "network_tx_bytes", "type": "i64", "unit": "By", "kind": "counter", "description": "bytes sent on the container's interfaces except lo"},
                {"name": "network_rx_packets", "type": "i64", "unit": "1", "kind": "counter", "description": "packets received on the container's interfaces except lo"},
                {"name": "network_tx_packets", "type": "i64", "unit": "1", "kind": "counter", "description": "packets sent on the container's interfaces except lo"}
              ]}
            ]}
            """,
        capabilities: RDT4NN_CAP_PER_CONTAINER
    )

    /// `/proc/stat` read once per tick for every container of the run.
    private static let hostStat = SharedHostStat()

    private let filesystem: CgroupFilesystem
    /// Detail fields are read at most once per this many ns (0: every collection).
    private let detailIntervalNs: Int64
    /// The tick (monotonic ns) from which the next collection reads the detail fields.
    private var nextDetailNs: Int64 = .min
    private var session: Session?
    /// Host MemTotal, the limit docker reports for an unlimited container.
    private var memoryTotalBytes: UInt64?
    /// The previous CPU reading, for the percentages.
    private var previous: CPUReading?
    /// Reused between collections (keeps its capacity).
    private var fields: [(key: String, value: PluginFieldValue)] = []

    /// The open readers of one container process.
    private struct Session {
        var pid: Int32
        var name: String
        var cgroup: CgroupStatsReader
        var network: NetworkDeviceReader?

        func close() {
            cgroup.close()
            network?.close()
        }
    }

    /// Container and host CPU time at one instant.
    struct CPUReading {
        var containerNs: UInt64
        var hostNs: UInt64
        var monotonicNs: Int64
        var onlineCPUs: Int
    }

    init(context: PluginContext) throws(PluginError) {
        let cgroupRoot = try context.string("cgroup_root") ?? CgroupFilesystem.conventionalRoot
        let procRoot = try context.string("proc_root") ?? "/proc"
        for (key, value) in [("cgroup_root", cgroupRoot), ("proc_root", procRoot)] where !value.hasPrefix("/") {
            throw .config("\(key) must be an absolute path, got '\(value)'")
        }
        filesystem = CgroupFilesystem(procRoot: procRoot, cgroupRoot: cgroupRoot)
        detailIntervalNs = (try context.integer("detail_interval_ms") ?? 0) * 1_000_000
        fields.reserveCapacity(32)
    }

    func start(context: PluginContext) throws(PluginError) {
        closeSession()
        let target = context.target
        if target.isHost {
            throw .unsupported("dockerstats observes containers, but this instance observes the host: enable it in a container's collectors")
        }
        if memoryTotalBytes == nil {
            do {
                memoryTotalBytes = try HostStatReader.memoryTotalBytes(procRoot: filesystem.procRoot)
            } catch {
                throw .unsupported("cannot read the host's memory size: \(error)")
            }
        }
        try openSession(context: context, target: target)
    }

    func collect(context: PluginContext, window: CollectWindow) throws(PluginError) {
        if session == nil {
            // The container went away earlier; it may run again under a new pid.
            try openSession(context: context, target: context.target)
        }
        guard let session else { return }
        // Detail fields on the grid of the detail interval: the same ticks for every container.
        let detail = window.endMonotonicNs >= nextDetailNs
        if detail, detailIntervalNs > 0 {
            nextDetailNs = (window.endMonotonicNs / detailIntervalNs + 1) * detailIntervalNs
        }
        let stats: CgroupStats
        let network: NetworkStats?
        let host: HostCPUTime
        do {
            if detail {
                stats = try session.cgroup.read(pidsLimit: false)  // the limit is not reported
                network = try session.network?.read()
            } else {
                let cgroup = session.cgroup
                stats = CgroupStats(
                    cpu: try cgroup.readCPU(), memory: MemoryStats(usageBytes: try cgroup.readMemoryUsage()),
                    pids: try cgroup.readPids(limit: false), blockIO: BlockIOStats())
                network = nil
            }
            host = try Self.hostStat.read(procRoot: filesystem.procRoot, tickNs: window.endMonotonicNs)
        } catch {
            closeSession()
            throw pluginError(error, name: session.name, pid: session.pid)
        }

        fields.removeAll(keepingCapacity: true)
        let cpu = stats.cpu
        add("cpu_usage_ns", cpu.usageNanoseconds)
        add("cpu_user_ns", cpu.userNanoseconds)
        add("cpu_kernel_ns", cpu.systemNanoseconds)
        // Percentages cover the window between two collections (one sampling
        // interval): none on the first collection after a (re)start, whose
        // window would begin at an arbitrary moment and could be so short that
        // the kernel's tick-granular charging dominates it.
        if let usage = cpu.usageNanoseconds, let readAt = cpu.usageMonotonicNanoseconds {
            let current = CPUReading(containerNs: usage, hostNs: host.totalNanoseconds, monotonicNs: readAt, onlineCPUs: host.onlineCPUs)
            if let previous, let percents = Self.percents(from: previous, to: current) {
                if let docker = percents.docker { fields.append(("cpu_percent", .float(docker))) }
                if let wall = percents.wall { fields.append(("cpu_wall_percent", .float(wall))) }
            }
            previous = current
        }
        add("cpu_periods", cpu.periods)
        add("cpu_throttled_periods", cpu.throttledPeriods)
        add("cpu_throttled_ns", cpu.throttledNanoseconds)

        let memory = stats.memory
        add("memory_usage_bytes", memory.usageBytes)
        if detail {
            let limit = Self.effectiveLimit(memory.limit, memoryTotal: memoryTotalBytes)
            add("memory_limit_bytes", limit)
            add("memory_cache_bytes", memory.cacheBytes)
            add("memory_rss_bytes", memory.rssBytes)
            add("memory_swap_bytes", memory.swapBytes)
            add("memory_working_set_bytes", memory.workingSetBytes)
            if let used = memory.workingSetBytes, let limit, limit > 0 {
                fields.append(("memory_percent", .float(Double(used) / Double(limit) * 100)))
            }
        }
        add("pids", stats.pids.current)
        add("blkio_read_bytes", stats.blockIO.readBytes)
        add("blkio_write_bytes", stats.blockIO.writeBytes)
        add("blkio_read_ops", stats.blockIO.readOps)
        add("blkio_write_ops", stats.blockIO.writeOps)
        if let network {
            add("network_rx_bytes", network.rxBytes)
            add("network_tx_bytes", network.txBytes)
            add("network_rx_packets", network.rxPackets)
            add("network_tx_packets", network.txPackets)
        }
        guard !fields.isEmpty else {
            throw .unsupported("no statistics file of container '\(session.name)' is readable under \(filesystem.cgroupRoot)")
        }
        let sample = PluginSample(measurement: "docker_stats", fields: fields, timestampNanoseconds: window.timestampNs)
        if context.emit([sample]) == .backpressure {
            context.logRateLimited(key: "backpressure", .warn, "host buffers full; dropped one docker_stats sample")
        }
    }

    func stop(context: PluginContext) {
        closeSession()
    }

    // MARK: - Helpers

    private func openSession(context: PluginContext, target: ObservedTarget) throws(PluginError) {
        let name = target.name.isEmpty ? "container" : target.name
        guard target.pid > 0 else {
            throw .retry("container '\(name)' is not running yet (no pid); will retry")
        }
        let pid = target.pid
        do {
            let location = try filesystem.locate(pid: pid)
            let cgroup = try CgroupStatsReader(location: location)
            var network: NetworkDeviceReader?
            if NetworkDeviceReader.sharesNetworkNamespace(procRoot: filesystem.procRoot, pid: pid) == true {
                context.log(.info, "container '\(name)' shares the host's network namespace: network counters would be the host's and are not reported")
            } else {
                network = try NetworkDeviceReader(procRoot: filesystem.procRoot, pid: pid)
            }
            session = Session(pid: pid, name: name, cgroup: cgroup, network: network)
            let directories = location.v1Directories.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            context.log(.debug, "container '\(name)' pid \(pid): cgroup \(location.mode), \((directories + (location.unifiedDirectory.map { ["unified=\($0)"] } ?? [])).joined(separator: " "))")
        } catch {
            closeSession()
            throw pluginError(error, name: name, pid: pid)
        }
    }

    private func closeSession() {
        session?.close()
        session = nil
        previous = nil
        nextDetailNs = .min  // a reopened container gets its detail fields at once
    }

    private func add(_ key: String, _ value: UInt64?) {
        if let value { fields.append((key, .integer(Int64(clamping: value)))) }
    }

    private func pluginError(_ error: CgroupError, name: String, pid: Int32) -> PluginError {
        switch error {
        case .gone:
            .retry("container '\(name)' (pid \(pid)) is gone or stopped: \(error); will retry")
        case .permission:
            .permission("\(error)")
        case .notMounted, .malformed:
            .unsupported("\(error)")
        case .io:
            .retry("\(error)")
        }
    }

    /// docker CLI CPU % and the wall-clock variant; nil members when a delta is not positive.
    static func percents(from previous: CPUReading, to current: CPUReading) -> (docker: Double?, wall: Double?)? {
        guard current.containerNs >= previous.containerNs else { return nil }  // counter reset: new cgroup
        let cpuDelta = Double(current.containerNs - previous.containerNs)
        var docker: Double?
        if current.hostNs > previous.hostNs, current.onlineCPUs > 0 {
            docker = cpuDelta / Double(current.hostNs - previous.hostNs) * Double(current.onlineCPUs) * 100
        }
        var wall: Double?
        if current.monotonicNs > previous.monotonicNs {
            wall = cpuDelta / Double(current.monotonicNs - previous.monotonicNs) * 100
        }
        return (docker, wall)
    }

    /// The limit docker reports: the cgroup limit, or MemTotal when unlimited or larger.
    static func effectiveLimit(_ limit: CgroupLimit?, memoryTotal: UInt64?) -> UInt64? {
        switch limit {
        case .none: return nil
        case .unlimited: return memoryTotal
        case .limited(let bytes):
            if let memoryTotal, bytes > memoryTotal { return memoryTotal }
            return bytes
        }
    }
}

/// The library's exports: one collector.
enum DockerStatsLibrary {
    static let plugins: [ExportedPlugin] = [.collector(DockerStatsCollector.self) { DockerStatsCollector.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(DockerStatsLibrary.plugins.count) },
        descriptor: { DockerStatsLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    DockerStatsLibrary.entry.pointer
}
