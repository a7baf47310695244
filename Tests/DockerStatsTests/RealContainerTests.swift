import Cgroups
import DockerEngine
import Foundation
import HTTPClient
import PluginABI
import PluginHost
import Synchronization
import Testing

/// The plugin against real containers on the local dockerd, compared with
/// `docker stats --no-stream` and `GET /containers/{id}/stats?stream=false`
/// over the same window.
@Suite(.serialized) struct RealContainerTests {
    /// A running test container; removed by `remove()` (called from `defer`).
    struct Container {
        var id: String
        var pid: Int32
        var name: String
    }

    static func start(_ docker: DockerClient, suffix: String, image: String, command: [String], hostConfig: HostConfig) throws -> Container {
        let name = "rdt4nn-test-dockerstats-\(suffix)-\(getpid())"
        try? docker.removeContainer(name, force: true)
        let created = try docker.createContainer(ContainerSpec(name: name, image: image, command: command, labels: ["rdt4nn.test": "dockerstats"], hostConfig: hostConfig))
        do {
            _ = try docker.startContainer(created.id)
            let pid = try docker.inspectContainer(created.id).state.pid
            try #require(pid > 0, "container \(name) has no pid after start")
            return Container(id: created.id, pid: Int32(pid), name: name)
        } catch {
            try? docker.removeContainer(created.id, force: true)
            throw error
        }
    }

    /// Removes a test container; a failure is recorded with its reason (a
    /// container left behind would also fail `.ci/run`), after two more tries.
    static func remove(_ docker: DockerClient, _ container: Container) {
        var failure: DockerError?
        for _ in 0..<3 {
            do {
                try docker.removeContainer(container.id, force: true)
                return
            } catch {
                if error.isNotFound { return }
                failure = error
                usleep(500_000)
            }
        }
        Issue.record("could not remove test container \(container.name): \(failure.map { "\($0)" } ?? "")")
    }

    /// `docker stats --no-stream --format '{{json .}}'` for one container.
    static func dockerCLIStats(_ id: String) throws -> [String: String] {
        let result = try TestSupport.run("/usr/bin/env", ["docker", "stats", "--no-stream", "--format", "{{json .}}", id])
        try #require(result.status == 0, "docker stats failed: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        return object.compactMapValues { $0 as? String }
    }

    /// `GET /containers/{id}/stats?stream=false` (blocks about two seconds).
    static func apiStats(_ id: String) throws -> JSONValue {
        let client = try HTTPClient(transport: .unixSocket(path: "/var/run/docker.sock"))
        let response = try client.send(HTTPRequest(path: "/containers/\(id)/stats?stream=false"))
        try #require(response.status == 200, "stats returned HTTP \(response.status)")
        return try JSONValue.parse(String(decoding: response.body, as: UTF8.self))
    }

    /// Bytes of a docker CLI size ("16.58MiB", "0B", "1.2kB").
    static func bytes(_ text: Substring) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776), ("kB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
        ]
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            let number = try #require(Double(trimmed.dropLast(unit.count)), "not a size: '\(text)'")
            return number * factor
        }
        Issue.record("not a size: '\(text)'")
        return .nan
    }

    static func percent(_ text: String?) throws -> Double {
        let value = try #require(text)
        return try #require(Double(value.dropLast()), "not a percentage: '\(value)'")
    }

    /// One plugin sample with the wall clock and host CPU time read right after it.
    struct Point {
        var time: Int64
        var sample: PluginSample
        var host: HostCPUTime
    }

    /// Runs `body` on another thread and collects every `interval` µs until
    /// it returns (plus one reading before and one after).  Collections all
    /// happen on the calling thread, as the ABI requires.
    static func trace<T: Sendable>(
        _ harness: CollectorHarness, interval: UInt32 = 20_000, _ body: @escaping @Sendable () throws -> T
    ) throws -> (T, [Point]) {
        let host = try HostStatReader()
        var points = [try point(harness, host)]
        let outcome = Mutex<Result<T, any Error>?>(nil)
        Thread {
            let result = Result { try body() }  // outside the lock: the poller must not wait for it
            outcome.withLock { $0 = result }
        }.start()
        while outcome.withLock({ $0 == nil }) {
            usleep(interval)
            points.append(try point(harness, host))
        }
        points.append(try point(harness, host))
        let result = try outcome.withLock { $0! }.get()
        return (result, points)
    }

    /// Collects once and reads the clock and /proc/stat right after.
    static func point(_ harness: CollectorHarness, _ host: HostStatReader) throws -> Point {
        let now = realtimeNanoseconds()
        let sample = try #require(try harness.collect(realtimeNs: now).first)
        return Point(time: now, sample: sample, host: try host.read())
    }

    /// docker's CPU % between two points: Δcontainer / Δhost (/proc/stat) × CPUs × 100.
    static func rate(_ a: Point, _ b: Point) -> Double? {
        guard let u0 = a.sample.integer("cpu_usage_ns"), let u1 = b.sample.integer("cpu_usage_ns"), b.host.totalNanoseconds > a.host.totalNanoseconds else { return nil }
        return Double(u1 - u0) / Double(b.host.totalNanoseconds - a.host.totalNanoseconds) * Double(b.host.onlineCPUs) * 100
    }

    /// CPU % over every window of about one second (0.95–1.1 s) in a trace.
    static func oneSecondRates(_ trace: [Point]) -> [Double] {
        var rates: [Double] = []
        for (i, start) in trace.enumerated() {
            guard let end = trace[i...].first(where: { $0.time - start.time >= 950_000_000 }), end.time - start.time <= 1_100_000_000 else { continue }
            if let rate = rate(start, end) { rates.append(rate) }
        }
        return rates
    }

    static func realtimeNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    @Test(arguments: [
        // spin limited to half a CPU (throttled every period) on CPU 0, 64 MiB.
        ("spin", "rdt4nn/spin", [String](), HostConfig(cpusetCpus: "0", memory: 64 << 20, nanoCpus: 500_000_000, networkMode: "none")),
        // stream over 64 MiB of arrays on CPU 1, 256 MiB.
        ("stream", "rdt4nn/stream", ["--size", "64"], HostConfig(cpusetCpus: "1", memory: 256 << 20, networkMode: "none")),
    ])
    func matchesDockerStatsAndTheStatsAPI(suffix: String, image: String, command: [String], hostConfig: HostConfig) throws {
        let docker = try DockerClient()
        let container = try Self.start(docker, suffix: suffix, image: image, command: command, hostConfig: hostConfig)
        defer { Self.remove(docker, container) }
        usleep(1_000_000)  // let the workload allocate and the daemon's collector see it

        let harness = try CollectorHarness(target: CollectorHarness.target(pid: container.pid, name: container.name, id: container.id))
        try harness.instance.start()
        let schema = try #require(harness.descriptor.metricsSchema)

        // 1. docker stats --no-stream, sampled every 20 ms while it runs.
        let (cli, cliTrace) = try Self.trace(harness) { try Self.dockerCLIStats(container.id) }
        let before = cliTrace.first!.sample
        let after = cliTrace.last!.sample
        for point in cliTrace { #expect(schema.problems(with: point.sample).isEmpty, "\(schema.problems(with: point.sample))") }
        // The CLI's figure covers the daemon's last one-second window, which we cannot see:
        // it must lie within the range of our one-second windows during the call.
        let cliCPU = try Self.percent(cli["CPUPerc"])
        let windows = Self.oneSecondRates(cliTrace)
        try #require(!windows.isEmpty, "the docker stats call took under a second: \(cliTrace.count) points over \(Double(cliTrace.last!.time - cliTrace.first!.time) / 1e9) s")
        #expect(windows.min()! - 3 <= cliCPU && cliCPU <= windows.max()! + 3, "docker stats \(cliCPU) outside our one-second windows \(windows.min()!)...\(windows.max()!)")

        let usage = try #require(cli["MemUsage"]).split(separator: "/")
        try #require(usage.count == 2)
        let cliUsed = try Self.bytes(usage[0])
        let cliLimit = try Self.bytes(usage[1])
        let workingSet = Double(try #require(after.integer("memory_working_set_bytes")))
        let slack = 0.05 * cliUsed + 1_048_576
        #expect(abs(workingSet - cliUsed) <= slack, "working set \(workingSet) vs docker stats \(cliUsed)")
        #expect(after.integer("memory_limit_bytes") == hostConfig.memory)
        #expect(abs(cliLimit - Double(hostConfig.memory!)) < 1)
        let memoryPercent = try #require(after.float("memory_percent"))
        #expect(abs(memoryPercent - (try Self.percent(cli["MemPerc"]))) <= 1, "memory_percent \(memoryPercent) vs \(cli["MemPerc"] ?? "")")
        #expect(String(try #require(after.integer("pids"))) == cli["PIDs"])
        #expect(String(try #require(before.integer("pids"))) == cli["PIDs"])

        // --network none: only lo, which docker does not report either.
        #expect(cli["NetIO"] == "0B / 0B")
        for key in ["network_rx_bytes", "network_tx_bytes", "network_rx_packets", "network_tx_packets"] { #expect(after.integer(key) == 0, "\(key)") }
        let blockIO = try #require(cli["BlockIO"]).split(separator: "/")
        try #require(blockIO.count == 2)
        for (key, text) in [("blkio_read_bytes", blockIO[0]), ("blkio_write_bytes", blockIO[1])] {
            let theirs = try Self.bytes(text)
            let ours = Double(try #require(after.integer(key)))
            #expect(abs(ours - theirs) <= 0.05 * theirs + 1000, "\(key) \(ours) vs docker stats \(text)")
        }

        // 2. The stats API, sampled the same way: its cumulative counters must lie between
        // the readings just before and after the call.
        let (api, apiTrace) = try Self.trace(harness) { try Self.apiStats(container.id) }
        let first = apiTrace.first!.sample
        let second = apiTrace.last!.sample
        func brackets(_ key: String, _ value: Double?) {
            guard let value, let low = first.integer(key), let high = second.integer(key) else {
                Issue.record("\(key): missing (api \(String(describing: value)))")
                return
            }
            #expect(Double(low) <= value && value <= Double(high), "\(key): docker \(value) not within [\(low), \(high)]")
        }
        let cpuStats = api["cpu_stats"]
        brackets("cpu_usage_ns", cpuStats?["cpu_usage"]?["total_usage"]?.doubleValue)
        brackets("cpu_user_ns", cpuStats?["cpu_usage"]?["usage_in_usermode"]?.doubleValue)
        brackets("cpu_kernel_ns", cpuStats?["cpu_usage"]?["usage_in_kernelmode"]?.doubleValue)
        brackets("cpu_periods", cpuStats?["throttling_data"]?["periods"]?.doubleValue)
        brackets("cpu_throttled_periods", cpuStats?["throttling_data"]?["throttled_periods"]?.doubleValue)
        brackets("cpu_throttled_ns", cpuStats?["throttling_data"]?["throttled_time"]?.doubleValue)
        if let nanoCPUs = hostConfig.nanoCpus {
            #expect((second.integer("cpu_periods") ?? 0) > 0, "a container with a CPU quota counts enforcement periods")
            // A spinner that ran at (nearly) its quota must have been throttled; one starved by
            // other load on its CPU may never reach the quota, and then nothing is required.
            let start = cliTrace.first!, end = apiTrace.last!
            let used = Double((end.sample.integer("cpu_usage_ns") ?? 0) - (start.sample.integer("cpu_usage_ns") ?? 0))
            let share = used / Double(end.time - start.time)
            if share >= 0.9 * Double(nanoCPUs) / 1e9 {
                #expect((second.integer("cpu_throttled_periods") ?? 0) > 0, "a half-CPU spin that used \(share) CPU has been throttled")
            }
        }

        // The API's CPU % (docker CLI formula on its two readings) against ours over the
        // same window, located by the API's `preread` and `read` timestamps.
        let precpu = api["precpu_stats"]
        let cpuDelta = try #require(cpuStats?["cpu_usage"]?["total_usage"]?.doubleValue) - (try #require(precpu?["cpu_usage"]?["total_usage"]?.doubleValue))
        let systemDelta = try #require(cpuStats?["system_cpu_usage"]?.doubleValue) - (try #require(precpu?["system_cpu_usage"]?.doubleValue))
        let onlineCPUs = try #require(cpuStats?["online_cpus"]?.doubleValue)
        let apiCPU = cpuDelta / systemDelta * onlineCPUs * 100
        let preread = try #require(DockerTimestamp(rfc3339: api["preread"]?.stringValue ?? "")).nanosecondsSinceEpoch
        let read = try #require(DockerTimestamp(rfc3339: api["read"]?.stringValue ?? "")).nanosecondsSinceEpoch
        let from = try #require(apiTrace.min { abs($0.time - preread) < abs($1.time - preread) })
        let to = try #require(apiTrace.min { abs($0.time - read) < abs($1.time - read) })
        let sameWindow = try #require(Self.rate(from, to))
        #expect(abs(sameWindow - apiCPU) <= max(3, 0.05 * apiCPU), "our CPU % \(sameWindow) vs API \(apiCPU) over the same window")

        // The plugin's own cpu_percent over a one-second window equals the docker formula
        // computed from its cpu_usage_ns and /proc/stat read next to it.
        let host = try HostStatReader()
        let start = try Self.point(harness, host)
        usleep(1_000_000)
        let last = try Self.point(harness, host)
        let pluginCPU = try #require(last.sample.float("cpu_percent"))
        let expectedCPU = try #require(Self.rate(start, last))
        #expect(abs(pluginCPU - expectedCPU) <= max(2, 0.03 * expectedCPU), "cpu_percent \(pluginCPU) vs \(expectedCPU) recomputed")
        let wall = try #require(last.sample.float("cpu_wall_percent"))
        #expect(abs(wall - pluginCPU) <= max(3, 0.05 * pluginCPU), "cpu_wall_percent \(wall) vs cpu_percent \(pluginCPU)")

        let memory = try #require(api["memory_stats"])
        #expect(Double(try #require(second.integer("memory_limit_bytes"))) == memory["limit"]?.doubleValue)
        let apiUsage = try #require(memory["usage"]?.doubleValue)
        let ourUsage = Double(try #require(second.integer("memory_usage_bytes")))
        #expect(abs(ourUsage - apiUsage) <= 0.05 * apiUsage, "memory_usage_bytes \(ourUsage) vs API \(apiUsage)")
        let inactive = memory["stats"]?["total_inactive_file"]?.doubleValue ?? memory["stats"]?["inactive_file"]?.doubleValue ?? 0
        let ourWorkingSet = Double(try #require(second.integer("memory_working_set_bytes")))
        #expect(abs(ourWorkingSet - (apiUsage - inactive)) <= 0.05 * apiUsage, "working set \(ourWorkingSet) vs API \(apiUsage - inactive)")
        if let cache = memory["stats"]?["total_cache"]?.doubleValue ?? memory["stats"]?["file"]?.doubleValue {
            #expect(abs(Double(second.integer("memory_cache_bytes") ?? -1) - cache) <= 0.05 * apiUsage, "memory_cache_bytes vs API \(cache)")
        }
        if let rss = memory["stats"]?["total_rss"]?.doubleValue ?? memory["stats"]?["anon"]?.doubleValue {
            #expect(abs(Double(second.integer("memory_rss_bytes") ?? -1) - rss) <= 0.05 * apiUsage, "memory_rss_bytes vs API \(rss)")
        }
        #expect(Double(try #require(second.integer("pids"))) == api["pids_stats"]?["current"]?.doubleValue)
        #expect(api["networks"] == nil)  // --network none: docker has no interfaces to report

        harness.instance.stop()
        #expect(harness.instance.context.violations.isEmpty, "\(harness.instance.context.violations)")
    }

    /// True when this host mounts v1 controllers and a cgroup2 hierarchy.
    static var hostIsHybrid: Bool { (try? CgroupFilesystem().mode()) == .hybrid }

    /// On a hybrid host the container also has a directory in the cgroup2
    /// hierarchy, whose `cpu.stat` (usage_usec/user_usec/system_usec) is
    /// always there: the v2 reader on the real kernel file must agree with
    /// the v1 `cpuacct` reading taken around it.
    @Test(.enabled(if: hostIsHybrid, "needs a hybrid cgroup host (v1 controllers plus a cgroup2 mount)"))
    func theV2ReaderAgreesWithV1OnARealContainer() throws {
        let docker = try DockerClient()
        let container = try Self.start(docker, suffix: "v2", image: "rdt4nn/spin", command: [], hostConfig: HostConfig(cpusetCpus: "0", memory: 32 << 20, networkMode: "none"))
        defer { Self.remove(docker, container) }
        usleep(300_000)
        let real = try CgroupFilesystem().locate(pid: container.pid)
        let unified = try #require(real.unifiedDirectory)
        let v1 = try CgroupStatsReader(location: real)
        let v2 = try CgroupStatsReader(location: CgroupLocation(mode: .unified, v1Directories: [:], unifiedDirectory: unified))
        let before = try #require(try v1.readCPU().usageNanoseconds)
        let viaV2 = try v2.readCPU()
        let after = try #require(try v1.readCPU().usageNanoseconds)
        let usage = try #require(viaV2.usageNanoseconds)
        // cpu.stat has µs resolution; allow one ms either side.
        #expect(before <= usage + 1_000_000 && usage <= after + 1_000_000, "v2 \(usage) ns not within v1 [\(before), \(after)]")
        // It ran (how much depends on what else the machine does; the bracket above is the real check).
        #expect(usage > 10_000_000, "a spinning container used \(usage) ns in 0.3 s")
        let user = try #require(viaV2.userNanoseconds)
        let system = try #require(viaV2.systemNanoseconds)
        #expect(user + system <= usage + 1_000_000 && user + system >= usage / 2, "user \(user) + system \(system) vs usage \(usage)")
    }

    @Test func aStoppedContainerIsRetryWithAClearMessage() throws {
        let docker = try DockerClient()
        let container = try Self.start(docker, suffix: "stop", image: "rdt4nn/spin", command: [], hostConfig: HostConfig(cpusetCpus: "0", memory: 32 << 20, nanoCpus: 100_000_000, networkMode: "none"))
        defer { Self.remove(docker, container) }
        let harness = try CollectorHarness(target: CollectorHarness.target(pid: container.pid, name: "spinner", id: container.id))
        try harness.instance.start()
        #expect(try harness.collect().count == 1)
        try docker.killContainer(container.id)
        _ = try docker.waitContainer(container.id)
        // runc removes the cgroup right after the process is reaped; allow it a moment.
        var failure: PluginCallError?
        for _ in 0..<50 {
            do {
                _ = try harness.collect()
                usleep(100_000)
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "collect kept succeeding after the container was killed")
        #expect(error.status == .retry)
        #expect(error.message.contains("container 'spinner' (pid \(container.pid)) is gone or stopped"), "\(error.message)")
        harness.instance.stop()
    }
}
