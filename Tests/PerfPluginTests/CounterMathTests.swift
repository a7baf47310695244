import Foundation
@testable import PerfPlugin
import PluginABI
import Testing

/// The multiplexing arithmetic and derived ratios, which this VM's
/// software-only PMU never exercises for real (software events are never
/// multiplexed and hardware events cannot be opened).
struct CounterMathTests {
    static func reading(_ value: UInt64, _ enabled: UInt64, _ running: UInt64) -> CounterReading {
        CounterReading(value: value, enabled: enabled, running: running, valid: true)
    }

    @Test("each slot is scaled by its own enabled/running ratio, then summed")
    func scalesEachSlotByItsOwnRatio() {
        let before = [Self.reading(100, 1000, 500), Self.reading(0, 0, 0)]
        let after = [Self.reading(300, 2000, 1000), Self.reading(50, 1000, 1000)]
        let delta = CounterMath.delta(previous: before[...], current: after[...])
        // slot 0: 200 raw in 500 ns running of 1000 ns enabled → 400; slot 1: 50 unscaled.
        #expect(delta.scaled == 450)
        #expect(delta.raw == 250)
        #expect(delta.enabled == 2000)
        #expect(delta.running == 1500)
        #expect(delta.timesKnown)
    }

    @Test("enabled but never running is 'not counted' (nil), never enabled is 0 events")
    func notCountedIsAbsent() {
        let before = [Self.reading(10, 100, 100), Self.reading(5, 50, 50)]
        let multiplexedOut = [Self.reading(10, 200, 100), Self.reading(5, 50, 50)]
        let outDelta = CounterMath.delta(previous: before[...], current: multiplexedOut[...])
        #expect(outDelta.scaled == nil)
        #expect(outDelta.enabled == 100 && outDelta.running == 0 && outDelta.timesKnown)

        let idle = CounterMath.delta(previous: before[...], current: before[...])
        #expect(idle.scaled == 0, "a cgroup that did not run counted 0 events")
    }

    @Test("a missing or backwards reading makes the value and times unknown")
    func invalidReadings() {
        let before = [Self.reading(10, 100, 100), Self.reading(5, 50, 50)]
        var missing = [Self.reading(20, 200, 200), Self.reading(5, 50, 50)]
        missing[1].valid = false
        let missingDelta = CounterMath.delta(previous: before[...], current: missing[...])
        #expect(missingDelta.scaled == nil && !missingDelta.timesKnown)

        let backwards = [Self.reading(5, 200, 200), Self.reading(6, 60, 60)]
        let backwardsDelta = CounterMath.delta(previous: before[...], current: backwards[...])
        #expect(backwardsDelta.scaled == nil && !backwardsDelta.timesKnown)

        let none = [CounterReading(), CounterReading()]
        let noneDelta = CounterMath.delta(previous: none[...], current: none[...])
        #expect(noneDelta.scaled == nil && !noneDelta.timesKnown)
    }

    @Test("derived ratios appear only when both inputs were counted")
    func derivedRatios() throws {
        let names = ["cycles", "instructions", "cache-references", "cache-misses", "stalled-cycles-frontend", "branches", "branch-misses"]
        let events = try names.map { try #require(PerfEventCatalog.lookup($0)) }
        let inputs = DerivedInputs(events: events)
        let all = inputs.fields([1000, 2500, 200, 50, 300, 400, 4])
        let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0.value) })
        #expect(byKey["ipc"] == .float(2.5))
        #expect(byKey["cache_miss_rate"] == .float(0.25))
        #expect(byKey["stalled_cycles_percent"] == .float(30))
        #expect(byKey["branch_miss_rate"] == .float(0.01))

        let cyclesMissing = inputs.fields([nil, 2500, 200, 50, 300, 400, 4]).map(\.key)
        #expect(!cyclesMissing.contains("ipc") && !cyclesMissing.contains("stalled_cycles_percent"))
        #expect(cyclesMissing.contains("cache_miss_rate"))
        let zeroCycles = inputs.fields([0, 2500, 0, 0, 0, 0, 0]).map(\.key)
        #expect(zeroCycles.isEmpty, "no ratio over a zero divisor: \(zeroCycles)")

        // stalls_total (the original tool's definition) wins over the generic event.
        let withStalls = try (names + ["stalls_total"]).map { try #require(PerfEventCatalog.lookup($0)) }
        let stallFields = DerivedInputs(events: withStalls).fields([1000, 2500, 200, 50, 300, 400, 4, 600])
        #expect(stallFields.first { $0.key == "stalled_cycles_percent" }?.value == .float(60))
    }
}

/// Event names as users write them.
struct PerfEventCatalogTests {
    @Test("names, the original tool's spellings and raw codes resolve")
    func lookup() throws {
        #expect(PerfEventCatalog.lookup("LLC_load_misses")?.name == "LLC-load-misses")
        #expect(PerfEventCatalog.lookup("llc-load-misses")?.config == 0x10002)
        #expect(PerfEventCatalog.lookup("cpu_cycles")?.name == "cycles")
        #expect(PerfEventCatalog.lookup("branch_instructions")?.name == "branches")
        #expect(PerfEventCatalog.lookup("L1-dcache-load-misses")?.config == 0x10000)
        #expect(PerfEventCatalog.lookup("dTLB-load-misses")?.config == 0x10003)
        #expect(PerfEventCatalog.lookup("task-clock")?.field == "task_clock_ns")
        #expect(PerfEventCatalog.lookup("task-clock")?.enabledField == "task_clock_enabled_ns")
        #expect(PerfEventCatalog.lookup("stalls_total")?.config == 0x40004a3)
        #expect(PerfEventCatalog.lookup("cycle_activity.stalls_l3_miss")?.field == "stalls_l3_miss")
        let raw = try #require(PerfEventCatalog.lookup("R00412E"))
        #expect(raw.isCustomRaw && raw.config == 0x412e && raw.field == "r412e")
        #expect(PerfEventCatalog.lookup("cycels") == nil)
        #expect(PerfEventCatalog.lookup("r") == nil)
        #expect(PerfEventCatalog.lookup("rxyz") == nil)
        #expect(PerfEventCatalog.lookup("r12345678901234567") == nil)
    }

    @Test("field names are unique across the catalog")
    func uniqueFields() {
        var seen = Set<String>()
        for event in PerfEventCatalog.named {
            for field in [event.field, event.enabledField, event.runningField] {
                #expect(seen.insert(field).inserted, "\(field) declared twice")
            }
        }
    }
}

/// Finding the perf_event cgroup from fixture /proc trees (real files).
struct PerfCgroupLocatorTests {
    static func makeProc(cgroup: String, own: String, mountinfo: String) throws -> String {
        let root = NSTemporaryDirectory() + "perf-proc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/42", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/self", withIntermediateDirectories: true)
        try cgroup.write(toFile: root + "/42/cgroup", atomically: true, encoding: .utf8)
        try own.write(toFile: root + "/self/cgroup", atomically: true, encoding: .utf8)
        try mountinfo.write(toFile: root + "/self/mountinfo", atomically: true, encoding: .utf8)
        return root
    }

    static let hybridMounts = """
        30 25 0:26 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755
        31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
        40 30 0:35 / /sys/fs/cgroup/perf_event rw,nosuid - cgroup cgroup rw,perf_event
        41 30 0:36 / /sys/fs/cgroup/cpu\\040acct rw,nosuid - cgroup cgroup rw,cpuacct

        """

    @Test("cgroup v1 perf_event wins on a hybrid host; mountinfo gives the mount point")
    func hybrid() throws {
        let proc = try Self.makeProc(
            cgroup: "10:perf_event:/docker/abc\n2:cpuacct:/docker/abc\n0::/docker/abc\n",
            own: "10:perf_event:/\n2:cpuacct:/user\n0::/init.scope\n",
            mountinfo: Self.hybridMounts
        )
        defer { try? FileManager.default.removeItem(atPath: proc) }
        let location = try PerfCgroupLocator(procRoot: proc).locate(pid: 42).get()
        #expect(location == .init(directory: "/sys/fs/cgroup/perf_event/docker/abc", path: "/docker/abc", hierarchy: "v1"))
        let overridden = try PerfCgroupLocator(procRoot: proc, mountOverride: "/tmp/fake").locate(pid: 42).get()
        #expect(overridden.directory == "/tmp/fake/docker/abc")
    }

    @Test("cgroup v2 only; a mount whose root is a sub-cgroup is resolved")
    func unified() throws {
        let proc = try Self.makeProc(
            cgroup: "0::/system.slice/docker-abc.scope\n",
            own: "0::/user.slice/session-1.scope\n",
            mountinfo: "35 30 0:30 /system.slice /mnt/cg rw - cgroup2 cgroup2 rw\n"
        )
        defer { try? FileManager.default.removeItem(atPath: proc) }
        let location = try PerfCgroupLocator(procRoot: proc).locate(pid: 42).get()
        #expect(location.directory == "/mnt/cg/docker-abc.scope")
        #expect(location.hierarchy == "v2")
    }

    @Test("the hierarchy root and our own cgroup are refused: they would not isolate the container")
    func refusesNonIsolatingCgroups() throws {
        let rootProc = try Self.makeProc(cgroup: "10:perf_event:/\n", own: "10:perf_event:/x\n", mountinfo: Self.hybridMounts)
        defer { try? FileManager.default.removeItem(atPath: rootProc) }
        guard case .failure(let rootError) = PerfCgroupLocator(procRoot: rootProc).locate(pid: 42) else {
            Issue.record("the root cgroup must be refused")
            return
        }
        #expect(rootError.message.contains("root"))
        let sharedProc = try Self.makeProc(cgroup: "10:perf_event:/same\n", own: "10:perf_event:/same\n", mountinfo: Self.hybridMounts)
        defer { try? FileManager.default.removeItem(atPath: sharedProc) }
        guard case .failure(let sharedError) = PerfCgroupLocator(procRoot: sharedProc).locate(pid: 42) else {
            Issue.record("our own cgroup must be refused")
            return
        }
        #expect(sharedError.message.contains("rdt4nn's own"))
        guard case .failure(let gone) = PerfCgroupLocator(procRoot: sharedProc).locate(pid: 7) else {
            Issue.record("a missing /proc entry must fail")
            return
        }
        #expect(gone.processGone)
    }

    @Test("mountinfo octal escapes are decoded")
    func unescape() {
        #expect(PerfCgroupLocator.unescape("/sys/fs/cgroup/cpu\\040acct") == "/sys/fs/cgroup/cpu acct")
        #expect(PerfCgroupLocator.unescape("/plain") == "/plain")
        #expect(PerfCgroupLocator.unescape("/trailing\\04") == "/trailing\\04")
    }
}
