import Configuration
import Foundation
import PluginABI
import Testing

@Suite struct TraceTests {
    static let config = """
        benchmark:
          name: trace
          max_t: 60
          scheduler: { implementation: dynamic-v3, rdt: true }
        arrival:
          seed: 7
          mean: 5
          sigma: 2
          length: { mean: 20, sigma: 5, min: 10, max: 30 }
          priority_split: { random: false, priority: 20, nonpriority: 80 }
        data: { frequency: 500, perf: { instructions: true, cycles: true }, docker: true }
        workloads:
          input: ./jobs
          neighbour-8mb: { image: rdt4nn/thrash, priority: true, ipce: 90, command: "thrash --size 8M" }
        """

    static func writeTrace() throws -> String {
        let dir = try makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/jobs", withIntermediateDirectories: true)
        try config.write(toFile: dir + "/trace.yaml", atomically: true, encoding: .utf8)
        try """
            workloads:
              stream-64: { image: rdt4nn/stream, num_cores: 2, kind: memory, sensitivity: high }
              spin: { image: rdt4nn/spin, kind: cpu, critical: true }
            """.write(toFile: dir + "/jobs/a.yaml", atomically: true, encoding: .utf8)
        try """
            neighbour-8mb: { image: overridden-by-inline }
            """.write(toFile: dir + "/jobs/b.yml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func generatesJobsFromImportedAndInlineWorkloads() throws {
        let dir = try Self.writeTrace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let options = ConfigLoadOptions(onlineCPUs: CPUSet([0, 1]))
        let loaded = try ConfigLoader.load(path: dir + "/trace.yaml", options: options)
        let plan = loaded.plan
        let trace = try #require(plan.trace)
        #expect(trace.templates.map(\.name) == ["neighbour-8mb", "spin", "stream-64"])
        #expect(trace.templates[0].image == "rdt4nn/thrash")  // inline overrides the import
        #expect(trace.templates[2].numCores == 2)
        #expect(trace.templates[2].file == dir + "/jobs/a.yaml")
        #expect(trace.importedFiles == [dir + "/jobs/a.yaml", dir + "/jobs/b.yml"])
        #expect(trace.prioritySplit.map(\.name) == ["nonpriority", "priority"])

        let jobs = plan.containers
        #expect(!jobs.isEmpty)
        #expect(jobs.first?.startSeconds == 0)
        #expect(jobs.allSatisfy { $0.startSeconds < 60 && ($0.stopSeconds ?? 0) <= 60 && $0.stopSeconds! > $0.startSeconds })
        #expect(zip(jobs, jobs.dropFirst()).allSatisfy { $0.startSeconds < $1.startSeconds })
        #expect(jobs.map(\.index) == Array(0..<jobs.count))
        #expect(jobs.allSatisfy { $0.samplingIntervalMs == 500 && $0.collectors.map(\.id) == ["perf", "dockerstats"] })
        #expect(jobs[0].name.hasPrefix("000001-job-"))
        for job in jobs {
            let template = try #require(trace.templates.first { $0.name == job.workload })
            #expect(job.image == template.image)
            #expect(job.priority == template.priority)
            #expect(job.name.hasSuffix("-job-" + template.name))
        }
        // Same seed, same trace.
        let again = try ConfigLoader.load(path: dir + "/trace.yaml", options: options).plan.containers
        #expect(again.map(\.name) == jobs.map(\.name))
        #expect(again.map(\.startSeconds) == jobs.map(\.startSeconds))
        #expect(loaded.summary.hasPrefix("\(dir)/trace.yaml: ok — format container-bench, \(jobs.count) containers (trace from 3 workloads), 60 s"))
    }

    @Test func duplicateImportsAndMissingInputsAreErrors() throws {
        let dir = try Self.writeTrace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "stream-64: { image: again }\n".write(toFile: dir + "/jobs/c.yaml", atomically: true, encoding: .utf8)
        try Self.config.replacingOccurrences(of: "input: ./jobs", with: "input: [./jobs, ./missing]")
            .write(toFile: dir + "/trace.yaml", atomically: true, encoding: .utf8)
        let options = ConfigLoadOptions(onlineCPUs: CPUSet(0..<4))
        #expect(throws: ConfigErrors.self) { try ConfigLoader.load(path: dir + "/trace.yaml", options: options) }
        do {
            _ = try ConfigLoader.load(path: dir + "/trace.yaml", options: options)
        } catch {
            #expect(
                error.errors.map(\.description) == [
                    "\(dir)/trace.yaml:13:10: workloads.input: './missing' does not exist (looked for \(dir)/missing, relative to the configuration file)",
                    "\(dir)/jobs/c.yaml:1:12: workloads.stream-64: workload 'stream-64' is also defined in \(dir)/jobs/a.yaml",
                ]
            )
        }
    }

    @Test func traceNeedsBothBlocksAndAHorizon() {
        #expect(
            errors("benchmark: { name: t, max_t: 9 }\narrival: { mean: 5 }\n") == [
                "t.yaml:2:10: arrival: trace mode needs both 'arrival' and 'workloads'; 'workloads' is missing",
                "t.yaml:1:1: the benchmark has no containers (every top-level key other than benchmark, arrival, data and workloads is a container)",
            ].sorted()
        )
        #expect(
            errors("benchmark: { name: t, max_t: -1 }\narrival: { mean: 5 }\nworkloads: { w: { image: x } }\n") == [
                "t.yaml:1:1: the benchmark has no containers (every top-level key other than benchmark, arrival, data and workloads is a container)",
                "t.yaml:2:10: arrival: trace mode needs benchmark.max_t > 0 (the arrival horizon); -1 is not allowed",
            ]
        )
    }
}

@Suite struct ExampleConfigTests {
    /// The shipped examples validate on this host with the host's own environment.
    @Test(arguments: ["neighbours.yaml", "rdt4nn-format.yaml", "container-bench-format.yaml"])
    func exampleValidates(name: String) throws {
        let path = repositoryRoot + "/configs/" + name
        let environment = [
            "INFLUXDB_HOST": "http://127.0.0.1:8086", "INFLUXDB_BUCKET": "rdt4nn", "INFLUXDB_TOKEN": "example-token",
            "INFLUXDB_USER": "rdt4nn", "INFLUXDB_ORG": "rdt4nn", "REGISTRY_USER": "ci", "REGISTRY_PASSWORD": "example-password",
        ]
        let loaded = try ConfigLoader.load(path: path, options: ConfigLoadOptions(environment: environment))
        #expect(loaded.warnings.filter { !$0.message.hasPrefix("ipce") }.isEmpty, "\(loaded.warnings)")
        #expect(!loaded.maskedConfigText.contains("example-token"))
        #expect(!loaded.maskedConfigText.contains("example-password"))
    }

    @Test func neighboursIsTheStaggeredTwoContainerStudy() throws {
        let loaded = try ConfigLoader.load(path: repositoryRoot + "/configs/neighbours.yaml")
        let plan = loaded.plan
        #expect(plan.format == .native)
        #expect(plan.maxSeconds == 30)
        #expect(plan.containers.map(\.image) == ["rdt4nn/stream", "rdt4nn/thrash"])
        #expect(plan.containers.map(\.startSeconds) == [0, 5])
        #expect(plan.containers.map(\.stopSeconds) == [nil, 20])
        #expect(plan.containers.map { $0.cpuset?.description } == ["0", "1"])
        #expect(plan.collectorIDs == ["dockerstats", "perf"])
        #expect(plan.sink.id == "file")
        #expect(loaded.summary == "\(repositoryRoot)/configs/neighbours.yaml: ok — format native, 2 containers, 30 s, collectors dockerstats+perf, scheduler default, sink file")
    }

    @Test func originalFormatExamplesAreDetected() throws {
        let rdt = try ConfigLoader.load(path: repositoryRoot + "/configs/rdt4nn-format.yaml").plan
        #expect(rdt.format == .rdt4nn)
        let cb = try ConfigLoader.load(path: repositoryRoot + "/configs/container-bench-format.yaml").plan
        #expect(cb.format == .containerBench)
    }
}
