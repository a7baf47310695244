import Foundation
import PluginABI
import PluginHost
import Testing

/// The `default` scheduler plugin on a fixture sysfs: 2 sockets x 2 cores x 2 threads.
@Suite struct DefaultSchedulerTests {
    /// Builds /devices/system/cpu for CPUs 0-7: cpuN is socket N/4, core (N/2)%2... with
    /// Linux-style numbering where siblings are N and N+4 (as on most Intel machines).
    static func makeSysfs(online: String = "0-7") throws -> String {
        let root = try TestSupport.makeTemporaryDirectory()
        let base = root + "/devices/system/cpu"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        try (online + "\n").write(toFile: base + "/online", atomically: true, encoding: .utf8)
        for cpu in 0..<8 {
            let physical = cpu % 4  // cpu and cpu+4 are hyperthread siblings
            let dir = base + "/cpu\(cpu)/topology"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "\(physical / 2)\n".write(toFile: dir + "/physical_package_id", atomically: true, encoding: .utf8)
            try "\(physical % 2)\n".write(toFile: dir + "/core_id", atomically: true, encoding: .utf8)
        }
        return root
    }

    func makeScheduler(_ config: JSONValue) throws -> SchedulerInstance {
        let plugin = try #require(PluginLoader().load(files: [try TestSupport.product("rdt4nn-scheduler-default")]).plugin(id: "default"))
        let scheduler = try SchedulerInstance(descriptor: plugin, config: config, log: { _ in })
        try scheduler.start()
        return scheduler
    }

    func container(_ name: String, cpuset: String = "", cpus: Int32 = 1) -> TargetInfo {
        TargetInfo(kind: .container, index: 0, pid: 0, name: name, id: "", image: "rdt4nn/spin", cpuset: cpuset, cpusRequested: cpus)
    }

    @Test func unpinnedContainersGetWholeIdleCoresFirstThenSiblings() throws {
        let scheduler = try makeScheduler(.object([("sysfs_root", .string(try Self.makeSysfs()))]))
        defer { scheduler.destroy() }
        // Four physical cores: 0/4, 1/5 on socket 0; 2/6, 3/7 on socket 1.
        #expect(try scheduler.admit(container("a")).cpuset == "0")
        #expect(try scheduler.admit(container("b")).cpuset == "1")
        #expect(try scheduler.admit(container("c", cpus: 2)).cpuset == "2-3")
        // Every core has a busy thread now: siblings come next.
        #expect(try scheduler.admit(container("d")).cpuset == "4")
    }

    @Test func exhaustionIsARetryWithAReasonNeverCPUZero() throws {
        let scheduler = try makeScheduler(.object([("sysfs_root", .string(try Self.makeSysfs())), ("cpus", .string("2-3"))]))
        defer { scheduler.destroy() }
        #expect(try scheduler.admit(container("a")).cpuset == "2")
        #expect(try scheduler.admit(container("b")).cpuset == "3")
        do {
            _ = try scheduler.admit(container("c"))
            Issue.record("expected RETRY")
        } catch {
            #expect(error.status == .retry)
            #expect(error.message == "no 1 free CPU(s) for container 'c': 2-3 in use of 2-3")
        }
        scheduler.release(container("a"))
        #expect(try scheduler.admit(container("c")).cpuset == "2")
    }

    @Test func configuredCpusetsAreHonouredAndCheckedAgainstOthers() throws {
        let scheduler = try makeScheduler(.object([("sysfs_root", .string(try Self.makeSysfs()))]))
        defer { scheduler.destroy() }
        #expect(try scheduler.admit(container("victim", cpuset: "0,4")).cpuset == "0,4")
        #expect(try scheduler.admit(container("free")).cpuset == "1")
        do {
            _ = try scheduler.admit(container("neighbour", cpuset: "4-5"))
            Issue.record("expected RETRY")
        } catch {
            #expect(error.status == .retry)
            #expect(error.message == "container 'neighbour' wants CPU 4-5 held by victim; set allow_shared_cores to share")
        }
        do {
            _ = try scheduler.admit(container("ghost", cpuset: "9"))
            Issue.record("expected CONFIG")
        } catch {
            #expect(error.status == .config)
            #expect(error.message == "container 'ghost' is pinned to CPU 9, which is not online (online: 0-7)")
        }
    }

    @Test func sharingCanBeAllowed() throws {
        let scheduler = try makeScheduler(.object([("sysfs_root", .string(try Self.makeSysfs())), ("allow_shared_cores", .bool(true))]))
        defer { scheduler.destroy() }
        #expect(try scheduler.admit(container("a", cpuset: "1")).cpuset == "1")
        #expect(try scheduler.admit(container("b", cpuset: "1")).cpuset == "1")
    }

    @Test func aPoolWithOfflineCPUsIsAConfigError() throws {
        let plugin = try #require(PluginLoader().load(files: [try TestSupport.product("rdt4nn-scheduler-default")]).plugin(id: "default"))
        let scheduler = try SchedulerInstance(
            descriptor: plugin,
            config: .object([("sysfs_root", .string(try Self.makeSysfs(online: "0-3"))), ("cpus", .string("2-5"))]),
            log: { _ in }
        )
        defer { scheduler.destroy() }
        #expect {
            try scheduler.start()
        } throws: { error in
            (error as? PluginCallError)?.message == "'cpus' names CPUs that are not online: 4-5 (online: 0-3)"
        }
    }

    @Test func theRealMachineHasAtLeastOneCPU() throws {
        let scheduler = try makeScheduler(.object([]))
        defer { scheduler.destroy() }
        let placement = try scheduler.admit(container("x"))
        #expect(!placement.cpuset.isEmpty)
    }
}
