import Configuration
import Foundation
import PluginABI
import Testing

/// Configurations written key by key in each original format load to the plan we expect.
@Suite struct FormatTests {
    /// The rdt4nn driver's format, every key of reference section 3.
    static let rdt4nnConfig = """
        benchmark:
          name: cache-vs-stream
          description: two containers
          max_t: 120
          log_level: debug
          scheduler: { implementation: rdt, rdt: true }
          data:
            profilefrequency: 100            # ms, every container
            db: { host: "http://influx:8086", name: bucket1, user: me, password: "tok-12345" }
            rdt: true
            perf: true
            dockerstats: false
          docker:
            auth: { registry: registry.example.org, username: bob, password: "hunter2-pw" }
        victim:    { index: 0, image: "redis:7-alpine", port: "6379:6379", start: 0, stop: -1, core: 2,
                     env: { REDIS_MAXMEMORY: "256mb", LEVEL: 3 } }
        aggressor: { index: 3, image: "registry.example.org/bench/stress-ng", start: 20, stop: 100, core: 4,
                     command: "stress-ng --stream 1 --timeout 0" }
        """

    @Test func rdt4nnFormatMapsKeyByKey() throws {
        let loaded = try load(Self.rdt4nnConfig)
        let plan = loaded.plan
        #expect(plan.format == .rdt4nn)
        #expect(plan.formats == [.rdt4nn])
        #expect(plan.name == "cache-vs-stream")
        #expect(plan.description == "two containers")
        #expect(plan.maxSeconds == 120)
        #expect(plan.drain == false)
        #expect(plan.logLevel == .debug)
        #expect(plan.samplingIntervalMs == 100)
        #expect(plan.scheduler.id == "rdt")
        #expect(plan.scheduler.rdt)
        #expect(plan.scheduler.config == .object([]))
        #expect(plan.sink.id == "influx")
        let db = try #require(plan.sink.database)
        #expect(db.host == "http://influx:8086")
        #expect(db.name == "bucket1")
        #expect(db.user == "me")
        #expect(db.password?.revealed == "tok-12345")
        #expect(db.org == "rdt4nn")  // the original's default
        #expect(db.apiVersion == .v2)
        let auth = try #require(plan.registryAuth)
        #expect(auth.registry == "registry.example.org")
        #expect(auth.username == "bob")
        #expect(auth.password.revealed == "hunter2-pw")
        #expect(auth.matchesByPrefix == false)
        #expect(plan.containers.count == 2)

        let victim = plan.containers[0]
        #expect(victim.key == "victim")
        #expect(victim.name == "victim")
        #expect(victim.index == 0)
        #expect(victim.image == "redis:7-alpine")
        #expect(victim.ports == [PortMapping(hostPort: 6379, containerPort: 6379)])
        #expect(victim.startSeconds == 0)
        #expect(victim.stopSeconds == nil)
        #expect(victim.cpuset == CPUSet([2]))
        #expect(victim.environment == [EnvironmentVariable(name: "REDIS_MAXMEMORY", value: "256mb"), EnvironmentVariable(name: "LEVEL", value: "3")])
        #expect(victim.command == nil)
        #expect(victim.samplingIntervalMs == 100)
        #expect(victim.collectors.map(\.id) == ["resctrl", "perf"])

        let aggressor = plan.containers[1]
        #expect(aggressor.index == 3)
        #expect(aggressor.image == "registry.example.org/bench/stress-ng")
        #expect(aggressor.startSeconds == 20)
        #expect(aggressor.stopSeconds == 100)  // honoured (the original ignored it)
        #expect(aggressor.cpuset == CPUSet([4]))
        #expect(aggressor.command == "stress-ng --stream 1 --timeout 0")
        #expect(aggressor.environment.isEmpty)
        #expect(aggressor.numCores == nil)
        #expect(aggressor.privileged == false)
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.summary == "t.yaml: ok — format rdt4nn, 2 containers, 120 s, collectors resctrl+perf, scheduler rdt, sink influx")
    }

    /// container-bench's static format, every container key of reference section 4.3.
    static let containerBenchConfig = """
        benchmark:
          name: cache-vs-stream
          max_t: 120
          drain: true
          log_level: info
          pid_sync_interval: 250
          accounting: { log_level: warn }
          scheduler:
            implementation: dynamic-v3
            rdt: true
            rebalance: true
            force_move_for_priority_admission: false
            prober: { min_l3: 2, max_l3: 4, probing_t: 12, order: asc }
            allocator: { step_size_l3: 1, duration: 10 }
          data:
            db: { host: "http://db:8086", name: b, user: u, password: "sekrit-token", org: o }
          docker:
            registry: { host: registry.example.org, username: ci, password: "reg-pass-1" }
        victim:
          index: 7
          name: redis-victim
          image: redis:7-alpine
          core: "2,4"
          priority: true
          critical: true
          ipc: 1.5
          ipce: 90
          expected_t: 60
          environment: { REDIS_MAXMEMORY: "256mb" }
          data: { frequency: 100, perf: { instructions: true, cycles: true, stalls_total: false }, rdt: true }
        aggressor:
          image: registry.example.org/bench/stress-ng
          num_cores: 2
          start_t: 20
          stop_t: 130
          privileged: true
          port: "8080:80"
          volumes: ["/sys/fs/cgroup:/sys/fs/cgroup:ro"]
          command: "stress-ng --stream 2 --timeout 70"
          ipce: 0.8
          data: { frequency: 200, docker: true, rdt: { l3_cache_occupancy: true } }
        """

    @Test func containerBenchFormatMapsKeyByKey() throws {
        let loaded = try load(Self.containerBenchConfig)
        let plan = loaded.plan
        #expect(plan.format == .containerBench)
        #expect(plan.formats == [.containerBench])
        #expect(plan.maxSeconds == 120)
        #expect(plan.drain)
        #expect(plan.logLevel == .info)
        #expect(plan.pidSyncIntervalMs == 250)
        #expect(plan.samplingIntervalMs == 1000)
        #expect(plan.scheduler.id == "dynamic-v3")  // kept verbatim; unknown ones fail at run time
        #expect(plan.scheduler.rdt)
        #expect(plan.scheduler.config == .object([("force_move_for_priority_admission", .bool(false)), ("rebalance", .bool(true))]))
        #expect(plan.scheduler.prober == .object([("min_l3", .integer(2)), ("max_l3", .integer(4)), ("probing_t", .integer(12)), ("order", .string("asc"))]))
        #expect(plan.scheduler.allocator == .object([("step_size_l3", .integer(1)), ("duration", .integer(10))]))
        let db = try #require(plan.sink.database)
        #expect(db.user == "u")
        #expect(db.org == "o")
        #expect(db.password?.revealed == "sekrit-token")
        let auth = try #require(plan.registryAuth)
        #expect(auth.registry == "registry.example.org")
        #expect(auth.matchesByPrefix)

        let victim = plan.containers[0]
        #expect(victim.key == "victim")
        #expect(victim.name == "redis-victim")
        #expect(victim.index == 7)  // honoured (container-bench renumbered)
        #expect(victim.cpuset == CPUSet([2, 4]))
        #expect(victim.priority)
        #expect(victim.critical)
        #expect(victim.ipc == 1.5)
        #expect(victim.ipce == 90)
        #expect(victim.expectedSeconds == 60)
        #expect(victim.stopSeconds == nil)
        #expect(victim.environment == [EnvironmentVariable(name: "REDIS_MAXMEMORY", value: "256mb")])
        #expect(victim.samplingIntervalMs == 100)
        #expect(victim.collectors.map(\.id) == ["perf", "resctrl"])
        #expect(victim.collectors[0].flags == ["instructions", "cycles"])
        #expect(victim.collectors[0].config == .object([]))

        let aggressor = plan.containers[1]
        #expect(aggressor.name == "aggressor")
        #expect(aggressor.index == 0)  // the lowest index not taken
        #expect(aggressor.cpuset == nil)
        #expect(aggressor.numCores == 2)
        #expect(aggressor.startSeconds == 20)
        #expect(aggressor.stopSeconds == 130)  // after max_t: allowed by drain
        #expect(aggressor.privileged)
        #expect(aggressor.ports == [PortMapping(hostPort: 8080, containerPort: 80)])
        #expect(aggressor.volumes == ["/sys/fs/cgroup:/sys/fs/cgroup:ro"])
        #expect(aggressor.command == "stress-ng --stream 2 --timeout 70")
        #expect(aggressor.ipce == 80)
        #expect(aggressor.samplingIntervalMs == 200)
        #expect(aggressor.collectors.map(\.id) == ["dockerstats", "resctrl"])
        #expect(aggressor.collectors[1].flags == ["l3_cache_occupancy"])
        #expect(loaded.warnings.map(\.description) == ["t.yaml:40:9: aggressor.ipce: ipce 0.8 read as 80 % (container-bench's dynamic schedulers read values ≤ 1 as fractions); write 80 to silence this"])
        #expect(loaded.summary == "t.yaml: ok — format container-bench, 2 containers, 120 s + drain, collectors perf+resctrl+dockerstats, scheduler dynamic-v3, sink influx (1 warning)")
    }

    @Test func containerBenchIndicesFollowTheFileOrder() throws {
        let plan = try load("benchmark: { name: t, max_t: 9 }\nc: { image: x }\na: { image: x }\nb: { image: x }\n").plan
        #expect(plan.containers.map(\.key) == ["c", "a", "b"])
        #expect(plan.containers.map(\.index) == [0, 1, 2])
    }

    @Test func duplicateExplicitIndicesWarn() throws {
        let loaded = try load("benchmark: { name: t, max_t: 9 }\na: { image: x, index: 1 }\nb: { image: x, index: 1 }\nc: { image: x }\n")
        #expect(loaded.plan.containers.map(\.index) == [1, 1, 0])
        #expect(loaded.warnings.map(\.description).contains("t.yaml:3:23: b.index: index 1 is also used by 'a'; their samples share container_index 1"))
    }

    @Test func nativeKeys() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let yaml = """
            benchmark:
              name: native
              id_prefix: lab-a
              max_t: 60
              interval_ms: 50
              plugins: [plugins, /opt/rdt4nn/plugins]
              collectors:
                dockerstats: true
                perf: { events: [task-clock, context-switches] }
              sink: { id: file, config: { gzip: true } }
              scheduler: { implementation: least-cache, config: { mode: greedy } }
              allow_shared_cores: false
            web:
              image: rdt4nn/spin
              args: ["--seconds", "10"]
              cpus: "0-1"
              cpuset_mems: 0
              memory: 512m
              ports: ["127.0.0.1:8080:80", "53:53/udp"]
              optional: true
              interval_ms: 20
              collectors: { perf: false, procstat: {} }
            db:
              image: rdt4nn/busybox
              args: sleep 30
              memory: 1073741824
              collectors: [pressure]
            """
        let plan = try load(yaml, baseDirectory: dir).plan
        #expect(plan.format == .native)
        #expect(plan.idPrefix == "lab-a")
        #expect(plan.samplingIntervalMs == 50)
        #expect(plan.pluginDirectories == [dir + "/plugins", "/opt/rdt4nn/plugins"])
        #expect(plan.sink.id == "file")
        #expect(plan.sink.config == .object([("gzip", .bool(true))]))
        #expect(plan.sink.database == nil)
        #expect(plan.scheduler.id == "least-cache")
        #expect(plan.scheduler.config == .object([("mode", .string("greedy"))]))
        let web = plan.containers[0]
        #expect(web.arguments == ["--seconds", "10"])
        #expect(web.cpuset == CPUSet([0, 1]))
        #expect(web.cpusetMems == CPUSet([0]))
        #expect(web.memoryBytes == 512 << 20)
        #expect(web.ports == [PortMapping(hostIP: "127.0.0.1", hostPort: 8080, containerPort: 80), PortMapping(hostPort: 53, containerPort: 53, proto: "udp")])
        #expect(web.optional)
        #expect(web.samplingIntervalMs == 20)
        #expect(web.collectors.map(\.id) == ["dockerstats", "procstat"])
        let db = plan.containers[1]
        #expect(db.arguments == ["sleep", "30"])
        #expect(db.memoryBytes == 1 << 30)
        #expect(db.samplingIntervalMs == 50)
        #expect(db.collectors.map(\.id) == ["pressure"])
        #expect(plan.collectorIDs == ["dockerstats", "procstat", "pressure"])
        let perfConfig = try load(yaml.replacingOccurrences(of: "perf: false, ", with: ""), baseDirectory: dir).plan.containers[0].collectors
        #expect(perfConfig.first { $0.id == "perf" }?.config == .object([("events", .array([.string("task-clock"), .string("context-switches")]))]))
    }

    @Test func schedulerDefaultsAndUnknownNamesPassValidation() throws {
        #expect(try load("benchmark: { name: t, max_t: 9 }\na: { image: x }\n").plan.scheduler.id == "default")
        #expect(try load("benchmark: { name: t, max_t: 9, scheduler: adaptive }\na: { image: x }\n").plan.scheduler.id == "adaptive")
        #expect(try load("benchmark: { name: t, max_t: 9, scheduler: { implementation: least-loaded } }\na: { image: x }\n").plan.scheduler.id == "least-loaded")
    }

    @Test func sinkSelection() throws {
        #expect(try load("benchmark: { name: t, max_t: 9 }\na: { image: x }\n").plan.sink.id == "file")
        #expect(
            errors("benchmark: { name: t, max_t: 9, sink: influx }\na: { image: x }\n") == [
                "t.yaml:1:39: benchmark.sink: the influx sink needs a database: add benchmark.data.db (host, name, org, password)"
            ]
        )
        let v1 = try load("benchmark:\n  name: t\n  max_t: 9\n  data:\n    db: { host: \"http://h:8086\", name: m, version: 1 }\na: { image: x }\n")
        #expect(v1.plan.sink.id == "influx")
        #expect(v1.plan.sink.database?.apiVersion == .v1)
        #expect(v1.plan.sink.database?.password == nil)
    }

    @Test func pluginConfigBlocksAreCheckedByTheirValidators() throws {
        let loaded = try load(
            "benchmark:\n  name: t\n  max_t: 9\n  collectors:\n    perf: { evnts: [cycles] }\n    dockerstats: true\n  scheduler: mine\na: { image: x }\nb: { image: x }\n"
        )
        let validators: [String: PluginConfigValidator] = [
            "perf": { config in config["evnts"] != nil ? ["unknown key 'evnts' (did you mean 'events'?)"] : [] },
            "dockerstats": { _ in [] },
            "file": { _ in [] },
        ]
        let checked = ConfigLoader.checkPluginConfigs(loaded.plan, validators: validators)
        #expect(checked.errors.map(\.description) == ["t.yaml:5:11: benchmark.collectors.perf: plugin 'perf': unknown key 'evnts' (did you mean 'events'?)"])
        #expect(checked.warnings.map(\.description) == ["t.yaml:7:14: benchmark.scheduler: scheduler plugin not found: mine (not among the loaded plugins; the run will stop with this error unless it is installed)"])
        let options = ConfigLoadOptions(onlineCPUs: CPUSet([0]), pluginValidators: validators)
        #expect(throws: ConfigErrors.self) {
            try ConfigLoader.load(text: "benchmark:\n  name: t\n  max_t: 9\n  collectors:\n    perf: { evnts: [cycles] }\na: { image: x }\n", file: "t.yaml", baseDirectory: ".", options: options)
        }
    }
}
