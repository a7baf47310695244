// dockerstats-bench: CPU time per container-sample of the dockerstats
// collector, side by side with the Docker API stats call it replaces.
//
// usage: dockerstats-bench --container ID --plugin PATH/librdt4nn-dockerstats.so
//                          [--samples N] [--api-calls N] [--cold-rounds N] [--socket PATH]
//
// Besides back-to-back calls (warm caches), it times reads made once per
// 50 ms, as in a 20 Hz run: between two ticks the CPU idles or runs other
// work, and each read finds the kernel's and our data cold.
//
// Prints a Markdown table.  Run it through bench/dockerstats_collect.sh,
// which builds it in release mode and starts the container.

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Cgroups
import HTTPClient
import PluginABI
import PluginHost
import Synchronization

struct Options {
    var container = ""
    var plugin = ""
    var samples = 20_000
    var apiCalls = 5
    var coldRounds = 100
    var socket = "/var/run/docker.sock"
}

func fail(_ message: String) -> Never {
    fputs("dockerstats-bench: \(message)\n", stderr)
    exit(2)
}

func parseOptions() -> Options {
    var options = Options()
    var arguments = CommandLine.arguments.dropFirst().makeIterator()
    while let argument = arguments.next() {
        func value() -> String {
            guard let next = arguments.next() else { fail("\(argument) needs a value") }
            return next
        }
        switch argument {
        case "--container": options.container = value()
        case "--plugin": options.plugin = value()
        case "--samples": options.samples = Int(value()) ?? 0
        case "--api-calls": options.apiCalls = Int(value()) ?? 0
        case "--cold-rounds": options.coldRounds = Int(value()) ?? 0
        case "--socket": options.socket = value()
        default: fail("unknown argument '\(argument)'")
        }
    }
    guard !options.container.isEmpty, !options.plugin.isEmpty, options.samples > 0, options.apiCalls > 0 else {
        fail("usage: dockerstats-bench --container ID --plugin PATH [--samples N] [--api-calls N] [--socket PATH]")
    }
    return options
}

/// CPU time of the calling thread, ns.
func threadCPUNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

func sleepNanoseconds(_ ns: Int64) {
    let until = monotonicNanoseconds() + ns
    var deadline = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
}

func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// CPU time of all threads of a process, ns: the sum of the first field of
/// /proc/<pid>/task/*/schedstat (ns resolution, unlike the USER_HZ ticks of
/// /proc/<pid>/stat).  Threads that exit between two readings are lost, so
/// the figure is a lower bound.
func processCPUNanoseconds(_ pid: Int32) -> Int64? {
    guard let directory = opendir("/proc/\(pid)/task") else { return nil }
    defer { closedir(directory) }
    var total: Int64 = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        guard Int32(name) != nil, let text = try? readText("/proc/\(pid)/task/\(name)/schedstat"),
            let first = text.split(separator: " ").first, let ns = Int64(first)
        else { continue }
        total += ns
    }
    return total
}

func readText(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BenchError.io(path) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

enum BenchError: Error { case io(String) }

/// Pids of the Docker daemon side: dockerd, containerd and the container's shim.
func daemonPids(containerID: String) -> [(String, Int32)] {
    var result: [(String, Int32)] = []
    guard let directory = opendir("/proc") else { return [] }
    defer { closedir(directory) }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        guard let pid = Int32(name), let comm = try? readText("/proc/\(pid)/comm") else { continue }
        let command = comm.trimmingCharacters()
        if command == "dockerd" || command == "containerd" {
            result.append((command, pid))
        } else if command.hasPrefix("containerd-shim"), let cmdline = try? readText("/proc/\(pid)/cmdline"), cmdline.contains(containerID) {
            result.append(("containerd-shim", pid))
        }
    }
    return result
}

extension String {
    func trimmingCharacters() -> String {
        String(self.drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}

func format(_ ns: Double) -> String {
    if ns >= 1_000_000 { return String(format1(ns / 1_000_000)) + " ms" }
    return String(format1(ns / 1000)) + " µs"
}

func format1(_ value: Double) -> String {
    let scaled = (value * 10).rounded() / 10
    return scaled == scaled.rounded() ? "\(Int(scaled)).0" : "\(scaled)"
}

func run() throws {
    let options = parseOptions()

    // Resolve the container: id and pid from the daemon (discovery only).
    let http: HTTPClient
    do {
        http = try HTTPClient(transport: .unixSocket(path: options.socket))
    } catch {
        fail("cannot reach the Docker socket \(options.socket): \(error)")
    }
    func get(_ path: String) -> HTTPResponse {
        do {
            return try http.send(HTTPRequest(path: path))
        } catch {
            fail("GET \(path): \(error)")
        }
    }
    let inspect = try JSONValue.parse(String(decoding: get("/containers/\(options.container)/json").body, as: UTF8.self))
    guard let containerID = inspect["Id"]?.stringValue, let pidValue = inspect["State"]?["Pid"]?.doubleValue, pidValue > 0 else {
        fail("container '\(options.container)' is not running")
    }
    let pid = Int32(pidValue)

    // 1. The Cgroups readers alone.
    let filesystem = CgroupFilesystem()
    let location = try filesystem.locate(pid: pid)
    let cgroup = try CgroupStatsReader(location: location)
    let network = try NetworkDeviceReader(pid: pid)
    let host = try HostStatReader()
    var sink: UInt64 = 0
    for _ in 0..<200 { sink &+= try cgroup.read().cpu.usageNanoseconds ?? 0 }  // warm up
    var cpuStart = threadCPUNanoseconds()
    var wallStart = monotonicNanoseconds()
    for _ in 0..<options.samples {
        let stats = try cgroup.read()
        let net = try network.read()
        let hostTime = try host.read()
        sink &+= (stats.cpu.usageNanoseconds ?? 0) &+ net.rxBytes &+ hostTime.totalNanoseconds
    }
    let readersCPU = Double(threadCPUNanoseconds() - cpuStart) / Double(options.samples)
    let readersWall = Double(monotonicNanoseconds() - wallStart) / Double(options.samples)

    // 1b. Each group of files read once per 50 ms (cold), CPU time per read.
    let coldGroups: [(name: String, read: () throws -> UInt64)] = [
        ("CPU (v1: cpuacct.usage, cpuacct.stat, cpu.stat; v2: cpu.stat)", { try cgroup.readCPU().usageNanoseconds ?? 0 }),
        ("memory (v1: memory.usage_in_bytes, .limit_in_bytes, .stat; v2: memory.current, .max, .stat, .swap.current)", { try cgroup.readMemory().usageBytes ?? 0 }),
        ("pids.current", { try cgroup.readPids(limit: false).current ?? 0 }),
        ("block I/O (v1: 2 blkio files; v2: io.stat)", { try cgroup.readBlockIO().readBytes ?? 0 }),
        ("/proc/PID/net/dev", { try network.read().rxBytes }),
        ("/proc/stat (once per tick for all containers)", { try host.read().totalNanoseconds }),
    ]
    var coldCPU = [Int64](repeating: 0, count: coldGroups.count)
    for _ in 0..<options.coldRounds {
        sleepNanoseconds(50_000_000)
        for (index, group) in coldGroups.enumerated() {
            let before = threadCPUNanoseconds()
            sink &+= try group.read()
            coldCPU[index] += threadCPUNanoseconds() - before
        }
    }
    cgroup.close()
    network.close()
    host.close()

    // 2. The plugin through the C ABI, emit included (the host copies the sample).
    let catalog = PluginLoader().load(files: [options.plugin])
    guard let descriptor = catalog.plugin(id: "dockerstats") else {
        fail("no dockerstats plugin in \(options.plugin): \(catalog.refusals.map(\.reason.description))")
    }
    let counter = SampleCounter()
    let instance = try CollectorInstance(
        descriptor: descriptor,
        instanceName: "bench",
        target: TargetInfo(kind: .container, index: 0, pid: pid, name: options.container, id: containerID, image: "", cpuset: ""),
        emit: { samples in
            counter.add(samples.count)
            return .ok
        },
        log: { record in fputs("[\(record.level)] \(record.message)\n", stderr) }
    )
    try instance.start()
    for _ in 0..<200 { try instance.collect(monotonicNs: monotonicNanoseconds(), realtimeNs: 0) }
    cpuStart = threadCPUNanoseconds()
    wallStart = monotonicNanoseconds()
    for _ in 0..<options.samples {
        try instance.collect(monotonicNs: monotonicNanoseconds(), realtimeNs: 1)
    }
    let pluginCPU = Double(threadCPUNanoseconds() - cpuStart) / Double(options.samples)
    let pluginWall = Double(monotonicNanoseconds() - wallStart) / Double(options.samples)
    // 2b. One collect per 50 ms, as in a 20 Hz run.
    var pluginColdCPU: Int64 = 0
    for round in 0..<options.coldRounds {
        sleepNanoseconds(50_000_000)
        let before = threadCPUNanoseconds()
        try instance.collect(monotonicNs: monotonicNanoseconds(), realtimeNs: Int64(2 + round))
        pluginColdCPU += threadCPUNanoseconds() - before
    }
    instance.stop()
    instance.destroy()
    guard counter.value == options.samples + 200 + options.coldRounds else {
        fail("expected \(options.samples + 200 + options.coldRounds) samples, got \(counter.value)")
    }

    // 3. The Docker API stats call, stream=false (what `docker stats --no-stream` does) and one-shot.
    let daemons = daemonPids(containerID: containerID)
    func measureAPI(_ query: String) -> (wall: Double, client: Double, daemon: Double) {
        _ = get("/containers/\(containerID)/stats?\(query)")  // warm up
        let daemonBefore = daemons.compactMap { processCPUNanoseconds($0.1) }.reduce(0, +)
        let clientBefore = threadCPUNanoseconds()
        let wallBefore = monotonicNanoseconds()
        for _ in 0..<options.apiCalls {
            let response = get("/containers/\(containerID)/stats?\(query)")
            guard response.status == 200 else { fail("stats call returned HTTP \(response.status)") }
        }
        let calls = Double(options.apiCalls)
        let wall = Double(monotonicNanoseconds() - wallBefore) / calls
        let client = Double(threadCPUNanoseconds() - clientBefore) / calls
        let daemon = Double(daemons.compactMap { processCPUNanoseconds($0.1) }.reduce(0, +) - daemonBefore) / calls
        return (wall, client, daemon)
    }
    let streamFalse = measureAPI("stream=false")
    let oneShot = measureAPI("stream=false&one-shot=true")

    print("""
        | method (container \(String(containerID.prefix(12))), cgroup \(location.mode)) | calls | wall per sample | CPU per sample (caller) | CPU per sample (dockerd+containerd+shim) |
        |---|---:|---:|---:|---:|
        | Cgroups readers (cgroup files + net/dev + /proc/stat) | \(options.samples) | \(format(readersWall)) | \(format(readersCPU)) | 0 |
        | dockerstats plugin collect via the C ABI (incl. emit) | \(options.samples) | \(format(pluginWall)) | \(format(pluginCPU)) | 0 |
        | Docker API `GET /containers/{id}/stats?stream=false` | \(options.apiCalls) | \(format(streamFalse.wall)) | \(format(streamFalse.client)) | \(format(streamFalse.daemon)) |
        | Docker API `…?stream=false&one-shot=true` | \(options.apiCalls) | \(format(oneShot.wall)) | \(format(oneShot.client)) | \(format(oneShot.daemon)) |
        """)
    guard options.coldRounds > 0 else { return }
    let rounds = Double(options.coldRounds)
    print("""

        One call per 50 ms, as in a 20 Hz run (cold caches), CPU time per call, \(options.coldRounds) calls each:

        | call | CPU per call, back to back | CPU per call, one per 50 ms |
        |---|---:|---:|
        | dockerstats plugin collect via the C ABI (incl. emit) | \(format(pluginCPU)) | \(format(Double(pluginColdCPU) / rounds)) |
        """)
    for (index, group) in coldGroups.enumerated() {
        print("| reader: \(group.name) | | \(format(Double(coldCPU[index]) / rounds)) |")
    }
    if sink == 42 { print("") }  // keep the reads observable
}

do {
    try run()
} catch {
    fail("\(error)")
}

/// Counts emitted samples across the emit callback.
final class SampleCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ n: Int) { count.add(n, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
