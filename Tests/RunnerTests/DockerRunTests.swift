import DockerEngine
import Foundation
import PluginABI
import Pipeline
import PluginHost
import Synchronization
import Testing
import TestKit

@testable import Runner

/// Runs against the real dockerd with the local rdt4nn/* images
/// (scripts/build-test-images.sh); skipped with a reason when either is missing.
@Suite(.serialized) struct DockerRunTests {
    static let sec: Int64 = 1_000_000_000

    /// The test's products folder (built plugins) and a fixture sink built with cc.
    static func catalog() throws -> PluginCatalog {
        let directory = TestEnvironment.productsDirectory
        let root = URL(fileURLWithPath: TestEnvironment.packageRoot)
        let out = NSTemporaryDirectory() + "rdt4nn-runner-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let sink = out + "/libsink.so"
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        cc.arguments = ["-std=c11", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread", "-I", root.path + "/plugin-sdk/include",
                        "-DFIXTURE_TWO_PLUGINS", "-DFIXTURE_ID=\"test.runner\"", "-o", sink, root.path + "/Tests/PluginHostTests/Fixtures/fixture_plugin.c"]
        try cc.run()
        cc.waitUntilExit()
        try #require(cc.terminationStatus == 0, "cc failed")
        return PluginLoader().load(files: [directory + "/librdt4nn-scheduler-default.so", sink])
    }

    static var products: String { TestEnvironment.productsDirectory }

    static func docker() -> DockerClient? {
        guard let client = try? DockerClient(), (try? client.imageExists("rdt4nn/spin")) == true else {
            print("skipping: dockerd or the rdt4nn/spin image is not available (scripts/start-dockerd.sh, scripts/build-test-images.sh)")
            return nil
        }
        return client
    }

    static func plan(_ containers: [RunPlan.Container], end: RunPlan.End, pull: RunPlan.PullPolicy = .missing) -> RunPlan {
        RunPlan(
            name: "runner-test", end: end, containers: containers,
            sinks: [RunPlan.SinkUse(plugin: RunPlan.PluginUse(id: "test.runner.sink"))],
            pull: pull, resultsRoot: NSTemporaryDirectory() + "rdt4nn-results-" + UUID().uuidString,
            configText: "benchmark:\n  name: runner-test\n", stopTimeoutSeconds: 2)
    }

    static func events(_ report: RunReport) throws -> [JSONValue] {
        try String(contentsOfFile: report.resultsPath + "/events.jsonl", encoding: .utf8)
            .split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    static func labelled(_ docker: DockerClient, _ report: RunReport) -> Int {
        (try? docker.listContainers(labels: ["rdt4nn.benchmark=\(report.benchmarkID)"]).count) ?? -1
    }

    @Test func aStaggeredRunStartsAndStopsOnTimeAndLeavesNothing() throws {
        guard let docker = Self.docker() else { return }
        let containers = [
            RunPlan.Container(name: "a", index: 0, image: "rdt4nn/spin", cpuset: "0", startOffsetNs: 0),
            RunPlan.Container(name: "b", index: 1, image: "rdt4nn/spin", startOffsetNs: 1 * Self.sec, stopOffsetNs: 3 * Self.sec),
            RunPlan.Container(name: "c", index: 2, image: "rdt4nn/busybox", command: ["sleep", "30"], cpuset: "0", startOffsetNs: 2 * Self.sec),
        ]
        var plan = Self.plan(containers, end: .at(4 * Self.sec))
        plan.scheduler = RunPlan.PluginUse(id: "default", config: .object([("allow_shared_cores", .bool(true))]))
        let runner = BenchmarkRunner(plan: plan, catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: Interruption())
        let report = runner.run()
        #expect(report.error == nil, "\(report.error?.message ?? "")")
        #expect(report.succeeded)
        #expect(report.leftoverContainers == 0)
        #expect(Self.labelled(docker, report) == 0)

        let events = try Self.events(report)
        let started = events.filter { $0["event"] == .string("container_started") }
        #expect(started.compactMap { $0["container"]?.stringValue } == ["a", "b", "c"])
        for event in started {
            guard case .integer(let planned)? = event["planned_offset_ns"], case .integer(let skew)? = event["skew_ns"] else {
                Issue.record("start event without planned offset: \(event.jsonText)")
                continue
            }
            #expect([0, 1, 2].map { $0 * Self.sec }.contains(planned))
            // Issue time vs plan: the timeline sleeps on the monotonic clock (bench/ measures the p99).
            #expect(skew >= 0 && skew < 50_000_000, "start skew \(skew) ns")
        }
        let stopped = try #require(events.first { $0["event"] == .string("container_stopped") && $0["container"] == .string("b") })
        if case .integer(let actual)? = stopped["actual_offset_ns"] {
            #expect(actual >= 3 * Self.sec && actual < 3 * Self.sec + 2 * Self.sec)
        }
        #expect(events.filter { $0["event"] == .string("container_removed") }.count == 3)
        #expect(events.last?["event"] == .string("run_finished"))

        // Placement: the default scheduler pinned each container somewhere.
        #expect(report.containers.allSatisfy { $0.cpuset?.isEmpty == false })
        let metadata = try JSONValue.parse(try String(contentsOfFile: report.resultsPath + "/metadata.json", encoding: .utf8))
        #expect(metadata["benchmark_id"] == .string(report.benchmarkID.value))
        #expect(metadata["containers"]?.arrayValue?.count == 3)
        #expect(metadata["host"]?["logical_cpus"] != nil)
        #expect(FileManager.default.fileExists(atPath: report.resultsPath + "/logs/a.log"))
        let log = try String(contentsOfFile: report.resultsPath + "/logs/a.log", encoding: .utf8)
        #expect(log.contains("spin start"))
        #expect(try String(contentsOfFile: report.resultsPath + "/config.yaml", encoding: .utf8) == "benchmark:\n  name: runner-test\n")
    }

    @Test func createdContainersCarryEverySetting() throws {
        guard let docker = Self.docker() else { return }
        let volume = NSTemporaryDirectory() + "rdt4nn-volume-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
        let container = RunPlan.Container(
            name: "web", index: 7, image: "rdt4nn/busybox", command: ["sleep", "30"],
            environment: ["MODE=test"], volumes: ["\(volume):/data:ro"],
            portBindings: ["8080/tcp": [PortBinding(hostIP: "127.0.0.1", hostPort: "18080")]],
            memoryBytes: 64 * 1024 * 1024, cpuset: "0", startOffsetNs: 0)
        let interruption = Interruption()
        let inspected = InspectBox()
        let watcher = Thread {
            // Inspect while the run executes, then end it with a simulated Ctrl-C.
            for _ in 0..<100 {
                if let summary = try? docker.listContainers(labels: ["rdt4nn.container=web"]).first(where: { $0.state == "running" }),
                    let details = try? docker.inspectContainer(summary.id)
                {
                    inspected.set(details)
                    break
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            interruption.raise(signal: SIGINT)
        }
        watcher.start()
        let report = BenchmarkRunner(plan: Self.plan([container], end: .untilInterrupted), catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: interruption).run()
        let details = try #require(inspected.get())
        #expect(details.hostConfig.cpusetCpus == "0")
        #expect(details.hostConfig.memory == Int64(64 * 1024 * 1024))
        #expect(details.hostConfig.binds == ["\(volume):/data:ro"])
        #expect(details.hostConfig.portBindings["8080/tcp"]?.first?.hostPort == "18080")
        #expect(details.config.environment.contains("MODE=test"))
        #expect(details.config.environment.contains("CONTAINER_INDEX=7"))
        #expect(details.config.environment.contains("BENCHMARK_ID=\(report.benchmarkID)"))
        #expect(details.config.labels["rdt4nn.benchmark"] == report.benchmarkID.value)
        #expect(details.config.labels["rdt4nn.container"] == "web")
        #expect(report.interruptedBy == "SIGINT")
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func aMissingImageFailsBeforeAnyContainerExists() throws {
        guard let docker = Self.docker() else { return }
        let containers = [
            RunPlan.Container(name: "ok", index: 0, image: "rdt4nn/spin"),
            RunPlan.Container(name: "ghost", index: 1, image: "rdt4nn/does-not-exist:1.0"),
        ]
        let report = BenchmarkRunner(plan: Self.plan(containers, end: .at(Self.sec), pull: .never), catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: Interruption()).run()
        #expect(report.error?.message == "image 'rdt4nn/does-not-exist:1.0' is not present and pulling is disabled (--pull=never); build or pull it first (scripts/build-test-images.sh builds the rdt4nn/* test images)")
        #expect(report.containers.allSatisfy { $0.dockerID == nil })
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func anUnknownSchedulerIsNamedAtRunTime() throws {
        guard let docker = Self.docker() else { return }
        var plan = Self.plan([RunPlan.Container(name: "a", index: 0, image: "rdt4nn/spin")], end: .at(Self.sec))
        plan.scheduler = RunPlan.PluginUse(id: "dynamic-v3")
        let report = BenchmarkRunner(plan: plan, catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: Interruption()).run()
        #expect(report.error?.message.hasPrefix("scheduler plugin not found: 'dynamic-v3'") == true)
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func aSignalDuringCreateStillRemovesEverything() throws {
        guard let docker = Self.docker() else { return }
        let containers = (0..<6).map { RunPlan.Container(name: "c\($0)", index: $0, image: "rdt4nn/spin", cpusRequested: 0) }
        let interruption = Interruption()
        let trigger = Thread {
            // As soon as the first container exists, interrupt.
            for _ in 0..<200 {
                if ((try? docker.listContainers(labels: ["rdt4nn.container=c0"]).count) ?? 0) > 0 { break }
                Thread.sleep(forTimeInterval: 0.005)
            }
            interruption.raise(signal: SIGTERM)
        }
        trigger.start()
        var plan = Self.plan(containers, end: .at(10 * Self.sec))
        plan.scheduler = RunPlan.PluginUse(id: "default", config: .object([("allow_shared_cores", .bool(true))]))
        let report = BenchmarkRunner(plan: plan, catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: interruption).run()
        #expect(report.interruptedBy == "SIGTERM")
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func placementWaitsForCPUsFreedByEarlierContainers() throws {
        guard let docker = Self.docker() else { return }
        // One CPU for the scheduler: 'late' fits only after 'early' stopped.
        let containers = [
            RunPlan.Container(name: "early", index: 0, image: "rdt4nn/spin", startOffsetNs: 0, stopOffsetNs: Self.sec),
            RunPlan.Container(name: "late", index: 1, image: "rdt4nn/spin", startOffsetNs: Self.sec + 300_000_000),
        ]
        var plan = Self.plan(containers, end: .at(2 * Self.sec))
        plan.scheduler = RunPlan.PluginUse(id: "default", config: .object([("cpus", .string("1"))]))
        let report = BenchmarkRunner(plan: plan, catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: Interruption()).run()
        #expect(report.error == nil, "\(report.error?.message ?? "")")
        #expect(report.containers.map(\.cpuset) == ["1", "1"])
        #expect(report.containers.allSatisfy { $0.actualStartNs != nil })
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func aSinkThatIsNotReachableAtStartKeepsEverySampleInTheSpool() throws {
        guard let docker = Self.docker() else { return }
        let influx = Self.products + "/librdt4nn-sink-influx.so"
        try #require(FileManager.default.fileExists(atPath: influx))
        var catalog = try Self.catalog()
        catalog.files += PluginLoader().load(files: [influx, Self.products + "/librdt4nn-procstat.so"]).files
        // Nothing listens on port 9 of the loopback: the sink's start asks to be retried.
        let sink = RunPlan.SinkUse(
            plugin: RunPlan.PluginUse(id: "influx", config: .object([("url", .string("http://127.0.0.1:9")), ("database", .string("bench")), ("timeout_ms", .integer(200))])),
            policy: SinkPolicy(flushIntervalNs: 100_000_000, maximumBackoffNs: 200_000_000, finalFlushTimeoutNs: 500_000_000))
        var plan = Self.plan([RunPlan.Container(name: "a", index: 0, image: "rdt4nn/spin")], end: .at(Self.sec))
        plan.sinks = [sink]
        plan.hostCollectors = [RunPlan.PluginUse(id: "procstat")]
        plan.hostSamplingIntervalNs = 100_000_000
        let console = Console(capturing: .normal)
        let report = BenchmarkRunner(plan: plan, catalog: catalog, docker: docker, console: console, interruption: Interruption()).run()
        #expect(report.error == nil, "\(report.error?.message ?? "")")
        let summary = try #require(report.sinks.first)
        #expect(summary.written == 0)
        #expect(summary.received > 5)
        #expect(summary.pendingInSpool == summary.received, "\(summary)")
        let spooled = try String(contentsOfFile: report.resultsPath + "/spool-influx.jsonl", encoding: .utf8)
        #expect(spooled.split(separator: "\n").count == summary.received)
        #expect(console.capturedLines.contains { $0.contains("sink 'influx' is not ready") })
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func aSignalDuringAPullEndsTheRunAtOnce() throws {
        guard let docker = Self.docker() else { return }
        // A "registry" on the loopback that accepts connections and never answers:
        // dockerd's pull hangs (127.0.0.0/8 registries are plain HTTP by default).
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0)
        try #require(listen(listener, 16) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)

        let interruption = Interruption()
        let trigger = Thread {
            Thread.sleep(forTimeInterval: 1.0)
            interruption.raise(signal: SIGINT)
        }
        trigger.start()
        let started = Date()
        let plan = Self.plan([RunPlan.Container(name: "a", index: 0, image: "127.0.0.1:\(port)/rdt4nn/hang:1")], end: .at(Self.sec))
        let report = BenchmarkRunner(plan: plan, catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: interruption).run()
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(report.error?.message == "interrupted by SIGINT while pulling '127.0.0.1:\(port)/rdt4nn/hang:1'")
        #expect(report.containers.allSatisfy { $0.dockerID == nil })
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func theContainerStopsWhenItsCommandEnds() throws {
        guard let docker = Self.docker() else { return }
        let containers = [
            RunPlan.Container(name: "job", index: 0, image: "rdt4nn/busybox", command: ["sleep", "600"], execCommand: "sleep 1; exit 4"),
        ]
        let report = BenchmarkRunner(plan: Self.plan(containers, end: .at(8 * Self.sec)), catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: Interruption()).run()
        #expect(report.error == nil)
        let events = try Self.events(report)
        #expect(events.contains { $0["event"] == .string("command_finished") && $0["exit_code"] == .integer(4) })
        let stopped = try #require(events.first { $0["event"] == .string("container_stopped") })
        #expect(stopped["reason"] == .string("its command ended"))
        if case .integer(let offset)? = stopped["actual_offset_ns"] { #expect(offset < 4 * Self.sec) }
        #expect(Self.labelled(docker, report) == 0)
    }

    @Test func aContainerThatExitsEarlyIsRecordedWithItsExitCode() throws {
        guard let docker = Self.docker() else { return }
        let containers = [
            RunPlan.Container(name: "short", index: 0, image: "rdt4nn/busybox", command: ["sh", "-c", "sleep 0.3; exit 3"]),
            RunPlan.Container(name: "long", index: 1, image: "rdt4nn/spin"),
        ]
        let report = BenchmarkRunner(plan: Self.plan(containers, end: .at(2 * Self.sec)), catalog: try Self.catalog(), docker: docker,
                                     console: Console(capturing: .normal), interruption: Interruption()).run()
        let short = try #require(report.containers.first { $0.name == "short" })
        #expect(short.exitedEarly)
        #expect(short.exitCode == 3)
        let events = try Self.events(report)
        #expect(events.contains { $0["event"] == .string("container_exited") && $0["exit_code"] == .integer(3) })
        #expect(Self.labelled(docker, report) == 0)
    }
}

/// Hands an inspect result from the watcher thread to the test.
private final class InspectBox: Sendable {
    private let value = Mutex<ContainerInspect?>(nil)
    func set(_ inspect: ContainerInspect) { value.withLock { $0 = inspect } }
    func get() -> ContainerInspect? { value.withLock { $0 } }
}
