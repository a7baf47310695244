import Configuration
import PluginABI
import Testing

@testable import Runner

/// Configuration plans become run plans: offsets, placements, plugin blocks.
struct PlanMappingTests {
    static let cpus = CPUSet(0..<8)

    static func plan(_ text: String, environment: [String: String] = [:]) throws -> RunPlan {
        let loaded = try ConfigLoader.load(
            text: text, file: "test.yaml", baseDirectory: "/tmp",
            options: ConfigLoadOptions(environment: environment, onlineCPUs: cpus, onlineMemoryNodes: CPUSet([0])))
        return RunPlan(loaded, options: RunOptions(pull: .never, resultsRoot: "/tmp/results"))
    }

    @Test func nativeContainersMapKeyByKey() throws {
        let plan = try Self.plan("""
            benchmark:
              name: study
              max_t: 30
              interval_ms: 50
              collectors: {dockerstats: true}
            victim:
              image: rdt4nn/stream
              args: ["--size", "64"]
              cpus: "0-1"
              memory: 256m
              environment: {MODE: fast}
              start: 2
              stop: 20
            """)
        #expect(plan.name == "study")
        #expect(plan.end == .at(30_000_000_000))
        #expect(plan.pull == .never)
        let victim = try #require(plan.containers.first)
        #expect(victim.image == "rdt4nn/stream")
        #expect(victim.command == ["--size", "64"])
        #expect(victim.cpuset == "0-1")
        #expect(victim.memoryBytes == Int64(268_435_456))
        #expect(victim.environment == ["MODE=fast"])
        #expect(victim.startOffsetNs == 2_000_000_000)
        #expect(victim.stopOffsetNs == Int64(20_000_000_000))
        #expect(victim.samplingIntervalNs == 50_000_000)
        #expect(victim.collectors.map(\.id) == ["dockerstats"])
        #expect(plan.sinks.map(\.plugin.id) == ["file"])
        #expect(plan.scheduler.id == "default")
    }

    @Test func untilCtrlCAndDrainEnds() throws {
        let forever = try Self.plan("""
            benchmark: {name: x, max_t: -1, data: {profilefrequency: 100, dockerstats: true}, log_level: info}
            web: {index: 0, image: nginx}
            """)
        #expect(forever.end == .untilInterrupted)
        let drain = try Self.plan("""
            benchmark: {name: x, max_t: 60, drain: true}
            job: {image: rdt4nn/spin, start_t: 0, stop_t: 90, data: {frequency: 100, docker: true}}
            """)
        #expect(drain.end == .drain(admissionEnd: 60_000_000_000))
    }

    @Test func containerBenchPerfFlagsBecomeEvents() throws {
        let plan = try Self.plan("""
            benchmark: {name: x, max_t: 10}
            job:
              image: rdt4nn/spin
              start_t: 0
              data: {frequency: 100, perf: {instructions: true, stalls_total: true, cache_miss_rate: true}}
            """)
        let perf = try #require(plan.containers.first?.collectors.first { $0.id == "perf" })
        #expect(perf.config["events"] == .array(["task-clock", "context-switches", "cpu-migrations", "page-faults", "instructions", "stalls_total"].map { .string($0) }))
    }

    @Test func databaseBlocksBecomeTheInfluxSinksKeys() throws {
        let plan = try Self.plan("""
            benchmark:
              name: x
              max_t: 10
              data:
                profilefrequency: 100
                dockerstats: true
                db: {host: "http://127.0.0.1:8086", name: bench, user: me, password: "${TOKEN}", org: lab}
              log_level: info
            web: {index: 0, image: rdt4nn/spin, start: 0, stop: 5}
            """, environment: ["TOKEN": "s3cret"])
        let sink = try #require(plan.sinks.first)
        #expect(sink.plugin.id == "influx")
        #expect(sink.plugin.config["url"] == .string("http://127.0.0.1:8086"))
        #expect(sink.plugin.config["bucket"] == .string("bench"))
        #expect(sink.plugin.config["org"] == .string("lab"))
        #expect(sink.plugin.config["token"] == .string("s3cret"))
        #expect(sink.plugin.config["version"] == .integer(2))
        #expect(!plan.configText.contains("s3cret"), "the config as run is masked")
    }

    @Test func schedulerOverrideReplacesTheConfigured() throws {
        let loaded = try ConfigLoader.load(
            text: "benchmark: {name: x, max_t: 5, scheduler: {implementation: dynamic-v3}}\na: {image: rdt4nn/spin}\n",
            file: "t.yaml", baseDirectory: "/tmp", options: ConfigLoadOptions(onlineCPUs: Self.cpus))
        #expect(RunPlan(loaded, options: RunOptions()).scheduler.id == "dynamic-v3")
        #expect(RunPlan(loaded, options: RunOptions(schedulerOverride: "default")).scheduler.id == "default")
    }
}
