import Cgroups
import DockerEngine
import Foundation
import HTTPClient
import PluginABI
import PluginHost
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

    /// Two CPU % figures agree within sampling noise: 5 points, or 10 % of the larger.
    static func close(_ a: Double, _ b: Double) -> Bool {
        abs(a - b) <= max(5, 0.1 * max(a, b))
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
        defer { try? docker.removeContainer(container.id, force: true) }
        usleep(1_000_000)  // let the workload allocate and the daemon's collector see it

        let harness = try CollectorHarness(target: CollectorHarness.target(pid: container.pid, name: container.name, id: container.id))
        try harness.instance.start()
        let schema = try #require(harness.descriptor.metricsSchema)

        // 1. docker stats --no-stream, bracketed by two collections.
        let before = try #require(try harness.collect().first)
        let cli = try Self.dockerCLIStats(container.id)
        let after = try #require(try harness.collect().first)
        for sample in [before, after] { #expect(schema.problems(with: sample).isEmpty, "\(schema.problems(with: sample))") }

        let ourCPU = try #require(after.float("cpu_percent"))
        let cliCPU = try Self.percent(cli["CPUPerc"])
        #expect(Self.close(ourCPU, cliCPU), "cpu_percent \(ourCPU) vs docker stats \(cliCPU)")
        let wall = try #require(after.float("cpu_wall_percent"))
        #expect(Self.close(wall, ourCPU), "cpu_wall_percent \(wall) vs cpu_percent \(ourCPU)")

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

        // 2. The stats API, bracketed the same way: cumulative counters must lie between our two readings.
        let first = try #require(try harness.collect().first)
        let api = try Self.apiStats(container.id)
        let second = try #require(try harness.collect().first)
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
        if hostConfig.nanoCpus != nil {
            #expect((second.integer("cpu_throttled_periods") ?? 0) > (first.integer("cpu_throttled_periods") ?? 0), "a half-CPU spin is throttled")
        }

        // docker CLI formula on the API's own two readings vs ours over the bracketing window.
        let precpu = api["precpu_stats"]
        let cpuDelta = try #require(cpuStats?["cpu_usage"]?["total_usage"]?.doubleValue) - (try #require(precpu?["cpu_usage"]?["total_usage"]?.doubleValue))
        let systemDelta = try #require(cpuStats?["system_cpu_usage"]?.doubleValue) - (try #require(precpu?["system_cpu_usage"]?.doubleValue))
        let onlineCPUs = try #require(cpuStats?["online_cpus"]?.doubleValue)
        let apiCPU = cpuDelta / systemDelta * onlineCPUs * 100
        let ours = try #require(second.float("cpu_percent"))
        #expect(Self.close(ours, apiCPU), "cpu_percent \(ours) vs API \(apiCPU)")

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
        defer { try? docker.removeContainer(container.id, force: true) }
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
        #expect(usage > 100_000_000, "a spinning container used \(usage) ns in 0.3 s")
        let user = try #require(viaV2.userNanoseconds)
        let system = try #require(viaV2.systemNanoseconds)
        #expect(user + system <= usage + 1_000_000 && user + system >= usage / 2, "user \(user) + system \(system) vs usage \(usage)")
    }

    @Test func aStoppedContainerIsRetryWithAClearMessage() throws {
        let docker = try DockerClient()
        let container = try Self.start(docker, suffix: "stop", image: "rdt4nn/spin", command: [], hostConfig: HostConfig(cpusetCpus: "0", memory: 32 << 20, nanoCpus: 100_000_000, networkMode: "none"))
        defer { try? docker.removeContainer(container.id, force: true) }
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
