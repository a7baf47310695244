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
/// At each deadline the sampling thread collects the due instances itself,
/// one after the other, while a second sampling thread stands by on a
/// watchdog timer: a tick whose collections take longer than a short slice
/// (5 ms, at most half the shortest period) wakes the standby thread, which
/// takes over ticking and hands the tick's remaining collections to a pool of
/// collect threads; the thread that was stuck becomes the standby once its
/// call returns.  Without a standby (start-up, or while the previous ticker
/// is still stuck) the due instances go to the pool at once and run in
/// parallel.  One instance is never called concurrently (a deadline that finds
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
    /// Where the ticking thread sleeps between ticks.
    private let alarm = MonotonicAlarm()
    /// What the standby thread waits on; nil without timerfd (then every
    /// tick goes to the collect threads).
    private let watchdog = WatchdogTimer()
    /// The generation of the ticking role: a takeover increments it (with
    /// `state`'s lock held), and the thread that ticked for an older
    /// generation stands by instead.  Atomic so that the ticking thread can
    /// check it between collections without taking the lock.
    private let tickerGeneration = Atomic<Int>(0)
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
        /// A sampling thread waits on the watchdog timer.
        var standbyReady = false
        /// While the ticking thread collects a tick itself: since when, the
        /// slice it may take, and the thread (demoted if it is stuck).
        var inlineSinceNs: Int64?
        var inlineSliceNs: Int64 = 0
        var inlineThread: pthread_t?
        /// Times the standby thread took over from a ticking thread stuck in
        /// a collection.
        var takeovers = 0
        /// Collections run on the ticking thread itself.
        var inlineCollections = 0
        /// When the internal counters are emitted next (kept across takeovers).
        var nextInternalNs: Int64 = 0
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
        let intervalNs: Int64
        let budgetNs: Int64
        let emittedSamples: @Sendable () -> Int
        init(_ entry: SamplerEntry) {
            collector = entry.collector
            pluginID = entry.pluginID
            instanceName = entry.instanceName
            intervalNs = entry.intervalNs
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
    /// - Parameter timeoutNs: how long to wait for a running collection.
    /// - Returns: false when a collection was still running at the timeout
    ///   (a hung plugin call): the instance must then be left alone, neither
    ///   stopped nor destroyed, as the call may still use it.
    @discardableResult
    public func remove(_ handle: Int, timeoutNs: Int64 = 5_000_000_000) -> Bool {
        state.withLock { $0.planner.disable(handle) }
        let deadline = HostClock.monotonicNanoseconds() + timeoutNs
        while state.withLock({ $0.planner.entries[handle].isBusy }) {
            let now = HostClock.monotonicNanoseconds()
            guard now < deadline else { return false }
            Self.sleep(untilMonotonicNs: min(deadline, now + 1_000_000))
        }
        return true
    }

    /// Starts the sampling threads (the ticking one and the standby one).
    public func start() {
        let alreadyRunning = state.withLock { state -> Bool in
            defer { state.running = true }
            return state.running
        }
        guard !alreadyRunning else { return }
        let workers = CollectWorkers(priority: Self.collectPriority) { [self] job in
            collect(job)
        }
        state.withLock { state in
            state.workers = workers
            state.nextInternalNs = HostClock.monotonicNanoseconds() + internalIntervalNs
        }
        POSIXThread.detach(name: "rdt4nn-sampler") { [self] in
            self.samplingThread(startingAs: .ticker(generation: 0))
        }
        if watchdog != nil {
            POSIXThread.detach(name: "rdt4nn-sampler") { [self] in
                self.samplingThread(startingAs: .standby)
            }
        }
    }

    /// Stops ticking, waits for running collections (at most `timeoutNs`),
    /// and emits the final internal counters.
    /// - Returns: false when some collection was still running at the timeout.
    @discardableResult
    public func stop(timeoutNs: Int64 = 5_000_000_000) -> Bool {
        let wasRunning = state.withLock { state -> Bool in
            state.stopRequested = true
            // Under the lock: an inline tick disarms the timer only while no stop was requested.
            watchdog?.expireNow()
            return state.running
        }
        alarm.ring()
        let deadline = DispatchTime.now() + .nanoseconds(Int(timeoutNs))
        // The ticking thread may itself be inside a collection that hangs.
        let tickerEnded = !wasRunning || finished.wait(timeout: deadline) == .success
        let drained = inFlight.wait(timeout: deadline) == .success && tickerEnded
        // A collection still running after the timeout keeps its thread; the others end now.
        state.withLock { state -> CollectWorkers? in
            defer { state.workers = nil }
            return state.workers
        }?.shutdown(join: drained)
        emitInternalCounters(realtimeNs: HostClock.realtimeNanoseconds())
        return drained
    }

    /// Times the standby sampling thread took over ticking because a
    /// collection on the ticking thread outlasted its slice.
    public var takeovers: Int { state.withLock { $0.takeovers } }

    /// Collections the ticking thread ran itself (the others ran on the
    /// collect threads).
    public var inlineCollections: Int { state.withLock { $0.inlineCollections } }

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

    // MARK: - The sampling threads

    /// The sampling threads wake on time even when every core is busy: they
    /// run SCHED_FIFO (the ticking one sleeps nearly all the time and
    /// collects for well under a millisecond per tick; one stuck longer than
    /// its slice is put back under the default policy by the thread that takes
    /// over); without the privilege, nice −10.  Collecting on the ticking
    /// thread instead of handing every tick to a collect thread saves a
    /// thread wake-up per tick and keeps a tick on one CPU: 0.90x the CPU
    /// time with 8 idle containers at 20 Hz, 0.65-0.9x with busy ones
    /// (bench/overhead.sh with BASELINE=), and the longest call fell from
    /// 4-5 ms to 0.16 ms with the other core busy (bench/sampler_jitter.sh).
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

    /// The longest a tick's collections may run on the ticking thread before
    /// the standby thread takes over: long enough that a normal tick (some
    /// dozen calls of tens of microseconds) never triggers it, and longer
    /// than a scheduler tick, so that arming the timer rarely reprograms the
    /// CPU's timer; at most half the shortest period collected in the tick.
    static let inlineSliceNs: Int64 = 5_000_000

    /// What a sampling thread does next.
    private enum Role {
        /// Ticks while `generation` is the ticking role's generation.
        case ticker(generation: Int)
        /// Waits on the watchdog timer, ready to take over.
        case standby
        /// Ends (stop was requested).
        case exit
    }

    /// The body of both sampling threads: each ticks or stands by, and the
    /// two swap roles when a collection on the ticking thread takes too long.
    private func samplingThread(startingAs first: Role) {
        var role = first
        while true {
            // Again after each change: a stuck ticking thread is demoted by the one that took over.
            CollectWorkers.raisePriority(Self.samplingPriority)
            switch role {
            case .ticker(let generation): role = tick(as: generation)
            case .standby: role = standBy()
            case .exit: return
            }
        }
    }

    /// Ticks until stop (then signals `finished`) or until the standby
    /// thread took over.
    private func tick(as generation: Int) -> Role {
        while true {
            let (stop, deadline, nextInternalNs) = state.withLock { ($0.stopRequested, $0.planner.nextDeadlineNs, $0.nextInternalNs) }
            if stop {
                finished.signal()
                return .exit
            }
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
            if !due.isEmpty {
                let stillTicking = collectDue(due, tickNs: deadline.map { min($0, tickNs) } ?? tickNs, realtimeNs: realtimeNs, generation: generation)
                if !stillTicking { return .standby }
            }
            // Not after a stop request: stop emits the final counters (maybe before this thread, stuck in a call, got here).
            let emitCounters = tickNs >= nextInternalNs && state.withLock { state -> Bool in
                guard !state.stopRequested else { return false }
                state.nextInternalNs = tickNs + internalIntervalNs
                return true
            }
            if emitCounters { emitInternalCounters(realtimeNs: realtimeNs) }
        }
    }

    /// Runs a tick's collections on this (the ticking) thread while the
    /// standby thread waits on the watchdog, else hands them to the collect
    /// threads.
    /// - Returns: false when the standby thread took over meanwhile (this
    ///   thread then stands by).
    private func collectDue(_ indices: [Int], tickNs: Int64, realtimeNs: Int64, generation: Int) -> Bool {
        let plan = state.withLock { state -> (workers: CollectWorkers, inline: Bool)? in
            guard let workers = state.workers else { return nil }
            guard let watchdog, state.standbyReady, !state.stopRequested else { return (workers, false) }
            let sliceNs = indices.reduce(Self.inlineSliceNs) { min($0, state.slots[$1].intervalNs / 2) }
            let now = HostClock.monotonicNanoseconds()
            state.inlineSinceNs = now
            state.inlineSliceNs = sliceNs
            state.inlineThread = pthread_self()
            watchdog.arm(atMonotonicNs: now + sliceNs)
            return (workers, true)
        }
        guard let plan else { return true }
        let (workers, inline) = plan
        for _ in indices { inFlight.enter() }
        guard workers.submit(indices: indices, tickNs: tickNs, realtimeNs: realtimeNs, wakeWorkers: !inline) else {
            // Shut down (stop was requested): nothing to collect.
            for _ in indices { inFlight.leave() }
            return inline ? endInline(collected: 0, generation: generation) : true
        }
        guard inline else { return true }
        var collected = 0
        while let job = workers.takeQueued() {
            collect(job)
            collected += 1
            if tickerGeneration.load(ordering: .acquiring) != generation { break }
        }
        return endInline(collected: collected, generation: generation)
    }

    /// Ends the ticking thread's own collections of a tick.
    /// - Returns: false when the standby thread took over meanwhile.
    private func endInline(collected: Int, generation: Int) -> Bool {
        state.withLock { state -> Bool in
            state.inlineCollections += collected
            guard tickerGeneration.load(ordering: .relaxed) == generation else { return false }
            state.inlineSinceNs = nil
            state.inlineThread = nil
            // After a stop request the timer's expiry is what ends the standby thread.
            if !state.stopRequested { watchdog?.disarm() }
            return true
        }
    }

    /// Waits on the watchdog timer; takes over ticking when the ticking
    /// thread's collections outlast their slice.
    private func standBy() -> Role {
        guard let watchdog else { return .exit }
        let ready = state.withLock { state -> Bool in
            guard !state.stopRequested else { return false }
            state.standbyReady = true
            return true
        }
        guard ready else { return .exit }
        while true {
            guard watchdog.waitForExpiry() else {
                state.withLock { $0.standbyReady = false }
                return .exit
            }
            let decision = state.withLock { state -> Role? in
                if state.stopRequested {
                    state.standbyReady = false
                    return .exit
                }
                // An expiry left from a tick that ended in time (it came just before the disarm).
                guard let since = state.inlineSinceNs, HostClock.monotonicNanoseconds() - since >= state.inlineSliceNs else { return nil }
                if let stuck = state.inlineThread {
                    // Its call goes on under the default policy, not ahead of the benchmark's threads.
                    // Under the lock: the stuck thread cannot have ended (it ends only after taking
                    // this lock) nor raised itself again as the new standby thread.
                    var parameters = sched_param()
                    _ = pthread_setschedparam(stuck, SCHED_OTHER, &parameters)
                }
                state.standbyReady = false
                state.inlineSinceNs = nil
                state.inlineThread = nil
                let generation = tickerGeneration.add(1, ordering: .acquiringAndReleasing).newValue
                state.takeovers += 1
                return .ticker(generation: generation)
            }
            guard let decision else { continue }
            if case .ticker = decision {
                // The tick's collections not yet started go to the collect threads.
                state.withLock { $0.workers }?.wakeForQueued()
            }
            return decision
        }
    }

    /// Runs one collection (on the ticking thread or a collect thread).
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
