import Testing

@testable import Sampling

/// The scheduling rules, on a clock the test controls.
struct TickPlannerTests {
    let ms: Int64 = 1_000_000

    @Test func instancesComeDueOnTheirOwnPeriods() {
        var planner = TickPlanner()
        let fast = planner.add(intervalNs: 10 * ms, startNs: 0)
        let slow = planner.add(intervalNs: 50 * ms, startNs: 0)
        #expect(planner.nextDeadlineNs == 10 * ms)
        #expect(planner.takeDue(nowNs: 9 * ms) == [])
        #expect(planner.takeDue(nowNs: 10 * ms) == [fast])
        planner.finish(fast, outcome: .ok, nowNs: 11 * ms)
        for tick in 2...4 {
            #expect(planner.takeDue(nowNs: Int64(tick) * 10 * ms) == [fast])
            planner.finish(fast, outcome: .ok, nowNs: Int64(tick) * 10 * ms + 1)
        }
        #expect(planner.takeDue(nowNs: 50 * ms) == [fast, slow])
        #expect(planner.entries[slow].nextDeadlineNs == 100 * ms)
    }

    @Test func aStillRunningCallSkipsTheTickInsteadOfQueueing() {
        var planner = TickPlanner()
        let index = planner.add(intervalNs: 10 * ms, startNs: 0)
        #expect(planner.takeDue(nowNs: 10 * ms) == [index])
        // Still busy at the next two deadlines: both skipped, nothing queued.
        #expect(planner.takeDue(nowNs: 20 * ms) == [])
        #expect(planner.takeDue(nowNs: 30 * ms) == [])
        #expect(planner.entries[index].skippedTicks == 2)
        #expect(planner.entries[index].skippedWhileBusy == 2)
        #expect(planner.entries[index].skippedSamplerLate == 0)
        planner.finish(index, outcome: .ok, nowNs: 35 * ms)
        #expect(planner.takeDue(nowNs: 40 * ms) == [index])
        #expect(planner.entries[index].skippedTicks == 2)
    }

    @Test func deadlinesMissedByALateSamplerAreCountedNotReplayed() {
        var planner = TickPlanner()
        let index = planner.add(intervalNs: 10 * ms, startNs: 0)
        // The sampler wakes at 45 ms: the 10, 20, 30 ms ticks are gone; one collection for 40 ms.
        #expect(planner.takeDue(nowNs: 45 * ms) == [index])
        #expect(planner.entries[index].skippedTicks == 3)
        #expect(planner.entries[index].skippedSamplerLate == 3)
        #expect(planner.entries[index].skippedWhileBusy == 0)
        #expect(planner.entries[index].nextDeadlineNs == 50 * ms)
    }

    @Test func retryBacksOffExponentiallyCappedAndRecovers() {
        var planner = TickPlanner()
        let index = planner.add(intervalNs: 10 * ms, startNs: 0)
        var backoffs: [Int64] = []
        var now: Int64 = 0
        for _ in 0..<12 {
            now = planner.entries[index].nextDeadlineNs
            // Run forward until the instance is due again.
            while planner.takeDue(nowNs: now) != [index] { now = planner.entries[index].nextDeadlineNs }
            backoffs.append(planner.finish(index, outcome: .retry, nowNs: now) ?? -1)
        }
        #expect(Array(backoffs.prefix(5)) == [100, 200, 400, 800, 1600].map { $0 * ms })
        #expect(backoffs.last == TickPlanner.maximumBackoffNs)
        #expect(planner.entries[index].backoffTicks > 0)
        planner.finish(index, outcome: .ok, nowNs: now)
        #expect(planner.entries[index].consecutiveRetries == 0)
        #expect(planner.entries[index].backoffUntilNs == 0)
    }

    @Test func jitterSpreadsRetriesWithinTwentyPercent() {
        var planner = TickPlanner()
        let index = planner.add(intervalNs: 10 * ms, startNs: 0)
        _ = planner.takeDue(nowNs: 10 * ms)
        #expect(planner.finish(index, outcome: .retry, nowNs: 10 * ms, jitter: 1) == 120 * ms)
        _ = planner.takeDue(nowNs: 200 * ms)
        #expect(planner.finish(index, outcome: .retry, nowNs: 200 * ms, jitter: -1) == 160 * ms)
    }

    @Test func aDisabledInstanceIsNeverDueAgain() {
        var planner = TickPlanner()
        let index = planner.add(intervalNs: 10 * ms, startNs: 0)
        _ = planner.takeDue(nowNs: 10 * ms)
        planner.finish(index, outcome: .disable, nowNs: 11 * ms)
        #expect(planner.nextDeadlineNs == nil)
        #expect(planner.takeDue(nowNs: 1_000 * ms) == [])
    }
}
