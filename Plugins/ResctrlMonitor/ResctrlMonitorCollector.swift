import PluginABI
import PluginKit
import RDT4NNPluginSDK
import Resctrl

/// Per-container resctrl monitoring: LLC occupancy and memory bandwidth (MBM)
/// of one container, in every L3 domain.
///
/// `start` creates one MON group, `<group_prefix>-<container name>-<12-hex
/// id>`, in the `mon_groups/` of the CTRL_MON group that holds the
/// container's main process (the root group unless a scheduler gave the
/// container its own), and writes every thread of the container into it, one
/// TID per `write(2)`.  Threads are re-synced every `sync_interval_ms` (new
/// threads, short-lived ones: ESRCH is normal).  `collect` reads
/// `llc_occupancy`, `mbm_total_bytes` and `mbm_local_bytes` of every domain
/// and emits occupancy and bandwidth (bytes/s from the deltas over the real
/// time between two reads; a counter that goes down is a reset and its
/// interval is dropped).  `Unavailable`/`Error` values are left out, never
/// zero.  `stop` removes the group; `rdt4nn cleanup` removes groups a crashed
/// run left behind (prefix `rdt4nn-`).
///
/// Monitoring only: allocation (schemata, CTRL_MON groups) is the schedulers'.
final class ResctrlMonitorCollector: Collector {
    static let metadata = PluginMetadata(
        id: "resctrl",
        name: "resctrl monitoring (LLC occupancy, memory bandwidth)",
        version: "1.0.0",
        summary: "Per-container LLC occupancy and MBM memory bandwidth from resctrl monitoring groups, per L3 domain and summed.",
        features: ["linux", "needs-root", "resctrl"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "root": {"type": "string", "default": "/sys/fs/resctrl",
                       "description": "Where resctrl is mounted (tests point it at a fake tree)."},
              "sync_interval_ms": {"type": "integer", "default": 100, "minimum": 0, "maximum": 60000,
                                   "description": "How often the container's threads are written into its monitoring group again (new threads); 0 = every collect."},
              "group_prefix": {"type": "string", "default": "rdt4nn",
                               "description": "Prefix of the monitoring group's name (<prefix>-<container>-<id>); 'rdt4nn cleanup' removes groups starting with 'rdt4nn-'."},
              "per_domain": {"type": "boolean", "default": true,
                             "description": "Also emit one rdt_domain sample per L3 domain (tag domain)."}
            }}
            """,
        metricsSchemaJSON: """
            {"measurements": [
              {"name": "rdt", "tags": [], "fields": [
                {"name": "llc_occupancy_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "LLC occupancy summed over all L3 domains; absent unless every domain reported it"},
                {"name": "mbm_total_bytes_per_second", "type": "f64", "unit": "By/s", "kind": "gauge", "description": "Memory bandwidth (mbm_total_bytes delta / real elapsed time) summed over all L3 domains; absent unless every domain gave a rate"},
                {"name": "mbm_local_bytes_per_second", "type": "f64", "unit": "By/s", "kind": "gauge", "description": "Local-node memory bandwidth (mbm_local_bytes) summed over all L3 domains"},
                {"name": "mbm_remote_bytes_per_second", "type": "f64", "unit": "By/s", "kind": "gauge", "description": "max(total - local, 0)"},
                {"name": "monitored_threads", "type": "i64", "unit": "1", "kind": "gauge", "description": "Threads of the container in its monitoring group after the last sync"}
              ]},
              {"name": "rdt_domain", "tags": ["domain"], "fields": [
                {"name": "llc_occupancy_bytes", "type": "i64", "unit": "By", "kind": "gauge", "description": "LLC occupancy in this L3 domain (tag domain = L3 cache id)"},
                {"name": "mbm_total_bytes_per_second", "type": "f64", "unit": "By/s", "kind": "gauge", "description": "Memory bandwidth of this L3 domain"},
                {"name": "mbm_local_bytes_per_second", "type": "f64", "unit": "By/s", "kind": "gauge", "description": "Local-node memory bandwidth of this L3 domain"},
                {"name": "mbm_remote_bytes_per_second", "type": "f64", "unit": "By/s", "kind": "gauge", "description": "max(total - local, 0) in this L3 domain"}
              ]}
            ]}
            """,
        capabilities: RDT4NN_CAP_PER_CONTAINER
    )

    private let rootPath: String
    private let syncIntervalNs: Int64
    private let groupPrefix: String
    private let perDomain: Bool

    private var filesystem: ResctrlFilesystem?
    private var events: [MonitorEvent] = []
    private var group: ResctrlGroup?
    private var threads: ContainerThreads?
    private var reader: MonitorReader?
    private var tracker = BandwidthTracker()
    private var lastSyncNs: Int64 = .min
    private var monitoredThreads: Int?
    private var exitedThreads = 0
    private var containerLabel = ""

    init(context: PluginContext) throws(PluginError) {
        rootPath = try context.string("root") ?? ResctrlFilesystem.defaultRoot
        let interval = try context.integer("sync_interval_ms") ?? 100
        guard (0...60_000).contains(interval) else { throw .config("'sync_interval_ms' must be between 0 and 60000, not \(interval)") }
        syncIntervalNs = interval * 1_000_000
        groupPrefix = try context.string("group_prefix") ?? "rdt4nn"
        guard !groupPrefix.isEmpty, !groupPrefix.contains("/"), !groupPrefix.contains("\n") else {
            throw .config("'group_prefix' must be a non-empty directory name part without '/' (got '\(groupPrefix)')")
        }
        perDomain = try context.bool("per_domain") ?? true
        guard !rootPath.isEmpty else { throw .config("'root' must not be empty") }
    }

    func start(context: PluginContext) throws(PluginError) {
        if group != nil { return }
        let target = context.target
        guard !target.isHost else {
            throw .unsupported("resctrl monitoring observes containers, but this instance observes the host: enable it in a container's collectors")
        }
        guard target.pid > 0 else {
            throw .retry("container '\(target.name)' has no process yet (pid 0); its monitoring group is created once it runs")
        }
        containerLabel = "container '\(target.name)'"
        let filesystem: ResctrlFilesystem
        do {
            filesystem = try ResctrlFilesystem(root: rootPath)
        } catch {
            if case .notMounted = error {
                throw .unsupported("resctrl is not mounted at \(rootPath) (mount -t resctrl resctrl \(rootPath)) or the CPU has no RDT monitoring")
            }
            throw Self.pluginError(error)
        }
        let features: ResctrlFeatures
        do {
            features = try filesystem.features()
        } catch {
            throw Self.pluginError(error)
        }
        guard let monitoring = features.monitoring else {
            throw .unsupported("\(rootPath)/info has no L3_MON: the CPU or kernel has no L3 monitoring (cqm_llc, cqm_mbm_*)")
        }
        events = MonitorEvent.allCases.filter(monitoring.supports)
        guard !events.isEmpty else {
            throw .unsupported("\(rootPath)/info/L3_MON/mon_features lists none of llc_occupancy, mbm_total_bytes, mbm_local_bytes")
        }
        if !filesystem.isKernel {
            context.log(.warn, "\(rootPath) is not a resctrl mount; using it as a fake resctrl tree (tests only)")
        }
        self.filesystem = filesystem
        let (threads, note) = ContainerThreads.locate(pid: target.pid)
        if let note { context.log(.warn, "\(containerLabel): \(note)") }
        self.threads = threads

        let shortID = String(target.id.prefix(12))
        let name = ResctrlGroup.makeName(
            prefix: groupPrefix,
            [target.name.isEmpty ? "c\(target.index)" : target.name, shortID.isEmpty ? "pid\(target.pid)" : shortID]
        )
        try createGroup(named: name, context: context)
        context.log(
            .info,
            "\(containerLabel): monitoring group \(group!) (\(events.map(\.rawValue).joined(separator: ", "))); threads from \(threads.description), re-synced every \(syncIntervalNs / 1_000_000) ms"
        )
        // First sync and baseline read now, so the first interval is measured.
        // On a fake tree the group is populated by the test's "kernel" later:
        // then both happen on the first collect.
        try syncIfReady(context: context, now: context.monotonicNanoseconds)
        try openReaderIfReady(context: context)
        if let reader {
            do {
                _ = tracker.update(try reader.read())
            } catch {
                throw Self.pluginError(error)
            }
        }
    }

    /// Creates the MON group under the container's CTRL_MON group; a leftover
    /// with the same name (a crashed run of the same container) is replaced.
    private func createGroup(named name: String, context: PluginContext) throws(PluginError) {
        guard let filesystem, let threads else { return }
        do throws(ResctrlError) {
            let parent = try filesystem.controlGroup(ofTask: threads.pid)
            do throws(ResctrlError) {
                group = try filesystem.createMonitorGroup(name, in: parent)
            } catch {
                guard case .exists = error else { throw error }
                let stale = ResctrlGroup(controlGroup: parent.controlGroup, monitorGroup: name)
                context.log(.warn, "\(containerLabel): removing leftover monitoring group \(stale) of an earlier run")
                try filesystem.remove(stale)
                group = try filesystem.createMonitorGroup(name, in: parent)
            }
        } catch {
            throw Self.pluginError(error)
        }
        tracker.reset()
        lastSyncNs = .min
    }

    func collect(context: PluginContext, window: CollectWindow) throws(PluginError) {
        guard let filesystem, let group else { throw .fatal("collect called without a successful start") }
        let now = context.monotonicNanoseconds
        try syncIfReady(context: context, now: now)
        try openReaderIfReady(context: context)
        guard let reader = self.reader else { return }
        let readings: [DomainReading]
        do {
            readings = try reader.read()
        } catch {
            guard error.isGone else { throw Self.pluginError(error) }
            reader.close()
            self.reader = nil
            try recreateIfRemoved(filesystem: filesystem, group: group, context: context)
            return
        }
        let interval = tracker.update(readings)
        for reset in interval.resets {
            context.logRateLimited(key: "reset", .info, "\(containerLabel): \(reset.event.rawValue) of L3 domain \(reset.domain) went down (counter reset: group recreated, BMEC change or RMID reuse); that interval is dropped")
        }
        for reading in readings {
            for event in events {
                guard let value = reading.value(event), value.bytes == nil else { continue }
                context.logRateLimited(key: "absent-\(event.rawValue)", .debug, "\(containerLabel): \(event.rawValue) of L3 domain \(reading.domain) reads \(value); left out of this interval")
            }
        }
        var samples: [PluginSample] = []
        var fields = Self.fields(occupancy: interval.occupancyBytes, total: interval.totalBytesPerSecond, local: interval.localBytesPerSecond)
        if let monitoredThreads { fields.append(("monitored_threads", .integer(Int64(monitoredThreads)))) }
        if !fields.isEmpty {
            samples.append(PluginSample(measurement: "rdt", fields: fields, timestampNanoseconds: window.timestampNs))
        }
        if perDomain {
            for domain in interval.domains {
                let domainFields = Self.fields(occupancy: domain.occupancyBytes, total: domain.totalBytesPerSecond, local: domain.localBytesPerSecond)
                guard !domainFields.isEmpty else { continue }
                samples.append(PluginSample(measurement: "rdt_domain", tags: [("domain", String(domain.domain))], fields: domainFields, timestampNanoseconds: window.timestampNs))
            }
        }
        if !samples.isEmpty, context.emit(samples) == .backpressure {
            context.logRateLimited(key: "backpressure", .warn, "host buffers full; dropped one interval of rdt samples")
        }
    }

    private static func fields(occupancy: UInt64?, total: Double?, local: Double?) -> [(key: String, value: PluginFieldValue)] {
        var fields: [(key: String, value: PluginFieldValue)] = []
        if let occupancy { fields.append(("llc_occupancy_bytes", .integer(Int64(clamping: occupancy)))) }
        if let total { fields.append(("mbm_total_bytes_per_second", .float(total))) }
        if let local { fields.append(("mbm_local_bytes_per_second", .float(local))) }
        if let total, let local { fields.append(("mbm_remote_bytes_per_second", .float(max(total - local, 0)))) }
        return fields
    }

    /// Writes the container's threads that are not in the group yet, pass
    /// after pass until a pass moves nothing (threads cloned meanwhile by
    /// not-yet-moved threads stay behind otherwise).
    private func syncIfReady(context: PluginContext, now: Int64) throws(PluginError) {
        guard let filesystem, let group, let threads else { return }
        guard lastSyncNs == .min || now - lastSyncNs >= syncIntervalNs else { return }
        var members: Set<Int32>
        do {
            members = Set(try filesystem.tasks(of: group))
        } catch {
            guard error.isGone else { throw Self.pluginError(error) }
            try recreateIfRemoved(filesystem: filesystem, group: group, context: context)
            return
        }
        var current: [Int32] = []
        for _ in 0..<4 {
            do {
                current = try threads.threadIDs()
            } catch {
                throw .retry("\(containerLabel): \(error) (the container stopped?)")
            }
            let missing = current.filter { !members.contains($0) }
            if missing.isEmpty { break }
            let result: TaskAssignment
            do {
                result = try filesystem.assign(missing, to: group)
            } catch {
                guard error.isGone else { throw Self.pluginError(error) }
                return
            }
            members.formUnion(missing)
            exitedThreads += result.exited
            if let refusal = result.refused.first {
                if refusal.status?.contains("different control group") == true {
                    try moveToCurrentControlGroup(filesystem: filesystem, context: context)
                    return
                }
                context.logRateLimited(key: "refused", .warn, "\(containerLabel): \(result.refused.count) thread(s) could not be moved into \(group): \(refusal)")
            }
            if result.moved == 0 { break }
        }
        monitoredThreads = current.filter { members.contains($0) }.count
        lastSyncNs = now
    }

    /// The container's process moved to another CTRL_MON group (a scheduler
    /// reassigned it): a MON group only takes tasks of its parent, so the
    /// group is recreated under the new parent.
    private func moveToCurrentControlGroup(filesystem: ResctrlFilesystem, context: PluginContext) throws(PluginError) {
        guard let old = group else { return }
        reader?.close()
        reader = nil
        try? filesystem.remove(old)
        group = nil
        try createGroup(named: old.name, context: context)
        context.log(.info, "\(containerLabel): its threads moved to another control group; monitoring group recreated as \(group!)")
    }

    private func recreateIfRemoved(filesystem: ResctrlFilesystem, group: ResctrlGroup, context: PluginContext) throws(PluginError) {
        if filesystem.exists(group) {
            context.logRateLimited(key: "unpopulated", .debug, "\(containerLabel): \(group) has no tasks or mon_data yet")
            return
        }
        context.log(.warn, "\(containerLabel): monitoring group \(group) was removed by someone else (its control group removed?); creating it again")
        self.group = nil
        try createGroup(named: group.name, context: context)
    }

    private func openReaderIfReady(context: PluginContext) throws(PluginError) {
        guard reader == nil, let filesystem, let group else { return }
        do {
            reader = try MonitorReader(filesystem: filesystem, group: group, events: events)
        } catch {
            if error.isGone { return }
            throw Self.pluginError(error)
        }
    }

    func stop(context: PluginContext) {
        reader?.close()
        reader = nil
        guard let filesystem, let group else { return }
        do {
            try filesystem.remove(group)
        } catch {
            if !error.isGone { context.log(.warn, "\(containerLabel): could not remove monitoring group \(group): \(error)") }
        }
        self.group = nil
    }

    /// Maps a library error to the status the host acts on.
    static func pluginError(_ error: ResctrlError) -> PluginError {
        switch error {
        case .notMounted, .unsupported: .unsupported(error.description)
        case .outOfIDs, .busy, .gone: .retry(error.description)
        case .permission: .permission(error.description)
        case .exists, .invalid, .io, .malformed: .fatal(error.description)
        }
    }
}

/// The library's exports: one collector.
enum ResctrlMonitorLibrary {
    static let plugins: [ExportedPlugin] = [.collector(ResctrlMonitorCollector.self) { ResctrlMonitorCollector.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(ResctrlMonitorLibrary.plugins.count) },
        descriptor: { ResctrlMonitorLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    ResctrlMonitorLibrary.entry.pointer
}
