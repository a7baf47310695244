import DockerEngine
import Foundation
import PluginABI
import Testing
import TestKit

/// `rdt4nn run` as a user runs it: the built binary, real signals, real dockerd.
@Suite(.serialized) struct CLIRunTests {
    static var products: String { TestEnvironment.productsDirectory }

    /// A plugins directory with copies of the built plugins the test needs.
    static func plugins(_ names: [String]) throws -> String { try TestEnvironment.pluginsDirectory(names) }

    static func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "rdt4nn-cli-" + UUID().uuidString + ".yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func ctrlCDuringExecuteEndsTheRunAndRemovesEveryContainer() throws {
        guard let docker = try? DockerClient(), (try? docker.imageExists("rdt4nn/spin")) == true else {
            print("skipping: dockerd or the rdt4nn/spin image is not available")
            return
        }
        let config = try Self.write("""
            benchmark:
              name: cli-sigint
              max_t: 60
              interval_ms: 100
              collectors: {dockerstats: true}
              allow_shared_cores: true
            a: {image: rdt4nn/spin, cpus: "0"}
            b: {image: rdt4nn/spin, cpus: "0", start: 1}
            """)
        let results = NSTemporaryDirectory() + "rdt4nn-cli-results-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.products + "/rdt4nn")
        process.arguments = ["run", "--plugins", try Self.plugins(["rdt4nn-scheduler-default", "rdt4nn-sink-file", "rdt4nn-dockerstats"]),
                             "--results", results, config]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Let both containers start, then press Ctrl-C once.
        Thread.sleep(forTimeInterval: 2.5)
        kill(process.processIdentifier, SIGINT)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "\(text)")
        #expect(text.contains("SIGINT: ending the run"))
        let runs = try FileManager.default.contentsOfDirectory(atPath: results)
        #expect(runs.count == 1)
        let id = try #require(runs.first)
        #expect(try docker.listContainers(labels: ["rdt4nn.benchmark=\(id)"]).isEmpty)
        let metrics = try String(contentsOfFile: "\(results)/\(id)/metrics.lp", encoding: .utf8)
        #expect(metrics.contains("docker_stats,"))
        #expect(metrics.contains("benchmark_meta,"))
        let metadata = try String(contentsOfFile: "\(results)/\(id)/metadata.json", encoding: .utf8)
        #expect(metadata.contains("\"interrupted_by\": \"SIGINT\""))
    }

    @Test func aSecondCtrlCSkipsGracefulStopsButStillRemovesEverything() throws {
        guard let docker = try? DockerClient(), (try? docker.imageExists("rdt4nn/busybox")) == true else {
            print("skipping: dockerd or the rdt4nn/busybox image is not available")
            return
        }
        // busybox sleep as PID 1 ignores SIGTERM: a graceful stop would wait its full timeout.
        let config = try Self.write("""
            benchmark:
              name: cli-double
              max_t: 60
              collectors: {}
            a: {image: rdt4nn/busybox, args: ["sleep", "600"]}
            """)
        let results = NSTemporaryDirectory() + "rdt4nn-cli-results-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.products + "/rdt4nn")
        process.arguments = ["run", "--plugins", try Self.plugins(["rdt4nn-scheduler-default", "rdt4nn-sink-file"]), "--results", results, config]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        let pressed = Date()
        kill(process.processIdentifier, SIGINT)
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        #expect(Date().timeIntervalSince(pressed) < 8, "the second Ctrl-C kills instead of waiting out the 10 s stop timeout")
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: results).first)
        #expect(try docker.listContainers(labels: ["rdt4nn.benchmark=\(id)"]).isEmpty)
        let events = try String(contentsOfFile: "\(results)/\(id)/events.jsonl", encoding: .utf8)
        #expect(events.contains("\"graceful\":false"))
    }

    @Test func threeBusyContainersAt50msGiveSamplesForEveryContainerAndTick() throws {
        guard let docker = try? DockerClient(), (try? docker.imageExists("rdt4nn/spin")) == true else {
            print("skipping: dockerd or the rdt4nn/spin image is not available")
            return
        }
        let config = try Self.write("""
            benchmark:
              name: three-busy
              max_t: 4
              interval_ms: 50
              collectors: {dockerstats: true, perf: true}
              allow_shared_cores: true
            a: {image: rdt4nn/spin, cpus: "0"}
            b: {image: rdt4nn/spin, cpus: "0"}
            c: {image: rdt4nn/spin, cpus: "1"}
            """)
        let results = NSTemporaryDirectory() + "rdt4nn-cli-results-" + UUID().uuidString
        let plugins = try Self.plugins(["rdt4nn-scheduler-default", "rdt4nn-sink-file", "rdt4nn-dockerstats", "rdt4nn-perf"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.products + "/rdt4nn")
        process.arguments = ["run", "--quiet", "--plugins", plugins, "--results", results, config]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: results).first)
        let metadata = try JSONValue.parse(try String(contentsOfFile: "\(results)/\(id)/metadata.json", encoding: .utf8))
        let events = try String(contentsOfFile: "\(results)/\(id)/events.jsonl", encoding: .utf8)
            .split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }

        // measurement -> container -> [field: value] per sample
        var samples: [String: [String: [[String: Double]]]] = [:]
        for line in try String(contentsOfFile: "\(results)/\(id)/metrics.lp", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3 else { continue }
            let head = parts[0].split(separator: ",")
            let measurement = String(head[0])
            guard let name = head.first(where: { $0.hasPrefix("container_name=") })?.dropFirst("container_name=".count) else { continue }
            var fields: [String: Double] = ["_time": Double(parts[2]) ?? 0]
            for field in parts[1].split(separator: ",") {
                let pair = field.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                fields[String(pair[0])] = Double(pair[1].hasSuffix("i") ? String(pair[1].dropLast()) : String(pair[1]))
            }
            samples[measurement, default: [:]][String(name), default: []].append(fields)
        }
        let interval = 50_000_000.0
        for container in ["a", "b", "c"] {
            for (measurement, plugin) in [("docker_stats", "dockerstats"), ("perf", "perf")] {
                let rows = samples[measurement]?[container] ?? []
                let statistics = metadata["collectors"]?.arrayValue?.first {
                    $0["plugin"] == .string(plugin) && $0["instance"] == .string(container)
                }
                guard case .integer(let collections)? = statistics?["collections"], case .integer(let skipped)? = statistics?["skipped_ticks"] else {
                    Issue.record("no statistics for \(plugin)/\(container)")
                    continue
                }
                // One sample per collection, and every tick between the container's start and
                // stop either collected or counted as skipped.
                // Sampling begins once Docker's start call returned (start_call_ns after the issue time).
                let started = Self.offset(events, "container_started", container) + Self.value(events, "container_started", container, "start_call_ns")
                let running = Double(Self.offset(events, "container_stopped", container) - started)
                let ticks = Int64(running / interval)
                #expect(rows.count == Int(collections), "\(measurement)/\(container): \(rows.count) samples, \(collections) collections")
                #expect(collections + skipped >= ticks - 3, "\(measurement)/\(container): \(collections) collections + \(skipped) skipped of \(ticks) ticks")
                #expect(skipped <= ticks / 10, "\(measurement)/\(container): \(skipped) skipped ticks")
            }
            let stats = samples["docker_stats"]?[container] ?? []
            #expect(stats.allSatisfy { ($0["memory_usage_bytes"] ?? 0) > 0 && ($0["pids"] ?? 0) >= 1 })
            // Percentages need two collections; after that, every window has one. The kernel
            // charges a running task's CPU time at scheduler ticks, so one window may count up
            // to a tick more than it ran, and a late previous collection shortens a window.
            #expect(stats.first?["cpu_wall_percent"] == nil, "the first collection only opens the first window")
            let percents = stats.dropFirst().map { $0["cpu_wall_percent"] ?? -1 }
            let bound = 100 * (1 + 2 * Self.schedulerTickNs / interval)
            #expect(percents.allSatisfy { (0...bound).contains($0) }, "a one-CPU container stays within one CPU, give or take a tick: \(percents.max() ?? -1) > \(bound)")
            // Over the whole run the per-window errors cancel: CPU time over the time between
            // the first and the last collection stays within one CPU.
            let usage = stats.compactMap { row in row["cpu_usage_ns"].flatMap { cpu in row["_time"].map { (cpu: cpu, time: $0) } } }
            if let first = usage.first, let last = usage.last, last.time > first.time {
                let share = (last.cpu - first.cpu) / (last.time - first.time)
                #expect(share <= 1.01, "\(container): \(share) CPUs over the run")
            }
            // A one-CPU container's task-clock stays within the window: the time since the
            // previous sample (longer after a skipped tick), plus slack for a late collection.
            // The first window starts at the collector's start.
            let perf = samples["perf"]?[container] ?? []
            for (previous, sample) in zip(perf, perf.dropFirst()) {
                let window = (sample["_time"] ?? 0) - (previous["_time"] ?? 0)
                let taskClock = sample["task_clock_ns"] ?? -1
                #expect(taskClock >= 0 && taskClock <= window + 0.3 * interval, "\(container): task_clock_ns \(taskClock) in a window of \(window) ns")
            }
            #expect(perf.allSatisfy { $0["cycles"] == nil }, "hardware counters are absent here, never zero")

            // Two independent sources agree on the CPU time the container used between the
            // first and the last tick both sampled: the cgroup's counter (dockerstats) and the
            // sum of perf's task-clock deltas for the cgroup. How much CPU the spinners got
            // depends on the machine's load; the two must agree whatever it was.
            let statsByTime = Dictionary(stats.compactMap { row in row["_time"].map { ($0, row) } }, uniquingKeysWith: { first, _ in first })
            let common = perf.compactMap { $0["_time"] }.filter { statsByTime[$0]?["cpu_usage_ns"] != nil }
            if let from = common.first, let to = common.last, to > from,
               let usageFrom = statsByTime[from]?["cpu_usage_ns"], let usageTo = statsByTime[to]?["cpu_usage_ns"] {
                let cgroupTime = usageTo - usageFrom
                let taskClock = perf.filter { ($0["_time"] ?? 0) > from && ($0["_time"] ?? 0) <= to }.compactMap { $0["task_clock_ns"] }.reduce(0, +)
                print("\(container): perf task-clock \(taskClock / 1e6) ms, cgroup CPU time \(cgroupTime / 1e6) ms")
                #expect(cgroupTime > 0.05 * (to - from), "\(container): the spinner hardly ran (\(cgroupTime / 1e6) ms of \((to - from) / 1e6) ms)")
                #expect(abs(taskClock - cgroupTime) <= 0.05 * cgroupTime + 10e6, "\(container): perf task-clock \(taskClock / 1e6) ms vs cgroup CPU time \(cgroupTime / 1e6) ms")
            } else {
                Issue.record("\(container): no tick sampled by both collectors")
            }
        }
        // The two spinners pinned to CPU 0 share one CPU (give or take the charge lag at the ends).
        func meanWall(_ container: String) -> Double {
            let percents = (samples["docker_stats"]?[container] ?? []).compactMap { $0["cpu_wall_percent"] }
            return percents.reduce(0, +) / Double(max(1, percents.count))
        }
        #expect(meanWall("a") + meanWall("b") <= 105, "a and b share CPU 0: \(meanWall("a")) % + \(meanWall("b")) %")
        #expect(try docker.listContainers(labels: ["rdt4nn.benchmark=\(id)"]).isEmpty)
    }

    /// The kernel's scheduler tick in ns (CONFIG_HZ, from the kernel's config
    /// in /boot or /proc/config.gz); 10 ms, the coarsest common one (HZ=100),
    /// when neither is readable.
    static let schedulerTickNs: Double = {
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var config = (try? String(contentsOfFile: "/boot/config-\(release)", encoding: .utf8)) ?? ""
        if config.isEmpty, FileManager.default.fileExists(atPath: "/proc/config.gz") {
            let zcat = Process()
            zcat.executableURL = URL(fileURLWithPath: "/bin/zcat")
            zcat.arguments = ["/proc/config.gz"]
            let output = Pipe()
            zcat.standardOutput = output
            if (try? zcat.run()) != nil {
                config = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                zcat.waitUntilExit()
            }
        }
        let hz = config.split(separator: "\n").first { $0.hasPrefix("CONFIG_HZ=") }.flatMap { Double($0.dropFirst("CONFIG_HZ=".count)) }
        return 1e9 / (hz ?? 100)
    }()

    /// `actual_offset_ns` of the first `event` of `container`.
    static func offset(_ events: [JSONValue], _ event: String, _ container: String) -> Int64 {
        value(events, event, container, "actual_offset_ns")
    }

    /// An integer `key` of the first `event` of `container` (0 when absent).
    static func value(_ events: [JSONValue], _ event: String, _ container: String, _ key: String) -> Int64 {
        let match = events.first { $0["event"] == .string(event) && $0["container"] == .string(container) }
        if case .integer(let value)? = match?[key] { return value }
        return 0
    }

    @Test func aCollectCallThatNeverReturnsIsAbandonedAndTheRunStillCleansUp() throws {
        guard let docker = try? DockerClient(), (try? docker.imageExists("rdt4nn/busybox")) == true else {
            print("skipping: dockerd or the rdt4nn/busybox image is not available")
            return
        }
        // The test fixture collector, built to block for ever in its first collect call.
        let plugins = try Self.plugins(["rdt4nn-scheduler-default", "rdt4nn-sink-file"])
        try TestEnvironment.compileFixturePlugin(["-DFIXTURE_HANG_IN_COLLECT", "-DFIXTURE_ID=\"test.hang\""], into: plugins, name: "libhang.so")
        let config = try Self.write("""
            benchmark:
              name: cli-hang
              max_t: 2
              interval_ms: 50
              collectors: {test.hang: true}
            a: {image: rdt4nn/busybox, args: ["sleep", "100000"]}
            """)
        let results = NSTemporaryDirectory() + "rdt4nn-cli-results-" + UUID().uuidString
        let started = Date()
        let run = try ProcessRunner.run(Self.products + "/rdt4nn", ["run", "--plugins", plugins, "--results", results, "--host-collector", "test.hang", config],
                                        timeoutSeconds: 90)
        let took = Date().timeIntervalSince(started)
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: results).first)
        if run.timedOut {
            // Killed: remove what it could not.
            for container in (try? docker.listContainers(labels: ["rdt4nn.benchmark=\(id)"])) ?? [] { try? docker.removeContainer(container.id, force: true, removeVolumes: true) }
        }
        // Two hung instances (the container's and the host's), each given 5 s to return, then abandoned.
        #expect(!run.timedOut && took < 60, "the run took \(took) s\(run.timedOut ? " and was killed" : "")")
        #expect(run.stderr.contains("collector 'test.hang' for 'a': its collect call has not returned after 5 s"), "\(run.stderr)")
        #expect(run.stderr.contains("collector 'test.hang' for the host: its collect call has not returned after 5 s"), "\(run.stderr)")
        #expect(try docker.listContainers(labels: ["rdt4nn.benchmark=\(id)"]).isEmpty, "the run left its container behind")
        let events = try String(contentsOfFile: "\(results)/\(id)/events.jsonl", encoding: .utf8)
        #expect(events.components(separatedBy: "\"collector_abandoned\"").count - 1 == 2, "\(events)")
        #expect(events.contains("\"container_removed\""))
    }

    @Test func dockerdUnreachableIsAClearError() throws {
        let config = try Self.write("benchmark:\n  name: x\n  max_t: 1\na: {image: rdt4nn/spin}\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.products + "/rdt4nn")
        process.arguments = ["run", "--docker-socket", "/nonexistent/docker.sock", "--plugins", try Self.plugins([]), config]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.contains("error: cannot reach dockerd"), "\(text)")
        #expect(text.contains("/nonexistent/docker.sock"))
    }
}
