/// Decides, from the monotonic clock alone, which collector instances are due
/// at a tick, which ticks are skipped, and how long a failing instance backs
/// off.  Pure value logic (no threads, no clock reads), so its rules are
/// tested deterministically; ``Sampler`` drives it from a real clock.
public struct TickPlanner: Sendable {
    /// Per-instance scheduling state.
    public struct Entry: Sendable, Equatable {
        /// Sampling period.
        public var intervalNs: Int64
        /// The next absolute deadline.
        public var nextDeadlineNs: Int64
        /// A collection is running (started and not finished).
        public var isBusy = false
        /// Do not collect before this time (backoff after RETRY).
        public var backoffUntilNs: Int64 = 0
        /// Consecutive RETRY results.
        public var consecutiveRetries = 0
        /// Disabled for good (UNSUPPORTED, FATAL, ...).
        public var isDisabled = false
        /// Deadlines passed over because the previous call still ran or
        /// because the sampler itself fell behind (the sum of the next two).
        public var skippedTicks: Int { skippedWhileBusy + skippedSamplerLate }
        /// Deadlines that found the previous call still running.
        public var skippedWhileBusy = 0
        /// Deadlines that had passed entirely before the sampler woke.
        public var skippedSamplerLate = 0
        /// Deadlines passed over while backing off.
        public var backoffTicks = 0
    }

    /// Longest backoff after repeated RETRY.
    public static let maximumBackoffNs: Int64 = 10_000_000_000
    /// First backoff after a RETRY.
    public static let initialBackoffNs: Int64 = 100_000_000

    /// Entries by instance number.
    public private(set) var entries: [Entry] = []

    /// An empty planner.
    public init() {}

    /// Adds an instance whose first deadline is `startNs + intervalNs`;
    /// returns its number.
    public mutating func add(intervalNs: Int64, startNs: Int64) -> Int {
        precondition(intervalNs > 0, "interval must be positive")
        entries.append(Entry(intervalNs: intervalNs, nextDeadlineNs: startNs + intervalNs))
        return entries.count - 1
    }

    /// The earliest deadline of any enabled instance, or nil when none is left.
    public var nextDeadlineNs: Int64? {
        entries.lazy.filter { !$0.isDisabled }.map(\.nextDeadlineNs).min()
    }

    /// Instances to collect now; advances their deadlines.  A deadline that
    /// finds the previous call still running is skipped and counted (never
    /// queued); deadlines missed entirely (the sampler was late) are counted
    /// as skipped too; an instance in backoff is passed over.
    public mutating func takeDue(nowNs: Int64) -> [Int] {
        var due: [Int] = []
        for index in entries.indices where !entries[index].isDisabled && entries[index].nextDeadlineNs <= nowNs {
            var entry = entries[index]
            // How many whole periods have elapsed past the deadline: those
            // ticks can no longer happen on time.
            let late = (nowNs - entry.nextDeadlineNs) / entry.intervalNs
            entry.nextDeadlineNs += (late + 1) * entry.intervalNs
            entry.skippedSamplerLate += Int(late)
            if entry.isBusy {
                entry.skippedWhileBusy += 1
            } else if entry.backoffUntilNs > nowNs {
                entry.backoffTicks += 1
            } else {
                entry.isBusy = true
                due.append(index)
            }
            entries[index] = entry
        }
        return due
    }

    /// Takes an instance out of the schedule for good (its container stopped).
    /// A collection already running finishes normally.
    public mutating func disable(_ index: Int) {
        entries[index].isDisabled = true
    }

    /// What a finished collection returned, as far as scheduling cares.
    public enum Outcome: Sendable, Equatable {
        case ok
        case retry
        case disable
    }

    /// Records the end of instance `index`'s collection.
    /// - Parameter jitter: a value in [-1, 1] spreading retries apart.
    /// - Returns: the backoff chosen after a retry, if any.
    @discardableResult
    public mutating func finish(_ index: Int, outcome: Outcome, nowNs: Int64, jitter: Double = 0) -> Int64? {
        entries[index].isBusy = false
        switch outcome {
        case .ok:
            entries[index].consecutiveRetries = 0
            entries[index].backoffUntilNs = 0
            return nil
        case .retry:
            entries[index].consecutiveRetries += 1
            let exponent = min(entries[index].consecutiveRetries - 1, 20)
            let base = min(Self.maximumBackoffNs, Self.initialBackoffNs << Int64(exponent))
            let spread = Int64(Double(base) * 0.2 * max(-1, min(1, jitter)))
            let backoff = min(Self.maximumBackoffNs, max(Self.initialBackoffNs / 2, base + spread))
            entries[index].backoffUntilNs = nowNs + backoff
            return backoff
        case .disable:
            entries[index].isDisabled = true
            return nil
        }
    }
}
