import Foundation
import PluginABI
import PluginHost
import Synchronization
import Testing

/// Swift and C plugins side by side in one process, through the same ABI.
@Suite(.serialized) struct MixedPluginsTests {
    /// Builds the SDK example with its own Makefile into a fresh directory.
    static func buildCExample() throws -> String {
        let out = try TestSupport.makeTemporaryDirectory()
        let result = try TestSupport.run("/usr/bin/make", ["-s", "-C", TestSupport.packageRoot + "/plugin-sdk/examples", "OUT=\(out)"])
        try #require(result.status == 0, "make failed: \(result.stderr)")
        let path = out + "/librdt4nn-example-loadavg.so"
        try #require(FileManager.default.fileExists(atPath: path))
        return path
    }

    @Test func theCExampleBuildsExportsOneSymbolAndLoads() throws {
        let path = try Self.buildCExample()
        let symbols = try TestSupport.run("/usr/bin/nm", ["-D", "--defined-only", path])
        let names = symbols.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(names == ["rdt4nn_plugin_entry"])
        let catalog = PluginLoader().load(files: [path])
        #expect(catalog.refusals.isEmpty)
        let plugin = try #require(catalog.plugin(id: "org.rdt4nn.example.loadavg"))
        #expect(plugin.kind == .collector)
        #expect(plugin.configSchema.properties.map(\.name) == ["path"])
    }

    @Test func twoSwiftPluginsAndOneCPluginCollectInOneProcess() throws {
        let files = [try TestSupport.product("rdt4nn-procstat"), try TestSupport.product("rdt4nn-pressure"), try Self.buildCExample()]
        let catalog = PluginLoader().load(files: files)
        #expect(catalog.refusals.map(\.description) == [])
        #expect(catalog.plugins.map(\.id) == ["procstat", "pressure", "org.rdt4nn.example.loadavg"])

        let received = Mutex<[String: [PluginSample]]>([:])
        var instances: [CollectorInstance] = []
        for plugin in catalog.plugins {
            let id = plugin.id
            let instance = try CollectorInstance(
                descriptor: plugin,
                instanceName: "host",
                emit: { samples in
                    received.withLock { $0[id, default: []] += samples }
                    return .ok
                },
                log: { _ in }
            )
            do {
                try instance.start()
                instances.append(instance)
            } catch {
                // A kernel without PSI: reported as unsupported, never as zeros.
                #expect(error.status == .unsupported && id == "pressure", "\(error)")
                instance.destroy()
            }
        }
        for round in 1...3 {
            usleep(50_000)
            let now = HostClock.monotonicNanoseconds()
            for instance in instances {
                try instance.collect(monotonicNs: now, realtimeNs: 1_700_000_000_000_000_000 + Int64(round))
            }
        }
        for instance in instances { instance.destroy() }

        let samples = received.withLock { $0 }
        let procstat = try #require(samples["procstat"])
        #expect(procstat.count == 3)
        for sample in procstat {
            #expect(sample.measurement == "procstat")
            let fields = Dictionary(sample.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard case .integer(let total)? = fields["memory_total_bytes"] else {
                Issue.record("memory_total_bytes missing")
                continue
            }
            #expect(total > 0)
            if case .float(let busy)? = fields["cpu_busy_percent"] { #expect((0...100).contains(busy)) }
        }
        let loadavg = try #require(samples["org.rdt4nn.example.loadavg"])
        #expect(loadavg.count == 3)
        #expect(loadavg.map(\.timestampNanoseconds) == [1, 2, 3].map { 1_700_000_000_000_000_000 + $0 })
        if instances.contains(where: { $0.descriptor.id == "pressure" }) {
            #expect(samples["pressure"]?.count == 9)
        }
        for instance in instances { #expect(instance.context.violations == []) }
    }

    @Test func aFactoryFileHoldsSeveralKinds() throws {
        let dir = try TestSupport.makeTemporaryDirectory()
        let path = try TestSupport.compileFixture(["-DFIXTURE_TWO_PLUGINS", "-DFIXTURE_ID=\"test.factory\""], into: dir)
        let catalog = PluginLoader().load(files: [path])
        #expect(catalog.plugins.map(\.id) == ["test.factory", "test.factory.sink"])
        #expect(catalog.plugins.map(\.kind) == [.collector, .sink])
        let sink = try SinkInstance(descriptor: catalog.plugins[1], instanceName: "test", log: { _ in })
        try sink.start()
        let outcome = try sink.write([PluginSample(measurement: "m", tags: [("a", "b")], fields: [("f", .float(1))], timestampNanoseconds: 5)])
        #expect(outcome.status == .ok)
        #expect(outcome.processedCount == 1)
        sink.destroy()
    }

    @Test func configurationIsValidatedBeforeCreate() throws {
        let plugin = try #require(PluginLoader().load(files: [try TestSupport.product("rdt4nn-procstat")]).plugin(id: "procstat"))
        do {
            _ = try CollectorInstance(
                descriptor: plugin,
                instanceName: "host",
                config: .object([("per_cpus", .bool(true)), ("proc_root", .integer(3))]),
                emit: { _ in .ok },
                log: { _ in }
            )
            Issue.record("expected a configuration error")
        } catch {
            #expect(error.status == .config)
            #expect(error.message == "unknown key 'per_cpus' (did you mean 'per_cpu'?); key 'proc_root': expected string, found integer 3")
        }
    }

    @Test func procstatComputesSharesFromTwoSnapshots() throws {
        let root = try TestSupport.makeTemporaryDirectory()
        let meminfo = "MemTotal:       1000 kB\nMemAvailable:    250 kB\nCached:          100 kB\nSwapTotal:         0 kB\nSwapFree:          0 kB\n"
        try meminfo.write(toFile: root + "/meminfo", atomically: true, encoding: .utf8)
        func writeStat(user: Int, system: Int, idle: Int, iowait: Int, ctxt: Int) throws {
            try "cpu  \(user) 0 \(system) \(idle) \(iowait) 0 0 0 0 0\ncpu0 \(user) 0 \(system) \(idle) \(iowait) 0 0 0 0 0\nctxt \(ctxt)\nprocs_running 3\nprocs_blocked 1\n"
                .write(toFile: root + "/stat", atomically: true, encoding: .utf8)
        }
        try writeStat(user: 100, system: 100, idle: 700, iowait: 100, ctxt: 1000)
        let plugin = try #require(PluginLoader().load(files: [try TestSupport.product("rdt4nn-procstat")]).plugin(id: "procstat"))
        let received = Mutex<[PluginSample]>([])
        let instance = try CollectorInstance(
            descriptor: plugin,
            instanceName: "host",
            config: .object([("proc_root", .string(root)), ("per_cpu", .bool(true))]),
            emit: { samples in
                received.withLock { $0 += samples }
                return .ok
            },
            log: { _ in }
        )
        try instance.start()
        // 1000 more jiffies: 300 user, 200 system, 400 idle, 100 iowait.
        try writeStat(user: 400, system: 300, idle: 1100, iowait: 200, ctxt: 3000)
        try instance.collect(monotonicNs: HostClock.monotonicNanoseconds(), realtimeNs: 42)
        instance.destroy()
        let samples = received.withLock { $0 }
        #expect(samples.count == 2)
        let host = try #require(samples.first)
        let fields = Dictionary(host.fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        #expect(fields["cpu_user_percent"] == .float(30))
        #expect(fields["cpu_system_percent"] == .float(20))
        #expect(fields["cpu_iowait_percent"] == .float(10))
        #expect(fields["cpu_busy_percent"] == .float(50))
        #expect(fields["memory_total_bytes"] == .integer(1_024_000))
        #expect(fields["memory_used_bytes"] == .integer(768_000))
        #expect(fields["procs_running"] == .integer(3))
        #expect(fields["swap_used_bytes"] == .integer(0))
        #expect(host.timestampNanoseconds == 42)
        #expect(samples[1].measurement == "procstat_cpu")
        #expect(samples[1].tags.map { "\($0.key)=\($0.value)" } == ["cpu=0"])
    }

    @Test func pressureWithoutPSIIsUnsupportedNotZero() throws {
        let plugin = try #require(PluginLoader().load(files: [try TestSupport.product("rdt4nn-pressure")]).plugin(id: "pressure"))
        let instance = try CollectorInstance(
            descriptor: plugin,
            instanceName: "host",
            config: .object([("pressure_root", .string("/nonexistent/pressure"))]),
            emit: { _ in .ok },
            log: { _ in }
        )
        #expect {
            try instance.start()
        } throws: { error in
            guard let error = error as? PluginCallError else { return false }
            return error.status == .unsupported
                && error.message == "cannot read /nonexistent/pressure/cpu (No such file or directory): the kernel has no PSI (CONFIG_PSI off or booted with psi=0)"
        }
        instance.destroy()
        #expect(instance.context.emittedCounts.samples == 0)
    }
}
