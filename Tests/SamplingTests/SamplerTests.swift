import Foundation
import PluginABI
import PluginHost
import Synchronization
import Testing

@testable import Sampling

/// A collector double: counts calls, optionally slow or failing.
private final class FakeCollector: SampledCollector, Sendable {
    enum Behaviour: Sendable {
        case ok, slow(Int64), retryFirst(Int), unsupported
        /// Call number `call` (from 1) takes `ns`, the others return at once.
        case stuckOn(call: Int, ns: Int64)
    }
    let behaviour: Behaviour
    let calls = Mutex<[Int64]>([])
    let running = Mutex(0)
    let overlaps = Mutex(0)
    /// Signalled when a `stuckOn` call begins.
    let stuckCallStarted = DispatchSemaphore(value: 0)

    init(_ behaviour: Behaviour) { self.behaviour = behaviour }

    func collect(monotonicNs: Int64, realtimeNs: Int64) throws(PluginCallError) {
        let concurrent = running.withLock { value -> Int in
            value += 1
            return value
        }
        defer { running.withLock { $0 -= 1 } }
        if concurrent > 1 { overlaps.withLock { $0 += 1 } }
        let count = calls.withLock { calls -> Int in
            calls.append(monotonicNs)
            return calls.count
        }
        switch behaviour {
        case .ok:
            return
        case .slow(let ns):
            Sampler.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + ns)
        case .retryFirst(let n):
            if count <= n { throw PluginCallError(pluginID: "fake", instanceName: "x", function: "collect", status: .retry, message: "busy") }
        case .unsupported:
            throw PluginCallError(pluginID: "fake", instanceName: "x", function: "collect", status: .unsupported, message: "no PMU here")
        case .stuckOn(let call, let ns):
            guard count == call else { return }
            stuckCallStarted.signal()
            Sampler.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + ns)
        }
    }

    var callCount: Int { calls.withLock { $0.count } }
}

/// The sampler on the real monotonic clock (counts are asserted with slack:
/// this machine is shared and has two cores).
@Suite(.serialized) struct SamplerTests {
    let ms: Int64 = 1_000_000

    @Test func aSlowCollectorSkipsItsOwnTicksAndCostsOthersNothing() throws {
        let fast = FakeCollector(.ok)
        let slow = FakeCollector(.slow(70 * 1_000_000))
        let logs = Mutex<[PluginLogRecord]>([])
        let internals = Mutex<[PluginSample]>([])
        let sampler = Sampler(
            entries: [
                SamplerEntry(collector: fast, pluginID: "fast", instanceName: "a", intervalNs: 20 * ms, emittedSamples: { 0 }),
                SamplerEntry(collector: slow, pluginID: "slow", instanceName: "b", intervalNs: 20 * ms, emittedSamples: { 7 }),
            ],
            internalIntervalNs: 200 * ms,
            log: { record in logs.withLock { $0.append(record) } },
            emitInternal: { samples in internals.withLock { $0 += samples } }
        )
        sampler.start()
        Thread.sleep(forTimeInterval: 0.6)
        #expect(sampler.stop())

        let statistics = sampler.statistics
        // ~30 deadlines in 600 ms: the fast one keeps up.
        #expect(fast.callCount >= 20, "fast collector made \(fast.callCount) calls")
        #expect(statistics[0].skippedTicks <= 3)
        // The slow one (70 ms per call at a 20 ms period) skips at least two of every three ticks.
        #expect(slow.callCount <= 10)
        #expect(statistics[1].skippedTicks >= 2 * slow.callCount - 2)
        #expect(statistics[1].overruns == slow.callCount)
        #expect(fast.overlaps.withLock { $0 } == 0)
        #expect(slow.overlaps.withLock { $0 } == 0)
        // Consecutive calls of one instance follow the period grid.
        let stamps = fast.calls.withLock { $0 }
        for (a, b) in zip(stamps, stamps.dropFirst()) { #expect((b - a) % (20 * ms) == 0) }

        let internalSamples = internals.withLock { $0 }
        #expect(internalSamples.count >= 4)
        let last = try #require(internalSamples.last(where: { $0.tags.contains { $0.value == "slow" } }))
        #expect(last.measurement == "rdt4nn_internal")
        #expect(last.fields.first { $0.key == "samples" }?.value == .integer(7))
        #expect(last.fields.first { $0.key == "collections" }?.value == .integer(Int64(slow.callCount)))
        #expect(logs.withLock { $0 }.isEmpty)
    }

    @Test func retryBacksOffAndRecovers() {
        let flaky = FakeCollector(.retryFirst(2))
        let logs = Mutex<[PluginLogRecord]>([])
        let sampler = Sampler(
            entries: [SamplerEntry(collector: flaky, pluginID: "flaky", instanceName: "c", intervalNs: 10 * ms, emittedSamples: { 0 })],
            log: { record in logs.withLock { $0.append(record) } },
            emitInternal: { _ in }
        )
        sampler.start()
        // 100 ms + 200 ms of backoff (±20 %), then every 10 ms again.
        Thread.sleep(forTimeInterval: 0.7)
        sampler.stop()
        let statistics = sampler.statistics[0]
        #expect(statistics.retries == 2)
        #expect(statistics.disabledReason == nil)
        #expect(flaky.callCount >= 10, "recovered collector made \(flaky.callCount) calls")
        #expect(statistics.backoffTicks >= 15)
        let messages = logs.withLock { $0 }.map(\.message)
        #expect(messages.count == 2)
        #expect(messages.first?.hasPrefix("collect: busy; retrying in ") == true)
    }

    @Test func unsupportedDisablesOnceWithTheReason() {
        let broken = FakeCollector(.unsupported)
        let healthy = FakeCollector(.ok)
        let logs = Mutex<[PluginLogRecord]>([])
        let sampler = Sampler(
            entries: [
                SamplerEntry(collector: broken, pluginID: "perf", instanceName: "web", intervalNs: 10 * ms, emittedSamples: { 0 }),
                SamplerEntry(collector: healthy, pluginID: "procstat", instanceName: "host", intervalNs: 10 * ms, emittedSamples: { 0 }),
            ],
            log: { record in logs.withLock { $0.append(record) } },
            emitInternal: { _ in }
        )
        sampler.start()
        Thread.sleep(forTimeInterval: 0.2)
        sampler.stop()
        #expect(broken.callCount == 1)
        #expect(healthy.callCount >= 10)
        #expect(sampler.statistics[0].disabledReason == "UNSUPPORTED: no PMU here")
        let records = logs.withLock { $0 }
        #expect(records.count == 1)
        #expect(records.first?.message == "collect unsupported here: no PMU here; instance disabled, its metrics will be absent")
    }

    @Test func instancesJoinAndLeaveWhileRunning() {
        let early = FakeCollector(.ok)
        let late = FakeCollector(.slow(15 * 1_000_000))
        let sampler = Sampler(log: { _ in }, emitInternal: { _ in })
        sampler.start()
        let first = sampler.add(SamplerEntry(collector: early, pluginID: "a", instanceName: "early", intervalNs: 10 * ms, emittedSamples: { 0 }))
        Thread.sleep(forTimeInterval: 0.1)
        let second = sampler.add(SamplerEntry(collector: late, pluginID: "b", instanceName: "late", intervalNs: 10 * ms, emittedSamples: { 0 }))
        Thread.sleep(forTimeInterval: 0.1)
        sampler.remove(second)
        // After remove returns, the instance is never called again and no call is running.
        let lateCalls = late.callCount
        #expect(late.running.withLock { $0 } == 0)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(late.callCount == lateCalls)
        sampler.remove(first)
        sampler.stop()
        #expect(early.callCount >= 10)
        #expect(lateCalls >= 2)
        #expect(sampler.statistics.map(\.instanceName) == ["early", "late"])
    }

    @Test func anInstanceAddedToAnIdleSamplerIsCollectedFromItsFirstDeadline() {
        let collector = FakeCollector(.ok)
        let sampler = Sampler(log: { _ in }, emitInternal: { _ in })
        sampler.start()
        // With nothing to sample the sampling thread sleeps up to 100 ms; adding must wake it.
        Thread.sleep(forTimeInterval: 0.02)
        let added = HostClock.monotonicNanoseconds()
        sampler.add(SamplerEntry(collector: collector, pluginID: "a", instanceName: "new", intervalNs: 10 * ms, emittedSamples: { 0 }))
        Thread.sleep(forTimeInterval: 0.06)
        let stopAsked = HostClock.monotonicNanoseconds()
        sampler.stop()
        let stopped = HostClock.monotonicNanoseconds()
        let first = collector.calls.withLock { $0.first }
        #expect(first.map { $0 - added < 20 * ms } == true, "first collection \(first.map { ($0 - added) / ms } ?? -1) ms after add")
        #expect(sampler.statistics[0].skippedSamplerLate == 0)
        // stop() rings the alarm instead of waiting out a sleep.
        #expect(stopped - stopAsked < 50 * ms)
    }

    @Test func instancesWithTheSamePeriodShareTicks() {
        let first = FakeCollector(.ok)
        let second = FakeCollector(.ok)
        let sampler = Sampler(log: { _ in }, emitInternal: { _ in })
        sampler.start()
        sampler.add(SamplerEntry(collector: first, pluginID: "a", instanceName: "first", intervalNs: 20 * ms, emittedSamples: { 0 }))
        Thread.sleep(forTimeInterval: 0.033)  // off the grid on purpose
        sampler.add(SamplerEntry(collector: second, pluginID: "a", instanceName: "second", intervalNs: 20 * ms, emittedSamples: { 0 }))
        Thread.sleep(forTimeInterval: 0.3)
        sampler.stop()
        let a = Set(first.calls.withLock { $0 })
        let b = second.calls.withLock { $0 }
        #expect(b.count >= 8)
        // Every tick of the later instance is also a tick of the earlier one.
        #expect(b.filter { !a.contains($0) }.count <= 1, "the last tick may race the stop")
    }

    @Test func latenessIsMeasured() {
        let collector = FakeCollector(.ok)
        let sampler = Sampler(
            entries: [SamplerEntry(collector: collector, pluginID: "x", instanceName: "y", intervalNs: 5 * ms, emittedSamples: { 0 })],
            log: { _ in },
            emitInternal: { _ in }
        )
        sampler.start()
        Thread.sleep(forTimeInterval: 0.2)
        sampler.stop()
        let lateness = sampler.lateness
        #expect(lateness.count >= 20)
        #expect(lateness.p50Ns >= 0 && lateness.p50Ns <= lateness.p99Ns && lateness.p99Ns <= lateness.maxNs)
    }

    @Test func theTickingThreadCollectsItselfAndAStuckCallHandsTickingToTheStandbyThread() throws {
        let fast = FakeCollector(.ok)
        // The tenth call (≈ 100 ms in, long after the standby thread is ready) hangs for 300 ms.
        let stuck = FakeCollector(.stuckOn(call: 10, ns: 300 * ms))
        let logs = Mutex<[PluginLogRecord]>([])
        let sampler = Sampler(
            entries: [
                SamplerEntry(collector: stuck, pluginID: "stuck", instanceName: "a", intervalNs: 10 * ms, emittedSamples: { 0 }),
                SamplerEntry(collector: fast, pluginID: "fast", instanceName: "b", intervalNs: 10 * ms, emittedSamples: { 0 }),
            ],
            log: { record in logs.withLock { $0.append(record) } },
            emitInternal: { _ in }
        )
        sampler.start()
        Thread.sleep(forTimeInterval: 0.7)
        #expect(sampler.stop())

        // Normal ticks ran on the ticking thread itself.
        #expect(sampler.inlineCollections >= 40, "\(sampler.inlineCollections) of \(fast.callCount + stuck.callCount) collections on the ticking thread")
        // The stuck call made the standby thread take over (once, unless a tick was preempted for 5 ms).
        #expect((1...5).contains(sampler.takeovers), "\(sampler.takeovers) takeovers")
        // Meanwhile the other instance kept its ticks: no gap longer than a few periods.
        let stamps = fast.calls.withLock { $0 }
        #expect(stamps.count >= 50, "fast collector made \(stamps.count) calls in 700 ms at 10 ms")
        let longestGap = zip(stamps, stamps.dropFirst()).map { $1 - $0 }.max() ?? 0
        #expect(longestGap <= 40 * ms, "longest gap between the fast instance's ticks: \(longestGap / ms) ms")
        // The stuck instance skipped its ticks during the hang, then was collected again.
        let statistics = sampler.statistics
        #expect(statistics[0].skippedWhileBusy >= 25)
        let stuckStamps = stuck.calls.withLock { $0 }
        #expect(stuckStamps.count >= 20)
        #expect(stuckStamps.count >= 10 && stuckStamps.last! - stuckStamps[9] >= 300 * ms)
        #expect(fast.overlaps.withLock { $0 } == 0 && stuck.overlaps.withLock { $0 } == 0)
        #expect(logs.withLock { $0 }.isEmpty)
    }

    @Test func stopReturnsAtItsTimeoutWhileACallHangs() {
        let stuck = FakeCollector(.stuckOn(call: 5, ns: 3_000 * ms))
        let sampler = Sampler(
            entries: [SamplerEntry(collector: stuck, pluginID: "stuck", instanceName: "a", intervalNs: 10 * ms, emittedSamples: { 0 })],
            log: { _ in },
            emitInternal: { _ in }
        )
        sampler.start()
        #expect(stuck.stuckCallStarted.wait(timeout: .now() + 2) == .success)
        // At once: most likely still on the ticking thread, before the standby thread took over.
        let started = HostClock.monotonicNanoseconds()
        let drained = sampler.stop(timeoutNs: 200 * ms)
        let took = HostClock.monotonicNanoseconds() - started
        #expect(!drained)
        #expect(took >= 200 * ms && took < 1_000 * ms, "stop took \(took / ms) ms")
    }
}
