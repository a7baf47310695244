import Dispatch
import SystemSupport
import PluginABI
import PluginHost
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Something the sampler can collect from: a collector instance, or a test double.
public protocol SampledCollector: AnyObject {
    /// Collects the window ending at `monotonicNs`, stamping samples `realtimeNs`.
    func collect(monotonicNs: Int64, realtimeNs: Int64) throws(PluginCallError)
}

extension CollectorInstance: SampledCollector {}

/// One instance to sample and how often.
public struct SamplerEntry {
    /// The instance.
    public var collector: any SampledCollector
    /// Plugin id (tag `collector` of the internal measurement).
    public var pluginID: String
    /// Instance name (container name or "host").
    public var instanceName: String
    /// Sampling period.
    public var intervalNs: Int64
    /// Longest a collect call may take before it counts as an overrun.
    public var budgetNs: Int64
    /// Reads how many samples the instance has emitted so far.
    public var emittedSamples: @Sendable () -> Int

    /// Creates an entry; the budget defaults to the interval.
    public init(
        collector: any SampledCollector,
        pluginID: String,
        instanceName: String,
        intervalNs: Int64,
        budgetNs: Int64? = nil,
        emittedSamples: @escaping @Sendable () -> Int
    ) {
        self.collector = collector
        self.pluginID = pluginID
        self.instanceName = instanceName
        self.intervalNs = intervalNs
        self.budgetNs = budgetNs ?? intervalNs
        self.emittedSamples = emittedSamples
    }
}

/// Counters of one instance, also emitted as `rdt4nn_internal`.
public struct CollectorStatistics: Sendable, Equatable {
    public var pluginID: String
    public var instanceName: String
    /// Collect calls made.
    public var collections = 0
    /// Calls that returned an error status.
    public var errors = 0
    /// Calls that returned RETRY.
    public var retries = 0
    /// Ticks skipped because the previous call still ran or the sampler was
    /// late (the sum of the next two).
    public var skippedTicks: Int { skippedWhileBusy + skippedSamplerLate }
    /// Ticks that found the previous call still running.
    public var skippedWhileBusy = 0
    /// Ticks that had passed entirely before the sampler woke.
    public var skippedSamplerLate = 0
    /// Ticks passed over while backing off.
    public var backoffTicks = 0
    /// Calls that took longer than the budget.
    public var overruns = 0
    /// Total and longest time spent in collect.
    public var collectTimeNs: Int64 = 0
    public var maxCollectTimeNs: Int64 = 0
    /// Why the instance was disabled, if it was.
    public var disabledReason: String?
}

/// Drives collector instances from one dedicated thread that sleeps to
/// absolute `CLOCK_MONOTONIC` deadlines, so periods never drift.
///
/// At each deadline the due instances are collected in parallel on worker
/// threads; one instance is never called concurrently (a deadline that finds
/// its previous call still running is skipped and counted, never queued).
/// RETRY backs off (capped at 10 s, with jitter) and recovers; UNSUPPORTED and
/// other errors disable the instance once, with the reason logged.  A slow or
/// failing instance costs only its own samples.
public final class Sampler: Sendable {
    /// Lateness of tick dispatch behind the deadline (for jitter figures).
    public struct Lateness: Sendable, Equatable {
        /// Number of ticks measured.
        public var count: Int
        /// Percentiles in ns.
        public var p50Ns: Int64
        public var p99Ns: Int64
        public var maxNs: Int64
    }

    private let state: Mutex<State>
    private let inFlight = DispatchGroup()
    private let log: LogHandler
    private let emitInternal: @Sendable ([PluginSample]) -> Void
    private let internalIntervalNs: Int64
    private let finished = DispatchSemaphore(value: 0)
    /// Where the sampling thread sleeps between ticks.
    private let alarm = MonotonicAlarm()
    /// The origin of every period's grid of deadlines.
    private let epochNs = HostClock.monotonicNanoseconds()

    private struct State {
        var planner = TickPlanner()
        var slots: [Slot] = []
        var statistics: [CollectorStatistics] = []
        var stopRequested = false
        var running = false
        var latenessNs: [Int64] = []
        /// The collect threads (from start to stop).
        var workers: CollectWorkers?
    }

    /// Holds one instance between calls.
    ///
    /// `@unchecked Sendable` is sound: `collector` is only used inside a
    /// collection, a collection starts only after the planner marked the
    /// instance busy under the sampler's mutex, and ends by clearing that mark
    /// under the same mutex -- so calls never overlap and each happens-after
    /// the previous one.
    private final class Slot: @unchecked Sendable {
        let collector: any SampledCollector
        let pluginID: String
        let instanceName: String
        let budgetNs: Int64
        let emittedSamples: @Sendable () -> Int
        init(_ entry: SamplerEntry) {
            collector = entry.collector
            pluginID = entry.pluginID
            instanceName = entry.instanceName
            budgetNs = entry.budgetNs
            emittedSamples = entry.emittedSamples
        }
    }

    /// Creates a sampler for `entries`.
    /// - Parameters:
    ///   - emitInternal: receives the `rdt4nn_internal` samples (never blocks).
    ///   - internalIntervalNs: how often they are emitted.
    public init(
        entries: [SamplerEntry] = [],
        internalIntervalNs: Int64 = 1_000_000_000,
        log: @escaping LogHandler,
        emitInternal: @escaping @Sendable ([PluginSample]) -> Void
    ) {
        state = Mutex(State())
        self.log = log
        self.emitInternal = emitInternal
        self.internalIntervalNs = internalIntervalNs
        for entry in entries { add(entry) }
    }

    /// Adds an instance while running (a container started).  Its deadlines
    /// lie on the sampler's grid for that period (multiples of the period
    /// since the sampler was created), so every instance with the same period
    /// is collected in the same tick, with the same timestamp.
    /// - Returns: a handle for ``remove(_:)``.
    @discardableResult
    public func add(_ entry: SamplerEntry) -> Int {
        let slot = Slot(entry)
        let now = HostClock.monotonicNanoseconds()
        // The last grid point at or before now; the first deadline is the next one.
        let start = epochNs + (now - epochNs) / entry.intervalNs * entry.intervalNs
        let handle = state.withLock { state in
            state.slots.append(slot)
            state.statistics.append(CollectorStatistics(pluginID: entry.pluginID, instanceName: entry.instanceName))
            return state.planner.add(intervalNs: entry.intervalNs, startNs: start)
        }
        // The sampling thread may be sleeping past the new first deadline.
        alarm.ring()
        return handle
    }

    /// Stops sampling one instance (its container stops) and waits until its
    /// running collection, if any, has returned -- afterwards the caller owns
    /// the instance again and may stop it.
    public func remove(_ handle: Int) {
        state.withLock { $0.planner.disable(handle) }
        while state.withLock({ $0.planner.entries[handle].isBusy }) {
            Self.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + 1_000_000)
        }
    }

    /// Starts the sampling thread.
    public func start() {
        let alreadyRunning = state.withLock { state -> Bool in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { return }
        let workers = CollectWorkers(priority: Self.collectPriority) { [self] job in
            collect(job)
        }
        state.withLock { $0.workers = workers }
        POSIXThread.detach(name: "rdt4nn-sampler") { [self] in
            self.loop()
            self.finished.signal()
        }
    }

    /// Stops ticking, waits for running collections (at most `timeoutNs`),
    /// and emits the final internal counters.
    /// - Returns: false when some collection was still running at the timeout.
    @discardableResult
    public func stop(timeoutNs: Int64 = 5_000_000_000) -> Bool {
        let wasRunning = state.withLock { state -> Bool in
            state.stopRequested = true
            return state.running
        }
        alarm.ring()
        if wasRunning { finished.wait() }
        let drained = inFlight.wait(timeout: .now() + .nanoseconds(Int(timeoutNs))) == .success
        // A collection still running after the timeout keeps its thread; the others end now.
        state.withLock { state -> CollectWorkers? in
            defer { state.workers = nil }
            return state.workers
        }?.shutdown(join: drained)
        emitInternalCounters(realtimeNs: HostClock.realtimeNanoseconds())
        return drained
    }

    /// A snapshot of every instance's counters.
    public var statistics: [CollectorStatistics] {
        state.withLock { state in
            state.statistics.enumerated().map { index, statistics in
                var copy = statistics
                copy.skippedWhileBusy = state.planner.entries[index].skippedWhileBusy
                copy.skippedSamplerLate = state.planner.entries[index].skippedSamplerLate
                copy.backoffTicks = state.planner.entries[index].backoffTicks
                return copy
            }
        }
    }

    /// How late ticks were dispatched behind their deadlines.
    public var lateness: Lateness {
        let values = state.withLock { $0.latenessNs }.sorted()
        guard !values.isEmpty else { return Lateness(count: 0, p50Ns: 0, p99Ns: 0, maxNs: 0) }
        func percentile(_ p: Double) -> Int64 { values[min(values.count - 1, Int(Double(values.count - 1) * p))] }
        return Lateness(count: values.count, p50Ns: percentile(0.5), p99Ns: percentile(0.99), maxNs: values.last!)
    }

    // MARK: - The sampling thread

    /// The sampling thread wakes on time even when every core is busy: it
    /// runs SCHED_FIFO (it sleeps nearly all the time and only hands work to
    /// the collect threads); without the privilege, nice −10.
    ///
    /// The collect threads run at nice −10 under the default policy, not
    /// real-time: a woken real-time thread that cannot preempt the sampling
    /// thread is pushed to another CPU at once, and on an idle host every
    /// tick then woke a halted CPU through an inter-processor interrupt --
    /// 1.1x (idle containers) to 1.35x (busy) the CPU time of nice −10
    /// (bench/overhead.sh).
    /// nice −10 gives a woken collection about nine times the CPU share of a
    /// default neighbour (CFS weight 9548 vs 1024), which
    /// kept every 10 ms tick with the other core busy (bench/sampler_jitter.sh).
    private static let samplingPriority: Int32 = 1
    private static let collectPriority = CollectWorkers.Priority.nice(-10)

    private func loop() {
        CollectWorkers.raisePriority(Self.samplingPriority)
        var nextInternalNs = HostClock.monotonicNanoseconds() + internalIntervalNs
        while true {
            let (stop, deadline) = state.withLock { ($0.stopRequested, $0.planner.nextDeadlineNs) }
            if stop { return }
            let now = HostClock.monotonicNanoseconds()
            // Wake at the next deadline (add and stop ring the alarm earlier).
            let wake = min(deadline ?? (now + 100_000_000), now + 100_000_000, nextInternalNs)
            if alarm.sleep(untilMonotonicNs: wake) { continue }

            let tickNs = HostClock.monotonicNanoseconds()
            let realtimeNs = HostClock.realtimeNanoseconds()  // one timestamp per tick
            let due = state.withLock { state -> [Int] in
                guard !state.stopRequested else { return [] }
                let due = state.planner.takeDue(nowNs: tickNs)
                if let deadline, !due.isEmpty, state.latenessNs.count < 1_000_000 {
                    state.latenessNs.append(max(0, tickNs - deadline))
                }
                return due
            }
            if !due.isEmpty { dispatch(due, tickNs: deadline.map { min($0, tickNs) } ?? tickNs, realtimeNs: realtimeNs) }
            if tickNs >= nextInternalNs {
                emitInternalCounters(realtimeNs: realtimeNs)
                nextInternalNs = tickNs + internalIntervalNs
            }
        }
    }

    private func dispatch(_ indices: [Int], tickNs: Int64, realtimeNs: Int64) {
        guard let workers = state.withLock({ $0.workers }) else { return }
        for _ in indices { inFlight.enter() }
        if !workers.submit(indices: indices, tickNs: tickNs, realtimeNs: realtimeNs) {
            for _ in indices { inFlight.leave() }
        }
    }

    /// Runs one collection on a collect thread.
    private func collect(_ job: CollectWorkers.Job) {
        defer { inFlight.leave() }
        let slot = state.withLock { $0.slots[job.index] }
        let started = HostClock.monotonicNanoseconds()
        var failure: PluginCallError?
        do throws(PluginCallError) {
            try slot.collector.collect(monotonicNs: job.tickNs, realtimeNs: job.realtimeNs)
        } catch {
            failure = error
        }
        let ended = HostClock.monotonicNanoseconds()
        record(job.index, slot: slot, failure: failure, durationNs: ended - started, nowNs: ended)
    }

    private func record(_ index: Int, slot: Slot, failure: PluginCallError?, durationNs: Int64, nowNs: Int64) {
        let outcome: TickPlanner.Outcome
        switch failure?.status {
        case nil: outcome = .ok
        case .retry?: outcome = .retry
        default: outcome = .disable
        }
        let backoff = state.withLock { state -> Int64? in
            state.statistics[index].collections += 1
            state.statistics[index].collectTimeNs += durationNs
            state.statistics[index].maxCollectTimeNs = max(state.statistics[index].maxCollectTimeNs, durationNs)
            if durationNs > slot.budgetNs { state.statistics[index].overruns += 1 }
            if let failure {
                state.statistics[index].errors += 1
                if failure.status == .retry { state.statistics[index].retries += 1 }
                if outcome == .disable { state.statistics[index].disabledReason = "\(failure.status.name): \(failure.message)" }
            }
            return state.planner.finish(index, outcome: outcome, nowNs: nowNs, jitter: Double.random(in: -1...1))
        }
        guard let failure else { return }
        switch outcome {
        case .retry:
            let milliseconds = (backoff ?? 0) / 1_000_000
            log(PluginLogRecord(pluginID: slot.pluginID, instanceName: slot.instanceName, level: .warn,
                                message: "collect: \(failure.message); retrying in \(milliseconds) ms", suppressedBefore: 0))
        case .disable:
            let what = failure.status == .unsupported ? "unsupported here" : "failed with \(failure.status.name)"
            log(PluginLogRecord(pluginID: slot.pluginID, instanceName: slot.instanceName, level: failure.status == .unsupported ? .warn : .error,
                                message: "collect \(what): \(failure.message); instance disabled, its metrics will be absent", suppressedBefore: 0))
        case .ok:
            break
        }
    }

    private func emitInternalCounters(realtimeNs: Int64) {
        let counters = statistics
        let slots = state.withLock { $0.slots }
        let samples = zip(counters, slots).map { statistics, slot in
            var fields: [(key: String, value: PluginFieldValue)] = [
                ("collections", .integer(Int64(statistics.collections))),
                ("samples", .integer(Int64(slot.emittedSamples()))),
                ("errors", .integer(Int64(statistics.errors))),
                ("retries", .integer(Int64(statistics.retries))),
                ("skipped_ticks", .integer(Int64(statistics.skippedTicks))),
                ("skipped_while_busy", .integer(Int64(statistics.skippedWhileBusy))),
                ("skipped_sampler_late", .integer(Int64(statistics.skippedSamplerLate))),
                ("backoff_ticks", .integer(Int64(statistics.backoffTicks))),
                ("overruns", .integer(Int64(statistics.overruns))),
                ("collect_time_ns", .integer(statistics.collectTimeNs)),
                ("max_collect_time_ns", .integer(statistics.maxCollectTimeNs)),
                ("disabled", .boolean(statistics.disabledReason != nil)),
            ]
            if let reason = statistics.disabledReason { fields.append(("disabled_reason", .string(reason))) }
            return PluginSample(
                measurement: "rdt4nn_internal",
                tags: [("plugin", slot.pluginID), ("instance", slot.instanceName)],
                fields: fields,
                timestampNanoseconds: realtimeNs
            )
        }
        if !samples.isEmpty { emitInternal(samples) }
    }

    /// Sleeps until an absolute CLOCK_MONOTONIC time (no drift).
    public static func sleep(untilMonotonicNs deadline: Int64) {
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }
}
