import Foundation
import PluginABI
import PluginHost
import Testing

/// The built `librdt4nn-dockerstats.so`, loaded by the real host code,
/// against fixture trees: exact values, schema conformance, statuses.
@Suite struct PluginFixtureTests {
    @Test func v1FixtureGivesEveryDeclaredFieldWithExactValues() throws {
        let root = try TestSupport.copyFixture("v1")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let harness = try CollectorHarness(config: CollectorHarness.fixtureConfig(root), target: CollectorHarness.target(pid: 4242))
        try harness.instance.start()
        // The first collection opens the first window: no percentages yet.
        let first = try #require(try harness.collect().first)
        #expect(first.float("cpu_percent") == nil && first.float("cpu_wall_percent") == nil)

        // Half a CPU-second of container time while the host's /proc/stat
        // advances by one CPU-second (100 ticks) on 2 CPUs: docker CPU % = 0.5 / 1 × 2 × 100.
        let cpuDirectory = root + "/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-4f2a.scope"
        try TestSupport.overwrite(cpuDirectory + "/cpuacct.usage", "123956789012\n")
        try TestSupport.overwrite(root + "/proc/stat", "cpu  1100 20 300 50000 40 5 6 7 0 0\ncpu0 1 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0\n")
        let samples = try harness.collect()
        let sample = try #require(samples.first)
        #expect(samples.count == 1)
        #expect(sample.measurement == "docker_stats")
        #expect(sample.tags.isEmpty)
        #expect(sample.timestampNanoseconds == 1_700_000_000_000_000_000)

        let expected: [String: Int64] = [
            "cpu_usage_ns": 123_956_789_012, "cpu_user_ns": 10_000_000_000, "cpu_kernel_ns": 2_340_000_000,
            "cpu_periods": 500, "cpu_throttled_periods": 20, "cpu_throttled_ns": 1_500_000_000,
            "memory_usage_bytes": 104_857_600, "memory_limit_bytes": 268_435_456, "memory_cache_bytes": 20_971_520,
            "memory_rss_bytes": 62_914_560, "memory_swap_bytes": 1_048_576, "memory_working_set_bytes": 96_468_992,
            "pids": 7, "blkio_read_bytes": 4_097_000, "blkio_write_bytes": 8_216, "blkio_read_ops": 103, "blkio_write_ops": 3,
            "network_rx_bytes": 12_345_679_901, "network_tx_bytes": 10_000_002_000, "network_rx_packets": 310, "network_tx_packets": 420,
        ]
        for (key, value) in expected { #expect(sample.integer(key) == value, "\(key)") }
        #expect(sample.float("cpu_percent") == 100.0)
        #expect(sample.float("memory_percent") == 35.9375)  // 96468992 / 268435456
        let wall = try #require(sample.float("cpu_wall_percent"))
        #expect(wall > 0)  // 0.5 s of CPU over a window of milliseconds

        // Every declared field is emitted here, with its declared type.
        let schema = try #require(harness.descriptor.metricsSchema)
        let declared = try #require(schema.measurements.first { $0.name == "docker_stats" })
        #expect(Set(declared.fields.map(\.name)) == sample.fieldNames)
        #expect(schema.problems(with: sample).isEmpty, "\(schema.problems(with: sample))")
        for field in declared.fields {
            #expect(!field.unit.isEmpty && !field.description.isEmpty, "\(field.name) lacks a unit or description")
            #expect(field.kind == (field.type == "f64" || field.name.hasPrefix("memory_") || field.name == "pids" ? "gauge" : "counter"), "\(field.name)")
        }

        // Nothing moved since: CPU % is a true 0.
        let second = try #require(try harness.collect().first)
        #expect(second.float("cpu_percent") == nil)  // the host's /proc/stat did not advance: no denominator
        #expect(second.float("cpu_wall_percent") == 0)
        harness.instance.stop()
        #expect(harness.instance.context.violations.isEmpty, "\(harness.instance.context.violations)")
    }

    @Test func detailFieldsComeOncePerDetailIntervalOnTheSameGridForEveryContainer() throws {
        let root = TestSupport.fixtures + "/v1"
        var config = CollectorHarness.fixtureConfig(root)
        if case .object(var members) = config {
            members.append(("detail_interval_ms", .integer(1000)))
            config = .object(members)
        }
        let harness = try CollectorHarness(config: config, target: CollectorHarness.target(pid: 4242))
        try harness.instance.start()
        let everyTick: Set = [
            "cpu_usage_ns", "cpu_user_ns", "cpu_kernel_ns", "cpu_periods", "cpu_throttled_periods", "cpu_throttled_ns",
            "memory_usage_bytes", "pids",
        ]
        let detail: Set = [
            "memory_limit_bytes", "memory_cache_bytes", "memory_rss_bytes", "memory_swap_bytes", "memory_working_set_bytes",
            "memory_percent", "blkio_read_bytes", "blkio_write_bytes", "blkio_read_ops", "blkio_write_ops",
            "network_rx_bytes", "network_tx_bytes", "network_rx_packets", "network_tx_packets",
        ]
        let percents: Set = ["cpu_percent", "cpu_wall_percent"]
        // (tick in monotonic ns, whether the detail fields are due): the first collection,
        // then the first tick at or after each whole second.
        let ticks: [(Int64, Bool)] = [
            (10_050_000_000, true), (10_100_000_000, false), (10_950_000_000, false),
            (11_000_000_000, true), (11_050_000_000, false), (12_100_000_000, true), (12_150_000_000, false),
        ]
        for (index, (tick, due)) in ticks.enumerated() {
            let sample = try #require(try harness.collect(monotonicNs: tick).first)
            let names = sample.fieldNames.subtracting(percents)
            #expect(names == (due ? everyTick.union(detail) : everyTick), "tick \(tick): \(names.sorted())")
            if index > 0 { #expect(sample.float("cpu_wall_percent") != nil, "tick \(tick): CPU % on every collection") }
            #expect(sample.integer("memory_usage_bytes") == 104_857_600 && sample.integer("pids") == 7)
            if due { #expect(sample.integer("memory_working_set_bytes") == 96_468_992 && sample.integer("blkio_read_ops") == 103) }
            #expect(harness.descriptor.metricsSchema?.problems(with: sample) == [])
        }
        harness.instance.stop()
        #expect(harness.instance.context.violations.isEmpty, "\(harness.instance.context.violations)")
    }

    @Test func v2FixtureInTheHostNetworkNamespaceHasNoNetworkFields() throws {
        let root = TestSupport.fixtures + "/v2"
        let harness = try CollectorHarness(config: CollectorHarness.fixtureConfig(root), target: CollectorHarness.target(pid: 5151, name: "web"))
        try harness.instance.start()
        let sample = try #require(try harness.collect().first)
        let expected: [String: Int64] = [
            "cpu_usage_ns": 2_500_000_000, "cpu_user_ns": 2_000_000_000, "cpu_kernel_ns": 500_000_000,
            "cpu_periods": 40, "cpu_throttled_periods": 4, "cpu_throttled_ns": 120_000_000,
            "memory_usage_bytes": 52_428_800, "memory_limit_bytes": 1_024_000_000,  // max → MemTotal, as docker
            "memory_cache_bytes": 8_388_608, "memory_rss_bytes": 41_943_040, "memory_swap_bytes": 0,
            "memory_working_set_bytes": 50_331_648, "pids": 3,
            "blkio_read_bytes": 1_048_577, "blkio_write_bytes": 2_097_154, "blkio_read_ops": 13, "blkio_write_ops": 24,
        ]
        for (key, value) in expected { #expect(sample.integer(key) == value, "\(key)") }
        #expect(sample.float("memory_percent") == 50_331_648.0 / 1_024_000_000.0 * 100)
        #expect(sample.fieldNames.filter { $0.hasPrefix("network_") }.isEmpty)
        #expect(harness.logs.contains { $0.contains("shares the host's network namespace") }, "\(harness.logs)")
        #expect(harness.descriptor.metricsSchema?.problems(with: sample) == [])
    }

    @Test func noPidYetIsRetryAndTheHostIsUnsupported() throws {
        let waiting = try CollectorHarness(target: CollectorHarness.target(pid: 0, name: "db"))
        let retry = try #require(throws: PluginCallError.self) { try waiting.instance.start() }
        #expect(retry.status == .retry)
        #expect(retry.message == "container 'db' is not running yet (no pid); will retry")

        let host = try CollectorHarness(target: .host)
        let unsupported = try #require(throws: PluginCallError.self) { try host.instance.start() }
        #expect(unsupported.status == .unsupported)
        #expect(unsupported.message.contains("observes containers"))
    }

    @Test func aVanishedProcessIsRetryAndRecoversWhenItReturns() throws {
        let root = try TestSupport.copyFixture("v1")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let harness = try CollectorHarness(config: CollectorHarness.fixtureConfig(root), target: CollectorHarness.target(pid: 4243, name: "gone"))
        let error = try #require(throws: PluginCallError.self) { try harness.instance.start() }
        #expect(error.status == .retry)
        #expect(error.message.contains("container 'gone' (pid 4243) is gone or stopped"), "\(error.message)")
        // collect keeps retrying while the pid is missing...
        #expect(throws: PluginCallError.self) { _ = try harness.collect() }
        // ...and picks the container up once its process exists.
        try FileManager.default.copyItem(atPath: root + "/proc/4242", toPath: root + "/proc/4243")
        let sample = try #require(try harness.collect().first)
        #expect(sample.integer("pids") == 7)
        #expect(sample.float("cpu_percent") == nil)  // no window yet after a reopen
    }

    @Test func relativeRootsAreAConfigError() throws {
        let error = try #require(throws: PluginCallError.self) {
            _ = try CollectorHarness(config: .object([("proc_root", .string("proc"))]), target: CollectorHarness.target(pid: 1))
        }
        #expect(error.status == .config)
        #expect(error.message.contains("proc_root must be an absolute path, got 'proc'"), "\(error.message)")
    }

    @Test func thePluginPassesPluginsCheck() throws {
        let binary = TestSupport.productsDirectory + "/rdt4nn"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run swift build first")
        let result = try TestSupport.run(binary, ["plugins", "check", try TestSupport.product("rdt4nn-dockerstats"), "--collections", "2", "--interval-ms", "10"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("dockerstats (collector 1.0.0)"))
        #expect(result.stdout.contains("start        UNSUPPORTED: dockerstats observes containers"), "\(result.stdout)")
        #expect(!result.stdout.contains("VIOLATION"))
        #expect(result.stdout.hasSuffix("PASSED: \(try TestSupport.product("rdt4nn-dockerstats"))\n"), "\(result.stdout)")
    }
}
