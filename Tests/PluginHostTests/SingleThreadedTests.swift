import Foundation
import PluginABI
import PluginHost
import Synchronization
import Testing

/// RDT4NN_CAP_SINGLE_THREADED: the host never calls two instances of such a
/// plugin at the same time, whichever threads make the calls.
@Suite struct SingleThreadedTests {
    /// Four instances of the fixture collected from four threads at once,
    /// 15 times each (each collect takes 2 ms and fails when another one
    /// runs): the failures, and whether the plugin declares the capability.
    static func collectFromFourThreads(_ defines: [String]) throws -> (failures: [String], singleThreaded: Bool) {
        let directory = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(defines, into: directory)
        let plugin = try #require(PluginLoader().load(files: [path]).plugin(id: "test.fixture"))
        // Each thread calls only its own instance, as the sampler does (one instance is never called concurrently).
        nonisolated(unsafe) let instances = try (0..<4).map { number in
            try CollectorInstance(descriptor: plugin, instanceName: "c\(number)", config: .object([]), emit: { _ in .ok }, log: { _ in })
        }
        for instance in instances { try instance.start() }
        let failures = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        for number in instances.indices {
            // Threads of their own (concurrentPerform may run inline on a test's thread).
            Thread {
                for _ in 0..<15 {
                    do throws(PluginCallError) {
                        try instances[number].collect(monotonicNs: HostClock.monotonicNanoseconds(), realtimeNs: 1)
                    } catch {
                        failures.withLock { $0.append(error.message) }
                    }
                }
                done.signal()
            }.start()
        }
        for _ in instances { done.wait() }
        for instance in instances { instance.destroy() }
        return (failures.withLock { $0 }, plugin.isSingleThreaded)
    }

    @Test func callsIntoASingleThreadedPluginNeverOverlap() throws {
        let result = try Self.collectFromFourThreads(["-DFIXTURE_OVERLAP_PROBE", "-DFIXTURE_SINGLE_THREADED"])
        #expect(result.singleThreaded)
        #expect(result.failures.isEmpty, "\(result.failures.count) overlapping calls: \(result.failures.prefix(3))")
    }

    @Test func withoutTheCapabilityInstancesAreCalledInParallel() throws {
        // The probe can fail: without the capability the same calls overlap.
        let result = try Self.collectFromFourThreads(["-DFIXTURE_OVERLAP_PROBE"])
        #expect(!result.singleThreaded)
        #expect(!result.failures.isEmpty)
        #expect(result.failures.allSatisfy { $0.hasPrefix("overlap: ") })
    }
}
