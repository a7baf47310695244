// resctrl-bench: CPU time per container-sample of the resctrl collector
// against a fake resctrl tree (this machine has no RDT).
//
// usage: resctrl-bench --plugin PATH/librdt4nn-resctrl.so [--samples N] [--dir DIR]
//
// The "container" is a `sleep` process with 4 threads' worth of siblings in
// a pids cgroup of its own (the collector reads the cgroup's `tasks`, as for
// a Docker container).  Prints a Markdown table.  Run it through
// bench/resctrl_collect.sh, which builds it in release mode.

#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import PluginABI
import PluginHost
import Resctrl
import ResctrlTestSupport

struct Options {
    var plugin = ""
    var samples = 20_000
    var directory = "/tmp"
}

func fail(_ message: String) -> Never {
    fputs("resctrl-bench: \(message)\n", stderr)
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
        case "--plugin": options.plugin = value()
        case "--samples": options.samples = Int(value()) ?? 0
        case "--dir": options.directory = value()
        default: fail("unknown argument '\(argument)'")
        }
    }
    guard !options.plugin.isEmpty, options.samples > 0 else {
        fail("usage: resctrl-bench --plugin PATH [--samples N] [--dir DIR]")
    }
    return options
}

/// CPU time of the calling thread, ns.
func threadCPUNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Processes in one pids cgroup: the benchmark's stand-in for a container.
final class Workload {
    let pids: [Int32]
    let cgroup: String

    init(processes: Int) {
        cgroup = "/sys/fs/cgroup/pids/rdt4nn-resctrl-bench-\(getpid())"
        guard mkdir(cgroup, 0o755) == 0 else { fail("mkdir \(cgroup): \(String(cString: strerror(errno)))") }
        var started: [Int32] = []
        for _ in 0..<processes {
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("3600"), nil]
            defer { for arg in argv { free(arg) } }
            guard posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ) == 0 else { fail("cannot start /bin/sleep") }
            started.append(pid)
            let fd = open(cgroup + "/cgroup.procs", O_WRONLY)
            let text = "\(pid)\n"
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        pids = started
    }

    func stop() {
        for pid in pids {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        rmdir(cgroup)
    }
}

struct Row {
    var label: String
    var samples: Int
    var wallNs: Int64
    var cpuNs: Int64
}

let options = parseOptions()
let catalog = PluginLoader().load(files: [options.plugin])
guard let descriptor = catalog.plugin(id: "resctrl") else { fail("\(options.plugin) has no 'resctrl' plugin: \(catalog.refusals)") }
let workload = Workload(processes: 4)
defer { workload.stop() }
var rows: [Row] = []

for (profile, label) in [(FakeResctrlTree.Profile.intel2Socket, "Intel 2-socket (2 L3 domains)"), (.amd(domains: 12), "AMD (12 L3 domains)")] {
    let base = options.directory + "/rdt4nn-resctrl-bench-\(getpid())"
    let tree: FakeResctrlTree
    do {
        tree = try FakeResctrlTree(root: base + "/resctrl", profile: profile)
    } catch {
        fail("\(error)")
    }
    defer {
        tree.destroy()
        rmdir(base)
    }

    // (1) The library alone: read every domain + bandwidth deltas.
    do {
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let reader = try MonitorReader(filesystem: filesystem, group: .root, events: MonitorEvent.allCases)
        var tracker = BandwidthTracker()
        var sink = 0.0
        let wall0 = HostClock.monotonicNanoseconds()
        let cpu0 = threadCPUNanoseconds()
        for _ in 0..<options.samples {
            let interval = tracker.update(try reader.read())
            sink += interval.totalBytesPerSecond ?? 0
        }
        rows.append(Row(label: "\(label): library `MonitorReader.read` + `BandwidthTracker` (fds kept open, pread)", samples: options.samples, wallNs: HostClock.monotonicNanoseconds() - wall0, cpuNs: threadCPUNanoseconds() - cpu0))
        reader.close()
        if sink < 0 { print(sink) }
    } catch {
        fail("\(error)")
    }

    // (2) The plugin through the C ABI, thread re-sync every 100 ms (default) and every sample.
    for syncMs in [100, 0] {
        let target = TargetInfo(kind: .container, index: 0, pid: workload.pids[0], name: "bench", id: "", image: "", cpuset: "")
        let config = JSONValue.object([("root", .string(tree.root)), ("sync_interval_ms", .integer(Int64(syncMs)))])
        do {
            let instance = try CollectorInstance(descriptor: descriptor, instanceName: "bench", config: config, target: target, emit: { _ in .ok }, log: { _ in })
            try instance.start()
            try tree.kernelStep()
            try instance.collect(monotonicNs: HostClock.monotonicNanoseconds(), realtimeNs: HostClock.realtimeNanoseconds())
            let wall0 = HostClock.monotonicNanoseconds()
            let cpu0 = threadCPUNanoseconds()
            for _ in 0..<options.samples {
                try instance.collect(monotonicNs: HostClock.monotonicNanoseconds(), realtimeNs: HostClock.realtimeNanoseconds())
            }
            let wall = HostClock.monotonicNanoseconds() - wall0
            let cpu = threadCPUNanoseconds() - cpu0
            instance.stop()
            instance.destroy()
            let what = syncMs == 0 ? "thread re-sync on every sample (reads cgroup `tasks` + group `tasks`)" : "thread re-sync every 100 ms (default)"
            rows.append(Row(label: "\(label): plugin `collect` through the C ABI, \(what), incl. emit of rdt + rdt_domain", samples: options.samples, wallNs: wall, cpuNs: cpu))
        } catch {
            fail("\(error)")
        }
    }
}

print("| method | samples | wall per sample | CPU per sample |")
print("|---|---:|---:|---:|")
for row in rows {
    let wall = Double(row.wallNs) / Double(row.samples) / 1000
    let cpu = Double(row.cpuNs) / Double(row.samples) / 1000
    print("| \(row.label) | \(row.samples) | \(String(format1(wall))) µs | \(String(format1(cpu))) µs |")
}

func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}
