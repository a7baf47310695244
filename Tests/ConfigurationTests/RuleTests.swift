import Configuration
import Testing

/// Every validation rule has a failing configuration here with its exact message.
@Suite struct RuleTests {
    @Test func unknownContainerKeySuggestsTheClosest() {
        let yaml = """
            benchmark:
              name: t
              max_t: 30
            web:
              image: rdt4nn/spin
              enviroment:
                A: "1"
            """
        #expect(errors(yaml) == ["t.yaml:6:3: web.enviroment: unknown key (did you mean 'environment'?)"])
    }

    @Test func unknownKeysEverywhereAreCollectedTogether() {
        let yaml = """
            benchmark:
              name: t
              max_t: 30
              data:
                profilefrequncy: 100
              scheduler:
                implementation: dynamic-v3
                prober: { ways: 4 }
            web:
              image: rdt4nn/spin
              data: { frequency: 100, perf: { stalls_l3_miss_percent: true } }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:5:5: benchmark.data.profilefrequncy: unknown key (did you mean 'profilefrequency'?)",
                "t.yaml:8:15: benchmark.scheduler.prober.ways: unknown key (expected one of: log_level, implementation, abortable, isolated, default_t, warmup_t, cooldown_t, default_probe_cores, probe_image, allocate, greedy_allocation, min_l3, max_l3, step_l3, min_mem, max_mem, mem_step, order, probing_t, buffer_ways, buffer_memory, probing_frequency, drop_outliers)",
                "t.yaml:11:35: web.data.perf.stalls_l3_miss_percent: unknown key (did you mean 'stalls_l3_miss'?)",
            ]
        )
    }

    @Test func lenientTurnsUnknownKeysIntoWarnings() throws {
        let yaml = """
            benchmark:
              name: t
              max_t: 30
            web:
              image: rdt4nn/spin
              enviroment: { A: "1" }
              collectors: [dockerstats]
            """
        let loaded = try load(yaml, lenient: true)
        #expect(loaded.warnings.map(\.description) == ["t.yaml:6:3: web.enviroment: unknown key (did you mean 'environment'?); ignored (lenient)"])
        #expect(loaded.plan.containers[0].environment.isEmpty)
    }

    @Test func unknownKeyWithoutCloseMatchListsTheChoices() {
        let yaml = """
            benchmark:
              name: t
              max_t: 30
              docker: { mirror: x }
            web: { image: a }
            """
        #expect(errors(yaml) == ["t.yaml:4:13: benchmark.docker.mirror: unknown key (expected one of: auth, registry)"])
    }

    @Test func misspeltBenchmarkBlockIsNotTakenForAContainer() {
        let yaml = """
            benchmrk:
              name: t
            web: { image: a, stop: 5 }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:1:1: benchmrk: unknown top-level key (did you mean 'benchmark'?); every top-level key other than benchmark, arrival, data and workloads is a container and needs an 'image'",
                "t.yaml:1:1: benchmark: missing 'benchmark:' block (it needs at least a name)",
            ]
        )
    }

    @Test func startMustBeBeforeStop() {
        let yaml = """
            benchmark: { name: t, max_t: 30 }
            a: { image: x, start: 10, stop: 10 }
            b: { image: x, start_t: 12, stop_t: 4 }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:2:33: a.stop: stop (10 s) must be after start (10 s)",
                "t.yaml:3:37: b.stop_t: stop (4 s) must be after start (12 s)",
            ]
        )
    }

    @Test func stopMustNotBeAfterMaxTUnlessDrain() throws {
        let yaml = """
            benchmark: { name: t, max_t: 30 }
            a: { image: x, start: 0, stop: 40 }
            b: { image: x, start: 30 }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:2:32: a.stop: stop (40 s) is after benchmark.max_t (30 s); lower it, raise max_t, or set benchmark.drain: true",
                "t.yaml:3:23: b.start: start (30 s) is not before benchmark.max_t (30 s): the container would never run",
            ]
        )
        let drained = try load("benchmark: { name: t, max_t: 30, drain: true }\na: { image: x, start_t: 0, stop_t: 40 }\n")
        #expect(drained.plan.drain)
        #expect(drained.plan.containers[0].stopSeconds == 40)
    }

    @Test func maxTMustBePositiveOrMinusOne() throws {
        #expect(
            errors("benchmark: { name: t, max_t: 0 }\na: { image: x, stop: 5 }\n") == [
                "t.yaml:1:30: benchmark.max_t: must be a positive number of seconds, or -1 to run until Ctrl-C (found 0)"
            ]
        )
        let forever = try load("benchmark: { name: t, max_t: -1 }\na: { image: x }\n")
        #expect(forever.plan.maxSeconds == nil)
        #expect(forever.summary == "t.yaml: ok — format native, 1 container, until Ctrl-C, collectors none, scheduler default, sink file (1 warning)")
    }

    @Test func maxTDefaultsToTheLastStopOrIsRequired() throws {
        #expect(try load("benchmark: { name: t }\na: { image: x, stop: 12 }\nb: { image: x, start: 3, stop: 20 }\n").plan.maxSeconds == 20)
        #expect(
            errors("benchmark: { name: t }\na: { image: x, stop: 12 }\nb: { image: x }\n") == [
                "t.yaml:1:1: benchmark.max_t: missing run length: set max_t in seconds (or -1 to run until Ctrl-C), or give every container a stop time"
            ]
        )
    }

    @Test func expectedTimeMustFitTheRun() {
        #expect(
            errors("benchmark: { name: t, max_t: 30 }\na: { image: x, start_t: 10, stop_t: 20, expected_t: 15 }\n") == [
                "t.yaml:2:53: a.expected_t: expected_t (15 s) is longer than the container runs (10 s from start to stop)"
            ]
        )
    }

    @Test func cpusMustExistOnThisHost() throws {
        let yaml = """
            benchmark: { name: t, max_t: 30 }
            a: { image: x, core: 9 }
            b: { image: x, cpus: "1,6-7" }
            """
        #expect(
            errors(yaml, cpus: "0-1") == [
                "t.yaml:2:22: a.core: cpu 9 does not exist on this host (online cpus: 0-1) (use --host-independent to validate for another host)",
                "t.yaml:3:22: b.cpus: cpus 6-7 do not exist on this host (online cpus: 0-1) (use --host-independent to validate for another host)",
            ]
        )
        let elsewhere = try load(yaml, hostIndependent: true, cpus: "0-1")
        #expect(
            elsewhere.warnings.map(\.description) == [
                "t.yaml:1:1: no collectors are enabled: the run records container events only (enable e.g. benchmark.collectors: [dockerstats, perf])",
                "t.yaml:2:22: a.core: cpu 9 does not exist on this host (online cpus: 0-1) (ignored: --host-independent)",
                "t.yaml:3:22: b.cpus: cpus 6-7 do not exist on this host (online cpus: 0-1) (ignored: --host-independent)",
            ]
        )
        #expect(elsewhere.plan.containers.map { $0.cpuset?.description } == ["9", "1,6-7"])
    }

    @Test func memoryNodesMustExist() {
        #expect(
            errors("benchmark: { name: t, max_t: 30 }\na: { image: x, cpuset_mems: \"0-1\" }\n") == [
                "t.yaml:2:29: a.cpuset_mems: memory node 1 not online on this host (online nodes: 0) (use --host-independent to validate for another host)"
            ]
        )
    }

    @Test func concurrentContainersNeverSharePinnedCores() throws {
        let yaml = """
            benchmark: { name: t, max_t: 30 }
            a: { image: x, cpus: "0-1", start: 0, stop: 10 }
            b: { image: x, cpus: "1-2", start: 5, stop: 20 }
            c: { image: x, cpus: "0", start: 10 }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:3:22: b.cpus: cpu 1 also pinned by container 'a' while both run (5–10 s); move one, or set benchmark.allow_shared_cores: true"
            ]
        )
        let shared = try load(yaml.replacingOccurrences(of: "max_t: 30", with: "max_t: 30, allow_shared_cores: true"))
        #expect(shared.plan.allowSharedCores)
        let forever = """
            benchmark: { name: t, max_t: -1 }
            a: { image: x, core: 3 }
            b: { image: x, core: "3", start: 100 }
            """
        #expect(errors(forever) == ["t.yaml:3:22: b.core: cpu 3 also pinned by container 'a' while both run (from 100 s to the end); move one, or set benchmark.allow_shared_cores: true"])
    }

    @Test func containerNamesAreUnique() {
        let yaml = """
            benchmark: { name: t, max_t: 30 }
            a: { image: x, name: web }
            b: { image: x, name: web }
            web: { image: x }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:3:22: b.name: container name 'web' is already used by 'a' (line 2); names must be unique",
                "t.yaml:4:1: web.name: container name 'web' is already used by 'a' (line 2); names must be unique",
            ]
        )
        #expect(
            errors("benchmark: { name: t, max_t: 30 }\na: { image: x, name: \"my web\" }\n") == [
                "t.yaml:2:22: a.name: 'my web' is not a valid container name (letters, digits, '_', '.', '-'; starting with a letter or digit)"
            ]
        )
    }

    @Test func samplingPeriodsStayWithin1msAnd60s() {
        let yaml = """
            benchmark:
              name: t
              max_t: 30
              data: { profilefrequency: 0 }
              pid_sync_interval: 60001
            a:
              image: x
              data: { frequency: 120000 }
            b: { image: x, interval_ms: -5 }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:4:29: benchmark.data.profilefrequency: sampling period 0 ms is outside 1 ms to 60 s (60000 ms)",
                "t.yaml:5:22: benchmark.pid_sync_interval: sampling period 60001 ms is outside 1 ms to 60 s (60000 ms)",
                "t.yaml:8:22: a.data.frequency: sampling period 120000 ms is outside 1 ms to 60 s (60000 ms)",
                "t.yaml:9:29: b.interval_ms: sampling period -5 ms is outside 1 ms to 60 s (60000 ms)",
            ]
        )
    }

    @Test func databaseBlockMustBeComplete() {
        let rdt4nnStyle = """
            benchmark:
              name: t
              max_t: 30
              data:
                profilefrequency: 100
                perf: true
                db: { host: "localhost:8086", name: "" }
            a: { image: x }
            """
        #expect(
            errors(rdt4nnStyle) == [
                "t.yaml:7:9: benchmark.data.db.password: missing API token (InfluxDB 2 needs a token; for 1.x set version: 1)",
                "t.yaml:7:17: benchmark.data.db.host: 'localhost:8086' is not a URL; write it as http://host:8086 or https://host:8086",
                "t.yaml:7:41: benchmark.data.db.name: empty bucket name",
            ]
        )
        let containerBenchStyle = """
            benchmark:
              name: t
              max_t: 30
              data:
                db: { host: "http://db:8086", name: b, password: tok, org: o }
            a: { image: x, data: { frequency: 100, perf: true } }
            """
        #expect(errors(containerBenchStyle) == ["t.yaml:5:9: benchmark.data.db.user: missing user (container-bench requires all five db keys)"])
        let version1 = """
            benchmark:
              name: t
              max_t: 30
              data:
                db: { host: "http://db:8086", name: metrics, version: 1, user: u }
            a: { image: x }
            """
        #expect(errors(version1) == ["t.yaml:5:9: benchmark.data.db: InfluxDB 1.x credentials need both 'user' and 'password' (or neither)"])
    }

    @Test func imagePresenceUsesTheGivenCheck() throws {
        let loaded = try load("benchmark: { name: t, max_t: 30 }\na: { image: rdt4nn/spin }\nb: { image: nope/missing }\nc: { image: nope/missing }\n")
        let present: Set<String> = ["rdt4nn/spin"]
        #expect(
            ConfigLoader.checkImages(loaded.plan) { present.contains($0) }.map(\.description) == [
                "t.yaml:3:13: b.image: image 'nope/missing' is not present on this Docker host (pull it first)"
            ]
        )
        #expect(ConfigLoader.checkImages(loaded.plan) { _ in true }.isEmpty)
    }

    @Test func typeErrorsNameWhatWasFound() {
        let yaml = """
            benchmark: { name: t, max_t: "30" }
            a: { image: x, start: 1.5, privileged: maybe, memory: lots, core: "3-1", port: "80" }
            b: 7
            """
        #expect(
            errors(yaml) == [
                "t.yaml:1:30: benchmark.max_t: expected an integer (seconds), found string '30'",
                "t.yaml:2:23: a.start: expected an integer (seconds), found number 1.5",
                "t.yaml:2:40: a.privileged: expected true or false, found string 'maybe'",
                "t.yaml:2:55: a.memory: expected a size like 512m, 2g or a byte count, found string 'lots'",
                "t.yaml:2:67: a.core: range '3-1' runs backwards (write a cpu list like \"0-3,8\")",
                "t.yaml:2:80: a.port: '80' is not \"host:container\" (e.g. \"8080:80\")",
                "t.yaml:3:4: b: container 'b' must be a mapping of settings with at least an 'image', found integer 7",
            ]
        )
    }

    @Test func conflictingSpellingsAreRejected() {
        let yaml = """
            benchmark: { name: t, max_t: 30 }
            a: { image: x, start: 1, start_t: 2, env: { A: b }, environment: { A: c }, core: 1, cpus: "1" }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:2:26: a.start_t: give either 'start' or 'start_t' for the start time, not both",
                "t.yaml:2:53: a.environment: give either 'env' or 'environment' for the environment, not both",
                "t.yaml:2:85: a.cpus: give either 'core' or 'cpus' for the cpus, not both",
            ]
        )
    }

    @Test func missingNameImageAndLogLevelTypos() {
        let yaml = """
            benchmark: { max_t: 30, log_level: inf }
            a: { start: 0 }
            """
        #expect(
            errors(yaml) == [
                "t.yaml:1:12: benchmark.name: a benchmark needs a name",
                "t.yaml:1:36: benchmark.log_level: unknown log level 'inf' (did you mean 'info'?)",
                "t.yaml:2:1: a.image: container 'a' needs an image",
            ]
        )
    }

    @Test func memoryBelowDockersMinimum() {
        #expect(
            errors("benchmark: { name: t, max_t: 30 }\na: { image: x, memory: 4m }\n") == [
                "t.yaml:2:24: a.memory: memory limit 4 MiB is below Docker's minimum of 6 MiB"
            ]
        )
    }

    @Test func yamlSyntaxErrorsKeepTheirLocation() {
        let found = errors("benchmark:\n  name: t\n  name: u\n")
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("t.yaml:3:3: ") == true)
    }

    @Test func errorDescriptionFormat() {
        let error = ConfigError(file: "configs/x.yaml", location: .init(line: 12, column: 5), keyPath: "web.enviroment", message: "unknown key (did you mean 'environment'?)")
        #expect(error.description == "configs/x.yaml:12:5: web.enviroment: unknown key (did you mean 'environment'?)")
        #expect(ConfigError(file: "a.yaml", location: nil, keyPath: "", message: "no such file").description == "a.yaml: no such file")
    }

    @Test func missingFile() {
        #expect(throws: ConfigErrors(errors: [ConfigError(file: "/nonexistent/x.yaml", location: nil, keyPath: "", message: "no such file")])) {
            try ConfigLoader.load(path: "/nonexistent/x.yaml")
        }
    }
}
