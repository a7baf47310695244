import Foundation
import PluginABI
import PluginHost
import Resctrl
import ResctrlTestSupport
import Testing

/// The resctrl collector loaded from the built `librdt4nn-resctrl.so`, driven
/// through the real plugin host, with a real multi-threaded process in its
/// own cgroup as the container and a fake resctrl tree as the root.
@Suite(.serialized)
struct ResctrlPluginTests {
    static func instance(_ tree: FakeResctrlTree, pid: Int32, name: String = "web", config extra: [(String, JSONValue)] = [], recorder: Recorder) throws -> CollectorInstance {
        let target = TargetInfo(kind: .container, index: 0, pid: pid, name: name, id: "", image: "", cpuset: "")
        let config = JSONValue.object([("root", .string(tree.root))] + extra)
        return try CollectorInstance(descriptor: try Support.descriptor(), instanceName: name, config: config, target: target, emit: recorder.emit, log: recorder.log)
    }

    static func collect(_ instance: CollectorInstance, windowEnd: Int64? = nil) throws {
        try instance.collect(monotonicNs: windowEnd ?? Support.monotonicNs(), realtimeNs: HostClock.realtimeNanoseconds())
    }

    static func expectConforming(_ samples: [PluginSample], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let schema = try #require(try Support.descriptor().metricsSchema)
        for sample in samples { #expect(schema.problems(with: sample) == [], sourceLocation: sourceLocation) }
    }

    @Test("unsupported on this machine's /sys/fs/resctrl: start says why, no samples")
    func unsupportedOnRealRoot() throws {
        let recorder = Recorder()
        let target = TargetInfo(kind: .container, index: 0, pid: getpid(), name: "self", id: "", image: "", cpuset: "")
        let instance = try CollectorInstance(descriptor: try Support.descriptor(), instanceName: "real", target: target, emit: recorder.emit, log: recorder.log)
        defer { instance.destroy() }
        #expect {
            try instance.start()
        } throws: { error in
            guard let error = error as? PluginCallError else { return false }
            return error.status == .unsupported
                && error.message == "resctrl is not mounted at /sys/fs/resctrl (mount -t resctrl resctrl /sys/fs/resctrl) or the CPU has no RDT monitoring"
        }
        #expect(recorder.samples.isEmpty)
    }

    @Test("Intel 2-socket: group per container, every thread written, per-domain values, bandwidth over real time, Unavailable, reset, removal")
    func intelLifecycle() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let child = try ThreadedChild(threads: 3)
        defer { child.stop() }
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, config: [("sync_interval_ms", .integer(0))], recorder: recorder)
        defer { instance.destroy() }
        try instance.start()
        let groupName = "rdt4nn-web-pid\(child.pid)"
        let group = "mon_groups/" + groupName
        #expect(tree.exists(group), "the monitoring group is created in the root group's mon_groups/")
        #expect(recorder.logs.contains { $0.message.contains("the container's cgroup (\(child.cgroupDirectory)/tasks)") }, "\(recorder.logs.map(\.message))")
        // The "kernel" populates the new group; the first collect writes the threads.
        #expect(try tree.kernelStep() == [group])
        let firstCollect = Support.monotonicNs()
        try Self.collect(instance)
        let threads = Support.threadIDs(of: child.pid)
        #expect(threads.count == 4)
        #expect(try tree.tasks(group).sorted() == threads, "every thread of the container, one per line")
        let first = recorder.samples
        let rdt = try #require(first.first { $0.measurement == "rdt" })
        #expect(rdt.number("llc_occupancy_bytes") == 0)
        #expect(rdt.number("monitored_threads") == 4)
        #expect(!rdt.has("mbm_total_bytes_per_second"), "no rate before two reads")
        #expect(first.filter { $0.measurement == "rdt_domain" }.compactMap { $0.tag("domain") } == ["0", "1"])

        // Counters move; the window the host passes is deliberately wrong: the
        // rate must come from the real time between the two reads.
        try tree.setCounters(group, domain: 0, occupancy: "1048576", total: "300000000", local: "100000000")
        try tree.setCounters(group, domain: 1, occupancy: "524288", total: "50000000", local: "50000000")
        let before = Support.monotonicNs()
        Support.sleep(milliseconds: 100)
        var count = recorder.samples.count
        let start = Support.monotonicNs()
        try Self.collect(instance, windowEnd: start + 5_000_000_000)
        let end = Support.monotonicNs()
        var samples = recorder.samples(from: count)
        let summed = try #require(samples.first { $0.measurement == "rdt" })
        #expect(summed.number("llc_occupancy_bytes") == 1_572_864)
        let domain0 = try #require(samples.first { $0.tag("domain") == "0" })
        let rate0 = try #require(domain0.number("mbm_total_bytes_per_second"))
        // The previous read happened between firstCollect and before; this one between start and end.
        let longest = Double(end - firstCollect) / 1e9
        let shortest = Double(start - before) / 1e9
        #expect(rate0 >= 300_000_000 / longest && rate0 <= 300_000_000 / shortest, "rate \(rate0) outside the real-time bounds")
        #expect(rate0 > 300_000_000 / 1.0, "a 5 s window would give 60 MB/s; the real time is ≈0.1 s")
        let local0 = try #require(domain0.number("mbm_local_bytes_per_second"))
        #expect(abs(try #require(domain0.number("mbm_remote_bytes_per_second")) - (rate0 - local0)) < 1e-6 * rate0)
        let rate1 = try #require(samples.first { $0.tag("domain") == "1" }?.number("mbm_total_bytes_per_second"))
        #expect(abs(try #require(summed.number("mbm_total_bytes_per_second")) - (rate0 + rate1)) < 1e-9 * (rate0 + rate1))
        try Self.expectConforming(recorder.samples)

        // New threads are picked up by the next sync.
        try child.addThreads()
        try Self.collect(instance)
        #expect(try tree.tasks(group).sorted() == Support.threadIDs(of: child.pid))
        #expect(recorder.samples.last { $0.measurement == "rdt" }?.number("monitored_threads") == 6)

        // Unavailable on domain 1: that domain's field is absent, and so is the sum.
        try tree.setCounters(group, domain: 0, total: "400000000", local: "150000000")
        try tree.setCounters(group, domain: 1, total: "Unavailable")
        count = recorder.samples.count
        try Self.collect(instance)
        samples = recorder.samples(from: count)
        #expect(samples.first { $0.tag("domain") == "0" }?.has("mbm_total_bytes_per_second") == true)
        #expect(samples.first { $0.tag("domain") == "1" }?.has("mbm_total_bytes_per_second") == false)
        #expect(samples.first { $0.tag("domain") == "1" }?.has("mbm_local_bytes_per_second") == true)
        #expect(samples.first { $0.measurement == "rdt" }?.has("mbm_total_bytes_per_second") == false)
        #expect(samples.first { $0.measurement == "rdt" }?.has("mbm_local_bytes_per_second") == true)
        #expect(!samples.contains { sample in sample.fields.contains { $0.value == .float(0) && $0.key == "mbm_total_bytes_per_second" } })

        // A counter that goes down is a reset: that interval is dropped, never a wrap.
        try tree.setCounters(group, domain: 0, total: "1000")
        count = recorder.samples.count
        try Self.collect(instance)
        samples = recorder.samples(from: count)
        #expect(samples.first { $0.tag("domain") == "0" }?.has("mbm_total_bytes_per_second") == false)
        #expect(recorder.logs.contains { $0.message.contains("went down (counter reset") })
        try tree.setCounters(group, domain: 0, total: "2001000")
        count = recorder.samples.count
        try Self.collect(instance)
        let recovered = try #require(recorder.samples(from: count).first { $0.tag("domain") == "0" }?.number("mbm_total_bytes_per_second"))
        #expect(recovered > 0 && recovered < 2_000_000 / 0.0001)

        instance.stop()
        #expect(!tree.exists(group), "the group is removed on stop")
        #expect(instance.context.violations.isEmpty)
    }

    @Test("AMD with 12 CCX domains: one rdt_domain sample per domain, sums over all")
    func amdDomains() throws {
        let tree = try Support.fakeTree(.amd(domains: 12))
        defer { Support.remove(tree) }
        let child = try ThreadedChild(threads: 1)
        defer { child.stop() }
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, name: "amd", recorder: recorder)
        defer { instance.destroy() }
        try instance.start()
        let group = "mon_groups/rdt4nn-amd-pid\(child.pid)"
        try tree.kernelStep()
        try Self.collect(instance)
        for domain in 0..<12 { try tree.setCounters(group, domain: domain, occupancy: "\(domain * 65536)", total: "\(domain * 1_000_000)", local: "0") }
        let count = recorder.samples.count
        try Self.collect(instance)
        let samples = recorder.samples(from: count)
        let domains = samples.filter { $0.measurement == "rdt_domain" }
        #expect(domains.compactMap { $0.tag("domain") } == (0..<12).map(String.init))
        #expect(samples.first { $0.measurement == "rdt" }?.number("llc_occupancy_bytes") == Double((0..<12).reduce(0, +) * 65536))
        let sum = domains.compactMap { $0.number("mbm_total_bytes_per_second") }.reduce(0, +)
        #expect(abs((samples.first { $0.measurement == "rdt" }?.number("mbm_total_bytes_per_second") ?? -1) - sum) < 1e-6 * sum)
        try Self.expectConforming(samples)
        instance.stop()
        #expect(!tree.exists(group))
    }

    @Test("SNC: per-L3 values are the node sums; nothing is counted twice")
    func sncDomains() throws {
        let tree = try Support.fakeTree(.snc2)
        defer { Support.remove(tree) }
        let child = try ThreadedChild(threads: 1)
        defer { child.stop() }
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, name: "snc", recorder: recorder)
        defer { instance.destroy() }
        try instance.start()
        let group = "mon_groups/rdt4nn-snc-pid\(child.pid)"
        try tree.kernelStep()
        try tree.setNodeCounters(group, domain: 0, node: 0, occupancy: 100, total: 0, local: 0)
        try tree.setNodeCounters(group, domain: 0, node: 1, occupancy: 200, total: 0, local: 0)
        try tree.setNodeCounters(group, domain: 1, node: 3, occupancy: 400, total: 0, local: 0)
        let count = recorder.samples.count
        try Self.collect(instance)
        let samples = recorder.samples(from: count)
        #expect(samples.first { $0.measurement == "rdt" }?.number("llc_occupancy_bytes") == 700)
        #expect(samples.filter { $0.measurement == "rdt_domain" }.compactMap { $0.number("llc_occupancy_bytes") } == [300, 400])
    }

    @Test("the group goes under the container's CTRL_MON group; a leftover of the same name is replaced")
    func underControlGroupAndLeftover() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let child = try ThreadedChild(threads: 2)
        defer { child.stop() }
        // A scheduler gave the container its own CTRL_MON group.
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let control = try filesystem.createControlGroup("rdt4nn-sched-web")
        try tree.kernelStep()
        _ = try filesystem.assign(Support.threadIDs(of: child.pid), to: control)
        // A crashed run left a group of the same name behind.
        let name = "rdt4nn-web-pid\(child.pid)"
        _ = try filesystem.createMonitorGroup(name, in: control)
        try tree.kernelStep()
        try tree.put("rdt4nn-sched-web/mon_groups/\(name)/tasks", "999999\n")
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, recorder: recorder)
        defer { instance.destroy() }
        try instance.start()
        #expect(recorder.logs.contains { $0.message.contains("removing leftover monitoring group") })
        let group = "rdt4nn-sched-web/mon_groups/\(name)"
        #expect(tree.exists(group))
        #expect(!tree.exists("mon_groups/\(name)"))
        try tree.kernelStep()
        try Self.collect(instance)
        #expect(try tree.tasks(group).sorted() == Support.threadIDs(of: child.pid), "the leftover's tasks are gone with it")
        instance.stop()
        #expect(!tree.exists(group))
        #expect(tree.exists("rdt4nn-sched-web"), "the scheduler's group is not ours to remove")
    }

    @Test("ENOSPC: out of RMIDs makes start return RETRY with the count in use")
    func outOfRMIDs() throws {
        let tmpfs = try TinyTmpfs(inodes: 400)
        defer { tmpfs.unmount() }
        let tree = try FakeResctrlTree(root: tmpfs.mountPoint + "/resctrl", profile: .intel2Socket)
        defer { tree.destroy() }
        try FileManager.default.createDirectory(atPath: tmpfs.mountPoint + "/filler", withIntermediateDirectories: false)
        let child = try ThreadedChild(threads: 1)
        defer { child.stop() }
        tmpfs.exhaust(in: tmpfs.mountPoint + "/filler")
        try tree.put("info/last_cmd_status", "Out of RMIDs\n")
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, recorder: recorder)
        defer { instance.destroy() }
        #expect {
            try instance.start()
        } throws: { error in
            guard let error = error as? PluginCallError else { return false }
            return error.status == .retry && error.message.contains("out of RMIDs: 1 group(s) in use of 224; kernel: 'Out of RMIDs'")
        }
    }

    @Test("leftovers of a crashed run (no stop) are found and removed by prefix")
    func crashLeftovers() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let child = try ThreadedChild(threads: 1)
        defer { child.stop() }
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, config: [("group_prefix", .string("rdt4nn-bench42"))], recorder: recorder)
        try instance.start()
        try tree.kernelStep()
        try Self.collect(instance)
        // Crash: the instance is never stopped.
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let leftovers = try filesystem.leftoverGroups(prefix: "rdt4nn-")
        #expect(leftovers == [ResctrlGroup(controlGroup: nil, monitorGroup: "rdt4nn-bench42-web-pid\(child.pid)")])
        #expect(try filesystem.removeLeftovers(prefix: "rdt4nn-").allSatisfy { $0.error == nil })
        #expect(!tree.exists("mon_groups/rdt4nn-bench42-web-pid\(child.pid)"))
        instance.stop()
        instance.destroy()
    }

    /// This thread's id, from the /proc/thread-self link (`<pid>/task/<tid>`).
    static func currentThreadID() throws -> Int32 {
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")
        return try #require(link.split(separator: "/").last.flatMap { Int32($0) })
    }

    @Test("one TID per write(2), seen by strace")
    func oneTIDPerWrite() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "strace is needed to observe write(2) calls")
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let child = try ThreadedChild(threads: 5)
        defer { child.stop() }
        let recorder = Recorder()
        let instance = try Self.instance(tree, pid: child.pid, recorder: recorder)
        defer { instance.destroy() }
        try instance.start()
        try tree.kernelStep()
        // Trace this thread's writes while the first collect (on this thread) syncs the threads.
        let log = tree.root + "/../strace.log"
        let strace = Process()
        strace.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        strace.arguments = ["-qq", "-e", "trace=write", "-e", "signal=none", "-y", "-o", log, "-p", String(try Self.currentThreadID())]
        let errors = Pipe()
        strace.standardError = errors
        try strace.run()
        // strace reports nothing when attached with -qq: wait until it traces a marker write.
        let marker = tree.root + "/../marker"
        let attached = Support.wait(seconds: 10) {
            let fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = write(fd, "m", 1)
            close(fd)
            return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("marker")
        }
        try Self.collect(instance)
        // strace inherits a signal mask that blocks SIGINT/SIGTERM here; once the
        // writes are in its log, SIGKILL it (the kernel detaches this thread).
        let tasksPath = "/rdt4nn-web-pid\(child.pid)/tasks>"
        let expected = Support.threadIDs(of: child.pid).count
        _ = Support.wait(seconds: 5) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: tasksPath).count - 1 >= expected
        }
        kill(strace.processIdentifier, SIGKILL)
        strace.waitUntilExit()
        defer { unlink(log); unlink(marker) }
        try #require(attached, "strace did not attach")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let writes = text.split(separator: "\n").filter { $0.contains(tasksPath) }
        let threads = Support.threadIDs(of: child.pid)
        #expect(writes.count == threads.count, "\(writes)")
        for tid in threads {
            #expect(writes.contains { $0.contains("\"\(tid)\\n\", \(String(tid).count + 1))") }, "no single write of \(tid)")
        }
    }
}
