import Dispatch
import SystemSupport
import PluginABI
import PluginHost
import Synchronization

/// A sink as the pipeline drives it: the ``SinkInstance`` of a plugin, or a
/// test double.
public protocol PipelineSink: AnyObject {
    /// Offers samples; the outcome says which were handled.
    func write(_ samples: [PluginSample]) throws(PluginContractError) -> SinkWriteOutcome
    /// Makes written data durable.
    func flush() throws(PluginCallError)
}

extension SinkInstance: PipelineSink {}

/// Carries samples from collectors to sinks: one bounded buffer and one
/// writer thread per sink, batching by count and interval, retrying with
/// capped exponential backoff and jitter, and spooling to disk (or dropping,
/// or failing) when a buffer overflows.  `submit` never blocks on a sink.
public final class Pipeline: Sendable {
    private let lanes: [Lane]
    private let failureState = Mutex<String?>(nil)

    /// Creates a pipeline; writer threads start at once.
    /// - Parameter log: receives warnings (overflow, retries, failures).
    public init(sinks: [(name: String, sink: any PipelineSink, policy: SinkPolicy)], log: @escaping @Sendable (String) -> Void) {
        lanes = sinks.map { Lane(name: $0.name, sink: $0.sink, policy: $0.policy, log: log) }
        for lane in lanes { lane.start() }
    }

    /// Hands samples to every sink's buffer.
    /// - Returns: `.ok`, or `.backpressure` once a `fail` overflow policy tripped.
    @discardableResult
    public func submit(_ samples: [PluginSample]) -> PluginStatus {
        guard !samples.isEmpty else { return .ok }
        for lane in lanes {
            if let failure = lane.offer(samples) {
                failureState.withLock { if $0 == nil { $0 = failure } }
            }
        }
        return failureState.withLock { $0 } == nil ? .ok : .backpressure
    }

    /// Why the run must stop (a `fail` overflow policy tripped), if it must.
    public var failure: String? { failureState.withLock { $0 } }

    /// Samples buffered in memory over all sinks (the progress line's backlog).
    public var backlog: Int { lanes.reduce(0) { $0 + $1.summary.pendingInMemory } }

    /// Current counters per sink.
    public var summaries: [SinkSummary] { lanes.map(\.summary) }

    /// Writes what is buffered (retrying up to each policy's final-flush
    /// timeout), spools what still cannot be written, flushes the sinks and
    /// stops the writer threads.
    /// - Returns: the final counters per sink.
    public func finish() -> [SinkSummary] {
        for lane in lanes { lane.requestStop() }
        for lane in lanes { lane.waitUntilStopped() }
        return summaries
    }
}

/// One sink's buffer and writer thread.
///
/// `@unchecked Sendable` is sound: `sink`, `spool` reads and `replay` are
/// used only by the lane's own writer thread; everything shared between the
/// submitting threads and the writer lives in `state` behind its mutex.
final class Lane: @unchecked Sendable {
    let name: String
    private let sink: any PipelineSink
    private let policy: SinkPolicy
    private let log: @Sendable (String) -> Void
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let state: Mutex<State>
    private let spool: SpoolFile?
    /// Spooled samples read back, written before the buffer (writer thread only).
    private var replay: [PluginSample] = []

    private struct State {
        var buffer: [PluginSample] = []
        /// Samples at the front of `buffer` the writer is sending now: an
        /// overflow must not spool or drop them, or the write's result would
        /// remove other samples than the ones sent.
        var inFlight = 0
        var oldestArrivalNs: Int64 = 0
        var summary: SinkSummary
        var stopRequested = false
        var stopDeadlineNs: Int64 = .max
        var retryUntilNs: Int64 = 0
        var consecutiveRetries = 0
        var droppedSinceLog = 0
    }

    init(name: String, sink: any PipelineSink, policy: SinkPolicy, log: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.sink = sink
        self.policy = policy
        self.log = log
        spool = policy.spoolPath.map { SpoolFile(path: $0) }
        state = Mutex(State(summary: SinkSummary(sink: name)))
    }

    func start() {
        POSIXThread.detach(name: "rdt4nn-sink-\(name)") { [self] in
            self.run()
            self.stopped.signal()
        }
    }

    var summary: SinkSummary {
        let spoolPending = spool?.unreadCount ?? 0
        return state.withLock { state in
            var summary = state.summary
            summary.pendingInMemory = state.buffer.count
            summary.pendingInSpool = spoolPending
            return summary
        }
    }

    /// Adds samples; returns a failure message when a `fail` policy tripped.
    func offer(_ samples: [PluginSample]) -> String? {
        var failure: String?
        var wakeWriter = false
        var spoolError: String?
        state.withLock { state in
            state.summary.received += samples.count
            if state.summary.failure != nil {
                // The sink is gone for good: keep the data on disk.
                spoolError = spillToSpool(samples, state: &state)
                return
            }
            if state.buffer.isEmpty { state.oldestArrivalNs = HostClock.monotonicNanoseconds() }
            state.buffer += samples
            // The oldest samples not being written leave first.
            let excess = min(state.buffer.count - policy.bufferLimit, state.buffer.count - state.inFlight)
            let oldestIdle = state.inFlight..<(state.inFlight + max(excess, 0))
            if excess > 0 {
                switch policy.overflow {
                case .spool:
                    let oldest = Array(state.buffer[oldestIdle])
                    state.buffer.removeSubrange(oldestIdle)
                    spoolError = spillToSpool(oldest, state: &state)
                case .dropOldest:
                    state.buffer.removeSubrange(oldestIdle)
                    state.summary.dropped += excess
                    state.droppedSinceLog += excess
                case .fail:
                    state.buffer.removeLast(excess)
                    state.summary.dropped += excess
                    failure = "sink '\(name)': buffer full (\(policy.bufferLimit) samples) and the overflow policy is 'fail'"
                }
            }
            wakeWriter = state.buffer.count >= policy.batchSize
        }
        if let spoolError { log(spoolError) }
        if wakeWriter { wake.signal() }
        return failure
    }

    /// Appends to the spool file (called with the state locked).
    private func spillToSpool(_ samples: [PluginSample], state: inout State) -> String? {
        guard let spool else {
            state.summary.dropped += samples.count
            return "sink '\(name)': \(samples.count) sample(s) dropped: no spool file configured"
        }
        do {
            try spool.append(samples)
            state.summary.spooled += samples.count
            return nil
        } catch {
            state.summary.dropped += samples.count
            return "sink '\(name)': \(samples.count) sample(s) dropped: \(error)"
        }
    }

    func requestStop() {
        state.withLock { state in
            state.stopRequested = true
            state.stopDeadlineNs = HostClock.monotonicNanoseconds() + policy.finalFlushTimeoutNs
        }
        wake.signal()
    }

    func waitUntilStopped() { stopped.wait() }

    // MARK: - Writer thread

    private enum Step {
        case write([PluginSample], fromReplay: Bool)
        case wait(Int64)
        case finish
    }

    private func run() {
        while true {
            switch nextStep() {
            case .finish:
                finishUp()
                return
            case .wait(let ns):
                _ = wake.wait(timeout: .now() + .nanoseconds(Int(max(1_000_000, min(ns, 1_000_000_000)))))
            case .write(let batch, let fromReplay):
                write(batch, fromReplay: fromReplay)
            }
        }
    }

    private func nextStep() -> Step {
        let now = HostClock.monotonicNanoseconds()
        // Spooled samples come back once the sink has proven healthy and
        // the live buffer is not pressing.
        if replay.isEmpty, let spool, spool.unreadCount > 0 {
            let (healthy, live) = state.withLock { ($0.consecutiveRetries == 0 && $0.summary.failure == nil && $0.retryUntilNs <= now, $0.buffer.count) }
            if healthy && live < policy.batchSize {
                do {
                    replay = try spool.read(maximum: policy.batchSize)
                } catch {
                    log("sink '\(name)': cannot replay the spool file: \(error)")
                }
            }
        }
        return state.withLock { state -> Step in
            if state.summary.failure != nil {
                return state.stopRequested ? .finish : .wait(100_000_000)
            }
            if state.retryUntilNs > now {
                if state.stopRequested && now >= state.stopDeadlineNs { return .finish }
                return .wait(min(state.retryUntilNs, state.stopDeadlineNs) - now)
            }
            if !replay.isEmpty {
                return .write(Array(replay.prefix(policy.batchSize)), fromReplay: true)
            }
            let count = state.buffer.count
            let due = count >= policy.batchSize || (count > 0 && (now - state.oldestArrivalNs >= policy.flushIntervalNs || state.stopRequested))
            if due {
                state.inFlight = min(count, policy.batchSize)
                return .write(Array(state.buffer.prefix(policy.batchSize)), fromReplay: false)
            }
            if state.stopRequested && count == 0 { return .finish }
            if state.droppedSinceLog > 0 {
                log("sink '\(name)': dropped \(state.droppedSinceLog) oldest sample(s): buffer full (\(policy.bufferLimit)); overflow policy drop_oldest")
                state.droppedSinceLog = 0
            }
            return .wait(count > 0 ? state.oldestArrivalNs + policy.flushIntervalNs - now : policy.flushIntervalNs)
        }
    }

    private func write(_ batch: [PluginSample], fromReplay: Bool) {
        let outcome: SinkWriteOutcome
        do {
            outcome = try sink.write(batch)
        } catch {
            state.withLock { $0.inFlight = 0 }
            fail("the sink broke the write contract: \(error)")
            return
        }
        let processed = outcome.processedCount
        let rejected = outcome.rejectedIndices.count
        if fromReplay {
            replay.removeFirst(processed)
        }
        let now = HostClock.monotonicNanoseconds()
        let message: String? = state.withLock { state in
            if !fromReplay {
                state.inFlight = 0
                state.buffer.removeFirst(processed)
                if !state.buffer.isEmpty && processed > 0 { state.oldestArrivalNs = now }
            } else {
                state.summary.replayed += processed - rejected
            }
            state.summary.written += processed - rejected
            state.summary.rejected += rejected
            if rejected > 0, state.summary.rejectReasons.count < 5 {
                state.summary.rejectReasons.append(outcome.message ?? "rejected by the sink")
            }
            switch outcome.status {
            case .ok:
                state.consecutiveRetries = 0
                state.retryUntilNs = 0
                return nil
            case .retry:
                state.summary.retries += 1
                state.consecutiveRetries += 1
                let exponent = Int64(min(state.consecutiveRetries - 1, 20))
                let base = min(policy.maximumBackoffNs, 100_000_000 << exponent)
                let jittered = base + Int64(Double(base) * 0.2 * Double.random(in: -1...1))
                let wait = min(policy.maximumBackoffNs, max(outcome.retryAfterNs, jittered))
                state.retryUntilNs = now + wait
                if state.consecutiveRetries == 1 || state.consecutiveRetries % 10 == 0 {
                    return "sink '\(name)': write to retry (\(outcome.message ?? "no reason given")); retrying in \(wait / 1_000_000) ms"
                }
                return nil
            default:
                return "FAILURE"
            }
        }
        if message == "FAILURE" {
            fail("write returned \(outcome.status.name): \(outcome.message ?? "no reason given")")
        } else if let message {
            log(message)
        }
    }

    /// The sink cannot work any more: keep everything on disk.
    private func fail(_ reason: String) {
        log("sink '\(name)' failed: \(reason); its samples go to the spool file from now on")
        // Samples read back from the spool but not written go back to it.
        let leftovers = replay
        replay = []
        let error = state.withLock { state -> String? in
            state.summary.failure = reason
            let buffered = state.buffer
            state.buffer = []
            if !leftovers.isEmpty { state.summary.spooled -= leftovers.count }
            return spillToSpool(leftovers + buffered, state: &state)
        }
        if let error { log(error) }
    }

    private func finishUp() {
        // Whatever could not be written in time goes to the spool file.
        let leftovers = replay
        replay = []
        let error = state.withLock { state -> String? in
            guard !state.buffer.isEmpty || !leftovers.isEmpty else { return nil }
            let rest = state.buffer
            state.buffer = []
            // Re-spooled replay samples were counted as spooled already.
            state.summary.spooled -= leftovers.count
            return spillToSpool(leftovers + rest, state: &state)
        }
        if let error { log(error) }
        do {
            try sink.flush()
        } catch {
            log("sink '\(name)': flush failed: \(error)")
        }
        spool?.close()
    }
}
