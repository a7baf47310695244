import PluginHost
import Synchronization
import Testing

@testable import Sampling

/// The collect thread pool: every job runs once, a stuck job holds up only
/// its own thread, shutdown lets queued jobs finish.
@Suite struct CollectWorkersTests {
    @Test func everyJobRunsOnceEvenWhenOneIsStuck() {
        let ran = Mutex<[Int: Int64]>([:])
        let release = Mutex(false)
        let workers = CollectWorkers(count: 4, priority: .inherited) { job in
            if job.index == 0 {
                // Stuck until released (a collector blocked in a system call).
                while !release.withLock({ $0 }) { Sampler.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + 1_000_000) }
            }
            ran.withLock { $0[job.index] = HostClock.monotonicNanoseconds() }
        }
        let start = HostClock.monotonicNanoseconds()
        workers.submit(indices: Array(0..<10), tickNs: 1, realtimeNs: 2)
        // The nine others finish while job 0 is stuck.
        var waited = 0
        while ran.withLock({ $0.count }) < 9 && waited < 2_000 {
            Sampler.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + 1_000_000)
            waited += 1
        }
        #expect(ran.withLock { Set($0.keys) } == Set(1..<10))
        #expect(ran.withLock { $0.values.max() ?? 0 } - start < 1_000_000_000)
        // A second tick is served by the three threads that are not stuck.
        workers.submit(indices: [10, 11, 12], tickNs: 3, realtimeNs: 4)
        waited = 0
        while ran.withLock({ $0.count }) < 12 && waited < 2_000 {
            Sampler.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + 1_000_000)
            waited += 1
        }
        #expect(ran.withLock { $0.count } == 12)
        release.withLock { $0 = true }
        workers.shutdown(join: true)
        #expect(ran.withLock { Set($0.keys) } == Set(0..<13))
        // After shutdown nothing is accepted.
        #expect(!workers.submit(indices: [99], tickNs: 5, realtimeNs: 6))
    }

    @Test func shutdownRunsWhatWasQueued() {
        let count = Mutex(0)
        let workers = CollectWorkers(count: 2, priority: .inherited) { _ in
            Sampler.sleep(untilMonotonicNs: HostClock.monotonicNanoseconds() + 2_000_000)
            count.withLock { $0 += 1 }
        }
        workers.submit(indices: Array(0..<20), tickNs: 1, realtimeNs: 1)
        workers.shutdown(join: true)
        #expect(count.withLock { $0 } == 20)
    }
}
