#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import CPerfEvent
import PluginABI
import PluginKit
import RDT4NNPluginSDK

/// Per-container hardware and software counters through `perf_event_open(2)`.
///
/// Counting scope, per instance:
/// - a container, `mode: cgroup` (or `auto` when its perf_event cgroup can be
///   found): one event group per online CPU with `PERF_FLAG_PID_CGROUP`, so
///   every task of the container counts, including ones that already exist;
/// - a container, `mode: pid` (or `auto` without a usable perf_event cgroup):
///   every thread of the container's main process with `inherit` (children
///   created later count; other processes that already exist do not);
/// - the host target (`plugins check`, host-wide use): all tasks on every
///   online CPU.
///
/// Every `collect` emits the per-interval deltas, scaled for multiplexing,
/// with the time each event was enabled and running.  An event the machine
/// cannot count is logged once and then absent — never written as 0.
final class PerfCollector: Collector {
    static let metadata = PluginMetadata(
        id: "perf",
        name: "perf_event counters",
        version: "1.0.0",
        summary: "Per-container software and hardware counters via perf_event_open (cgroup mode, per-pid fallback), per-interval deltas scaled for multiplexing.",
        features: ["linux", "needs-root", "perf_event"],
        configSchemaJSON: PerfSchema.configJSON,
        metricsSchemaJSON: PerfSchema.metricsJSON,
        capabilities: RDT4NN_CAP_PER_CONTAINER
    )

    /// How a container is counted.
    enum Mode: String, Sendable {
        case auto, cgroup, pid
    }

    /// How long a vanished container is retried before the instance gives up.
    static let goneTimeoutNanoseconds: Int64 = 60_000_000_000

    private let requested: [PerfEventSpec]
    private let mode: Mode
    private let cgroupRoot: String?
    private let maxHardwareGroup: Int

    private var counters: PerfCounterSet?
    private var derived = DerivedInputs()
    /// `<base>_enabled_ns` / `<base>_running_ns` of each opened event, made
    /// once so that a sample does not build its field names again.
    private var timeFieldNames: [(enabled: String, running: String)] = []
    /// Scaled count of each event in the last interval (one array reused by every collection).
    private var values: [Double?] = []
    private var previous: [CounterReading] = []
    private var current: [CounterReading] = []
    /// Main pid of the counted container (0 for the host target).
    private var countedPid: Int32 = 0
    private var goneSinceNs: Int64?
    /// When collect last asked whether the counted process exists (monotonic ns).
    private var aliveCheckedNs: Int64?
    /// The least time between two such questions.
    static let aliveCheckIntervalNs: Int64 = 250_000_000
    /// Events already reported as unsupported (reported once per instance).
    private var reportedUnsupported = Set<String>()
    private var reportedFallback = false

    init(context: PluginContext) throws(PluginError) {
        let config: JSONValue
        do {
            config = try JSONValue.parse(context.configJSON)
        } catch {
            throw .config("the configuration is not valid JSON: \(error)")
        }
        var events: [PerfEventSpec] = []
        if let list = config["events"] {
            guard let items = list.arrayValue else { throw .config("'events' must be a list of event names") }
            for item in items {
                guard let name = item.stringValue else { throw .config("'events' must hold strings; found \(item.typeName)") }
                guard let event = PerfEventCatalog.lookup(name) else {
                    throw .config("unknown perf event '\(name)'; use a name from `rdt4nn plugins describe` (e.g. task-clock, cycles, LLC-load-misses) or a raw PMU code r<hex> (e.g. r412e)")
                }
                if !events.contains(where: { $0.name == event.name }) { events.append(event) }
            }
        } else {
            events = PerfEventCatalog.defaultEventNames.compactMap(PerfEventCatalog.lookup)
        }
        guard !events.isEmpty else { throw .config("'events' is empty; list at least one event (e.g. task-clock)") }
        requested = events
        let modeText = try context.string("mode") ?? "auto"
        guard let mode = Mode(rawValue: modeText) else { throw .config("'mode' must be auto, cgroup or pid, not '\(modeText)'") }
        self.mode = mode
        let root = try context.string("cgroup_root")
        cgroupRoot = (root?.isEmpty ?? true) ? nil : root
        let group = try context.integer("max_hardware_group") ?? 4
        guard (1...16).contains(group) else { throw .config("'max_hardware_group' must be 1...16, not \(group)") }
        maxHardwareGroup = Int(group)
    }

    func start(context: PluginContext) throws(PluginError) {
        goneSinceNs = nil
        try open(context: context)
    }

    func collect(context: PluginContext, window: CollectWindow) throws(PluginError) {
        guard let counters else {
            try reopen(context: context, now: window.endMonotonicNs)
            return
        }
        counters.read(into: &current)
        if previous.count != current.count { previous = current }
        // Counting is enabled only while the target's tasks are on a CPU
        // (cgroup and per-task events alike): time enabled in the interval
        // proves the process lived in it.  Only after an interval without
        // any, and at most every `aliveCheckIntervalNs`, does collect ask
        // whether the process still exists -- not a system call on every
        // tick.  A process that ended after running gets its last interval
        // reported, then RETRY.  (The host stops sampling a container on
        // Docker's `die` event first; this is the fallback.)
        if countedPid > 0, !Self.ranInInterval(previous: previous, current: current),
            aliveCheckedNs.map({ window.endMonotonicNs - $0 >= Self.aliveCheckIntervalNs }) ?? true
        {
            aliveCheckedNs = window.endMonotonicNs
            if kill(countedPid, 0) != 0, errno == ESRCH {
                closeCounters()
                goneSinceNs = window.endMonotonicNs
                throw .retry("the container's process \(countedPid) exited; its perf counters are closed and reopen when the container runs again")
            }
        }
        let samples = makeSamples(counters: counters, timestamp: window.timestampNs)
        swap(&previous, &current)
        if !samples.isEmpty, context.emit(samples) == .backpressure {
            context.logRateLimited(key: "backpressure", .warn, "host buffers full; dropped one interval of perf samples")
        }
    }

    func stop(context: PluginContext) {
        closeCounters()
    }

    // MARK: - Opening

    /// After the target vanished: retries the open, gives up after a minute.
    private func reopen(context: PluginContext, now: Int64) throws(PluginError) {
        do {
            try open(context: context)
            goneSinceNs = nil
        } catch where error.status == .retry {
            let since = goneSinceNs ?? now
            goneSinceNs = since
            if now - since > Self.goneTimeoutNanoseconds {
                throw .unsupported("the container has not come back for \((now - since) / 1_000_000_000) s (\(error.message)); perf counting for it ends")
            }
            throw error
        }
    }

    private func open(context: PluginContext) throws(PluginError) {
        closeCounters()
        let target = context.target
        var options = CounterOpenOptions(maxHardwareGroup: maxHardwareGroup)
        var slots: [CounterSlot]
        var scopeText: String
        var cgroupFD: Int32 = -1
        defer { if cgroupFD >= 0 { Glibc.close(cgroupFD) } }

        if target.isHost {
            slots = try onlineCPUs().map { CounterSlot(pid: -1, cpu: Int32($0), label: "cpu \($0)") }
            scopeText = "all tasks on CPUs \(CPUList(slots.map { Int($0.cpu) }))"
            countedPid = 0
        } else {
            guard target.pid > 0 else {
                throw .retry("container '\(target.name)' has no process yet (pid 0); perf counting starts once it runs")
            }
            countedPid = target.pid
            switch try scope(for: target, context: context) {
            case .cgroup(let location):
                cgroupFD = Glibc.open(location.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard cgroupFD >= 0 else {
                    let code = errno
                    if code == ENOENT { throw .retry("the container's cgroup \(location.directory) is gone (container stopped?)") }
                    if code == EACCES || code == EPERM { throw .permission("cannot open cgroup \(location.directory): \(Self.describe(code)); run rdt4nn as root") }
                    throw .fatal("cannot open cgroup \(location.directory): \(Self.describe(code))")
                }
                options.cgroup = true
                slots = try onlineCPUs().map { CounterSlot(pid: cgroupFD, cpu: Int32($0), label: "cpu \($0)") }
                scopeText = "cgroup \(location.directory) (\(location.hierarchy)) on CPUs \(CPUList(slots.map { Int($0.cpu) }))"
            case .process(let pid):
                options.inherit = true
                let threads = Self.threads(of: pid)
                guard !threads.isEmpty else { throw .retry("process \(pid) of container '\(target.name)' is gone") }
                slots = threads.map { CounterSlot(pid: $0, cpu: -1, label: "thread \($0)") }
                scopeText = "process \(pid) (\(threads.count) thread(s), children created from now on included)"
            }
        }

        let active = try probe(requested, on: slots[0], slotCount: slots.count, options: options, context: context)
        let opened: PerfCounterSet
        do {
            opened = try PerfCounterSet(events: active, slots: slots, options: options)
        } catch where error.code == EINVAL && error.role == "leader" && options.inherit && options.groupReads {
            // Older kernels refuse PERF_FORMAT_GROUP with inherit: one fd per event.
            options.groupReads = false
            do {
                opened = try PerfCounterSet(events: active, slots: slots, options: options)
            } catch {
                throw classify(error, budget: active.count * slots.count)
            }
        } catch {
            throw classify(error, budget: active.count * slots.count)
        }
        if !opened.skippedSlots.isEmpty {
            context.log(.warn, "perf counters not opened on \(opened.skippedSlots.joined(separator: ", ")) (CPU offline or thread exited)")
        }
        counters = opened
        derived = DerivedInputs(events: opened.events)
        timeFieldNames = opened.events.map { ($0.enabledField, $0.runningField) }
        previous = []
        opened.read(into: &previous)
        current = previous
        context.log(.info, "counting \(opened.events.map(\.name).joined(separator: ", ")) for \(scopeText): \(opened.openDescriptors) perf fds\(options.groupReads ? "" : ", one read per event")")
    }

    /// The counting scope of a container target, per `mode`.
    private func scope(for target: ObservedTarget, context: PluginContext) throws(PluginError) -> Scope {
        if mode == .pid { return .process(target.pid) }
        let locator = PerfCgroupLocator(mountOverride: cgroupRoot)
        switch locator.locate(pid: target.pid) {
        case .success(let location):
            var info = stat()
            if stat(location.directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return .cgroup(location) }
            let reason = "cgroup directory \(location.directory) does not exist (\(Self.describe(errno)))"
            if mode == .cgroup {
                throw .retry("\(reason); is cgroup_root right, and is the container running?")
            }
            return fallback(reason, target: target, context: context)
        case .failure(let failure):
            if failure.processGone { throw .retry("container '\(target.name)': \(failure.message)") }
            if mode == .cgroup { throw .unsupported("cgroup mode is impossible for container '\(target.name)': \(failure.message)") }
            return fallback(failure.message, target: target, context: context)
        }
    }

    private func fallback(_ reason: String, target: ObservedTarget, context: PluginContext) -> Scope {
        if !reportedFallback {
            reportedFallback = true
            context.log(.warn, "no usable perf_event cgroup for container '\(target.name)' (\(reason)); counting its main process \(target.pid) per thread with inherit instead: processes that already exist besides it are missed")
        }
        return .process(target.pid)
    }

    /// Keeps the events the kernel accepts on `slot`; reports the others once.
    private func probe(_ events: [PerfEventSpec], on slot: CounterSlot, slotCount: Int, options: CounterOpenOptions, context: PluginContext) throws(PluginError) -> [PerfEventSpec] {
        var active: [PerfEventSpec] = []
        var refused: [String] = []
        var unsupported: [(event: PerfEventSpec, reason: String)] = []
        var vendor: String?
        for event in events {
            if let wanted = event.vendor {
                let actual = vendor ?? Self.cpuVendor()
                vendor = actual
                if actual != wanted {
                    let reason = "its raw code is defined for \(wanted) CPUs (Skylake and later) and this CPU is \(actual.isEmpty ? "of unknown vendor" : actual)"
                    refused.append("\(event.name) (\(reason))")
                    unsupported.append((event, reason))
                    continue
                }
            }
            let code = PerfCounterSet.probe(event, on: slot, options: options)
            switch code {
            case 0:
                active.append(event)
            case EACCES, EPERM, EMFILE, ENFILE, ESRCH, EBUSY, EBADF:
                throw classify(CounterOpenError(code: code, event: event, slot: slot, role: "probe"), budget: events.count * slotCount)
            default:
                let reason = "perf_event_open: \(Self.describe(code))\(Self.explanation(code))"
                refused.append("\(event.name) (\(Self.errnoName(code)))")
                unsupported.append((event, reason))
            }
        }
        reportUnsupported(unsupported, context: context)
        guard !active.isEmpty else {
            throw .unsupported("none of the configured perf events can be counted on this machine: \(refused.joined(separator: ", "))")
        }
        return active
    }

    /// Logs unsupported events once, one line per reason.
    private func reportUnsupported(_ events: [(event: PerfEventSpec, reason: String)], context: PluginContext) {
        var byReason: [(reason: String, names: [String])] = []
        for (event, reason) in events where reportedUnsupported.insert(event.name).inserted {
            if let index = byReason.firstIndex(where: { $0.reason == reason }) {
                byReason[index].names.append(event.name)
            } else {
                byReason.append((reason, [event.name]))
            }
        }
        for group in byReason {
            let names = group.names.map { "'\($0)'" }.joined(separator: ", ")
            let verb = group.names.count == 1 ? "event \(names) is" : "events \(names) are"
            context.log(.warn, "\(verb) not supported here (\(group.reason)); left out of every sample")
        }
    }

    /// Maps a failed open to the status the host acts on.
    private func classify(_ error: CounterOpenError, budget: Int) -> PluginError {
        let what = "perf_event_open(\(error.event.name), type \(error.event.type), config 0x\(String(error.event.config, radix: 16))) on \(error.slot.label) as \(error.role)"
        switch error.code {
        case EACCES, EPERM:
            let paranoid = ProcFiles.read("/proc/sys/kernel/perf_event_paranoid")?.filter { !$0.isWhitespace } ?? "?"
            return .permission("\(what): \(Self.describe(error.code)); counting a cgroup or CPU needs root or CAP_PERFMON (kernel.perf_event_paranoid is \(paranoid); -1 allows everything)")
        case EMFILE, ENFILE:
            var soft: UInt64 = 0
            var hard: UInt64 = 0
            _ = CPerfEvent_nofile_limit(&soft, &hard)
            func text(_ value: UInt64) -> String { value == UInt64.max ? "unlimited" : String(value) }
            return .retry("\(what): \(Self.describe(error.code)); this container needs \(budget) perf fds (events x CPUs) and the process is out of file descriptors (RLIMIT_NOFILE soft \(text(soft)), hard \(text(hard))); the host raises the soft limit to the hard limit at start-up, so raise the hard limit (ulimit -Hn, LimitNOFILE=) or count fewer events")
        case ESRCH:
            return .retry("\(what): \(Self.describe(error.code)); the container's process is gone")
        case ENODEV:
            return .retry("\(what): \(Self.describe(error.code)); the CPU went offline; the online CPU list is read again on the next try")
        case EBUSY:
            return .retry("\(what): \(Self.describe(error.code)); another user holds the PMU exclusively")
        default:
            return .fatal("\(what): \(Self.describe(error.code)); the kernel accepted the event alone but refused to open it in its group; please report this message as a bug")
        }
    }

    private func closeCounters() {
        counters?.close()
        counters = nil
        aliveCheckedNs = nil
    }

    /// True when some counter was enabled for a while between the readings.
    static func ranInInterval(previous: [CounterReading], current: [CounterReading]) -> Bool {
        for (before, now) in zip(previous, current) where before.valid && now.valid && now.enabled > before.enabled {
            return true
        }
        return false
    }

    // MARK: - Samples

    private func makeSamples(counters: PerfCounterSet, timestamp: Int64) -> [PluginSample] {
        let slotCount = counters.slots.count
        var fields: [(key: String, value: PluginFieldValue)] = []
        fields.reserveCapacity(counters.events.count * 3 + 4)
        var rawSamples: [PluginSample] = []
        if values.count != counters.events.count { values = [Double?](repeating: nil, count: counters.events.count) }
        for (index, event) in counters.events.enumerated() {
            let range = (index * slotCount)..<((index + 1) * slotCount)
            let delta = CounterMath.delta(previous: previous[range], current: current[range])
            values[index] = delta.scaled
            let count = delta.scaled.map { PluginFieldValue.integer(Int64(min($0.rounded(), 9.0e18))) }
            if event.isCustomRaw {
                var rawFields: [(key: String, value: PluginFieldValue)] = []
                if let count { rawFields.append(("count", count)) }
                if delta.timesKnown {
                    rawFields.append(("enabled_ns", .integer(Int64(clamping: delta.enabled))))
                    rawFields.append(("running_ns", .integer(Int64(clamping: delta.running))))
                }
                if !rawFields.isEmpty {
                    rawSamples.append(PluginSample(measurement: "perf_raw", tags: [("event", event.field)], fields: rawFields, timestampNanoseconds: timestamp))
                }
                continue
            }
            if let count { fields.append((event.field, count)) }
            if delta.timesKnown {
                fields.append((timeFieldNames[index].enabled, .integer(Int64(clamping: delta.enabled))))
                fields.append((timeFieldNames[index].running, .integer(Int64(clamping: delta.running))))
            }
        }
        derived.append(to: &fields, values)
        guard !fields.isEmpty else { return rawSamples }
        let sample = PluginSample(measurement: "perf", fields: fields, timestampNanoseconds: timestamp)
        return rawSamples.isEmpty ? [sample] : [sample] + rawSamples
    }

    // MARK: - System facts

    enum Scope {
        case cgroup(PerfCgroupLocator.Location)
        case process(Int32)
    }

    private func onlineCPUs() throws(PluginError) -> [Int] {
        let path = "/sys/devices/system/cpu/online"
        guard let text = ProcFiles.read(path) else { throw .unsupported("cannot read \(path): \(ProcFiles.lastErrorDescription())") }
        guard let list = try? CPUList(parsing: text), !list.isEmpty else { throw .fatal("\(path) holds '\(text)', not a CPU list") }
        return list.cpus
    }

    /// Thread ids of `pid` (the main thread first), from /proc/<pid>/task.
    static func threads(of pid: Int32) -> [Int32] {
        guard let directory = opendir("/proc/\(pid)/task") else { return [] }
        defer { closedir(directory) }
        var tids: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let tid = Int32(name) { tids.append(tid) }
        }
        return tids.sorted { ($0 == pid ? 0 : 1, $0) < ($1 == pid ? 0 : 1, $1) }
    }

    /// `vendor_id` from /proc/cpuinfo ("GenuineIntel", "AuthenticAMD"), "" if absent.
    static func cpuVendor() -> String {
        guard let text = ProcFiles.read("/proc/cpuinfo", limit: 1 << 16) else { return "" }
        for line in text.split(separator: "\n") where line.hasPrefix("vendor_id") {
            if let colon = line.firstIndex(of: ":") { return String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }) }
        }
        return ""
    }

    static func describe(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (\(errnoName(code)))"
    }

    static func errnoName(_ code: Int32) -> String {
        let names: [Int32: String] = [
            ENOENT: "ENOENT", EOPNOTSUPP: "EOPNOTSUPP", ENODEV: "ENODEV", EINVAL: "EINVAL", EACCES: "EACCES", EPERM: "EPERM",
            EMFILE: "EMFILE", ENFILE: "ENFILE", EBUSY: "EBUSY", ESRCH: "ESRCH", E2BIG: "E2BIG", EBADF: "EBADF",
            ENOSYS: "ENOSYS", ENOSPC: "ENOSPC",
        ]
        return names[code] ?? "errno \(code)"
    }

    /// Why an event is refused, for the once-only warning.
    static func explanation(_ code: Int32) -> String {
        switch code {
        case ENOENT: "; no PMU for this event type, or the event is not mapped on this CPU (usual in virtual machines)"
        case EOPNOTSUPP: "; the hardware lacks the feature"
        case ENODEV: "; this CPU has no such feature"
        case EINVAL: "; the kernel rejected the encoding"
        case ENOSYS: "; the kernel has no perf_event support"
        default: ""
        }
    }
}

/// Which counted events feed the derived ratios.
struct DerivedInputs {
    var instructions: Int?
    var cycles: Int?
    var cacheReferences: Int?
    var cacheMisses: Int?
    var branches: Int?
    var branchMisses: Int?
    /// stalls_total, else stalled-cycles-backend, else stalled-cycles-frontend.
    var stalls: Int?

    init() {}

    init(events: [PerfEventSpec]) {
        func index(_ field: String) -> Int? { events.firstIndex { $0.field == field && !$0.isCustomRaw } }
        instructions = index("instructions")
        cycles = index("cycles")
        cacheReferences = index("cache_references")
        cacheMisses = index("cache_misses")
        branches = index("branches")
        branchMisses = index("branch_misses")
        stalls = index("stalls_total") ?? index("stalled_cycles_backend") ?? index("stalled_cycles_frontend")
    }

    /// ipc, cache_miss_rate, branch_miss_rate, stalled_cycles_percent where
    /// both inputs were counted this interval and the divisor is not 0.
    func fields(_ values: [Double?]) -> [(key: String, value: PluginFieldValue)] {
        var fields: [(key: String, value: PluginFieldValue)] = []
        append(to: &fields, values)
        return fields
    }

    /// Appends the derived fields whose inputs have values (in place: no array per sample).
    func append(to fields: inout [(key: String, value: PluginFieldValue)], _ values: [Double?]) {
        func ratio(_ numerator: Int?, _ denominator: Int?) -> Double? {
            guard let numerator, let denominator, let top = values[numerator], let bottom = values[denominator], bottom > 0 else { return nil }
            return top / bottom
        }
        if let ipc = ratio(instructions, cycles) { fields.append(("ipc", .float(ipc))) }
        if let rate = ratio(cacheMisses, cacheReferences) { fields.append(("cache_miss_rate", .float(rate))) }
        if let rate = ratio(branchMisses, branches) { fields.append(("branch_miss_rate", .float(rate))) }
        if let share = ratio(stalls, cycles) { fields.append(("stalled_cycles_percent", .float(share * 100))) }
    }
}

/// The library's exports: one collector.
enum PerfLibrary {
    static let plugins: [ExportedPlugin] = [.collector(PerfCollector.self) { PerfCollector.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(PerfLibrary.plugins.count) },
        descriptor: { PerfLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    PerfLibrary.entry.pointer
}
