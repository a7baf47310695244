import Cgroups
import Foundation
import PluginHost
import Testing

/// The Cgroups module against hand-written fixture trees (exact values).
@Suite struct CgroupsTests {
    // MARK: Parsing

    @Test func procCgroupParsesV1HybridAndV2Lines() throws {
        let membership = try ProcCgroup(parsing: "4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/a:b\n")
        #expect(membership.entries.count == 3)
        #expect(membership.v1Path(controller: "cpuacct") == "/docker/abc")
        #expect(membership.v1Path(controller: "name=systemd") == "/docker/abc")
        #expect(membership.v1Path(controller: "memory") == nil)
        #expect(membership.unifiedPath == "/docker/a:b")
        #expect(try ProcCgroup(parsing: "0::/\n").v1Path(controller: "cpu") == nil)
    }

    @Test func procCgroupRejectsMalformedLines() {
        #expect(throws: CgroupError.malformed(path: "x", detail: "line 'garbage' is not 'N:controllers:/path'")) {
            try ProcCgroup(parsing: "garbage\n", path: "x")
        }
        #expect(throws: CgroupError.malformed(path: "x", detail: "the file is empty")) { try ProcCgroup(parsing: "", path: "x") }
    }

    @Test func mountinfoKeepsCgroupMountsAndDecodesEscapes() throws {
        let text = """
            25 21 0:23 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
            26 25 0:24 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate
            30 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw shared:14 master:3 - cgroup cgroup rw,cpu,cpuacct
            31 25 0:29 /docker /mnt/my\\040cgroups rw - cgroup cgroup rw,memory

            """
        let mounts = try CgroupMounts(parsingMountinfo: text)
        #expect(mounts.mounts.count == 3)
        #expect(mounts.mode == .hybrid)
        #expect(mounts.unifiedMount?.mountPoint == "/sys/fs/cgroup/unified")
        #expect(mounts.v1Mount(for: "cpuacct")?.mountPoint == "/sys/fs/cgroup/cpu,cpuacct")
        let memory = try #require(mounts.v1Mount(for: "memory"))
        #expect(memory.mountPoint == "/mnt/my cgroups")
        #expect(memory.root == "/docker")
        // A mount of a sub-tree: paths are relative to its root.
        #expect(memory.directory(of: "/docker/abc") == "/mnt/my cgroups/abc")
        #expect(memory.directory(of: "/docker") == "/mnt/my cgroups")
        #expect(memory.directory(of: "/other/abc") == nil)
        #expect(try CgroupMounts(parsingMountinfo: "1 0 0:1 / / rw - ext4 /dev/sda rw\n").mode == nil)
        #expect(try CgroupMounts(parsingMountinfo: "1 0 0:1 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n").mode == .unified)
        #expect(try CgroupMounts(parsingMountinfo: "1 0 0:1 / /c/memory rw - cgroup cgroup rw,memory\n").mode == .v1)
    }

    @Test func theHostMountTableHasAMode() throws {
        // The real /proc/self/mountinfo of this machine parses and names a mode.
        let mode = try CgroupFilesystem().mode()
        let statfsUnified = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        #expect((mode == .unified) == statfsUnified, "mountinfo says \(mode), cgroup.controllers at the root: \(statfsUnified)")
    }

    // MARK: Fixture v1 (hybrid)

    private var v1: CgroupFilesystem {
        CgroupFilesystem(procRoot: TestSupport.fixtures + "/v1/proc", cgroupRoot: TestSupport.fixtures + "/v1/sys/fs/cgroup")
    }

    private var v2: CgroupFilesystem {
        CgroupFilesystem(procRoot: TestSupport.fixtures + "/v2/proc", cgroupRoot: TestSupport.fixtures + "/v2/sys/fs/cgroup/")
    }

    @Test func locatesV1DirectoriesFromMountinfoUnderTheRootPrefix() throws {
        let location = try v1.locate(pid: 4242)
        let root = TestSupport.fixtures + "/v1/sys/fs/cgroup"
        let scope = "/system.slice/docker-4f2a.scope"
        #expect(location.mode == .hybrid)
        #expect(location.v1Directory("cpu") == root + "/cpu,cpuacct" + scope)
        #expect(location.v1Directory("cpuacct") == root + "/cpu,cpuacct" + scope)
        #expect(location.v1Directory("memory") == root + "/memory" + scope)
        #expect(location.v1Directory("pids") == root + "/pids" + scope)
        #expect(location.v1Directory("blkio") == root + "/blkio" + scope)
        #expect(location.v1Directory("cpuset") == nil)  // not in the membership
        #expect(location.unifiedDirectory == root + "/unified" + scope)
    }

    @Test func readsV1StatisticsExactly() throws {
        let reader = try CgroupStatsReader(location: try v1.locate(pid: 4242), clockTicksPerSecond: 100)
        let before = HostClock.monotonicNanoseconds()
        let stats = try reader.read()
        let stamp = try #require(stats.cpu.usageMonotonicNanoseconds)
        #expect((before...HostClock.monotonicNanoseconds()).contains(stamp), "the usage counter's read time is when it was read")
        #expect(
            stats.cpu.unstamped
                == CPUStats(
                    usageNanoseconds: 123_456_789_012, userNanoseconds: 10_000_000_000, systemNanoseconds: 2_340_000_000,
                    periods: 500, throttledPeriods: 20, throttledNanoseconds: 1_500_000_000))
        // total_* keys win over the cgroup-local ones; swap from total_swap.
        #expect(
            stats.memory
                == MemoryStats(
                    usageBytes: 104_857_600, limit: .limited(268_435_456), cacheBytes: 20_971_520, rssBytes: 62_914_560,
                    swapBytes: 1_048_576, inactiveFileBytes: 8_388_608))
        #expect(stats.memory.workingSetBytes == 104_857_600 - 8_388_608)
        #expect(stats.pids == PidsStats(current: 7, limit: .unlimited))
        // The _recursive files win; Read/Write summed over 8:0 and 8:16, Total lines ignored.
        #expect(stats.blockIO == BlockIOStats(readBytes: 4_097_000, writeBytes: 8_216, readOps: 103, writeOps: 3))
        // Re-reading gives the same values (pread from offset 0).
        #expect(try reader.read().unstamped == stats.unstamped)
        reader.close()
        #expect(try reader.read() == CgroupStats(cpu: CPUStats(), memory: MemoryStats(), pids: PidsStats(), blockIO: BlockIOStats()))
    }

    @Test func v1ConversionUsesTheGivenClockTicks() throws {
        let reader = try CgroupStatsReader(location: try v1.locate(pid: 4242), clockTicksPerSecond: 250)
        let cpu = try reader.readCPU()
        #expect(cpu.userNanoseconds == 4_000_000_000)
        #expect(cpu.systemNanoseconds == 936_000_000)
    }

    @Test func readsNetworkCountersWithoutLoopback() throws {
        let reader = try NetworkDeviceReader(procRoot: TestSupport.fixtures + "/v1/proc", pid: 4242)
        // eth0 plus eth1, whose receive bytes touch the colon.
        #expect(
            try reader.read()
                == NetworkStats(rxBytes: 1000 + 12_345_678_901, rxPackets: 310, txBytes: 2000 + 10_000_000_000, txPackets: 420, interfaces: 2))
        let everything = try NetworkDeviceReader(procRoot: TestSupport.fixtures + "/v1/proc", pid: 4242, excluding: [])
        #expect(try everything.read().rxPackets == 310 + 9999)
        #expect(NetworkDeviceReader.sharesNetworkNamespace(procRoot: TestSupport.fixtures + "/v1/proc", pid: 4242) == false)
        #expect(NetworkDeviceReader.sharesNetworkNamespace(procRoot: TestSupport.fixtures + "/v2/proc", pid: 5151) == true)
        #expect(NetworkDeviceReader.sharesNetworkNamespace(procRoot: TestSupport.fixtures + "/v2/proc", pid: 999) == nil)
    }

    @Test func readsHostCPUTimeLikeDockerd() throws {
        let reader = try HostStatReader(procRoot: TestSupport.fixtures + "/v1/proc", clockTicksPerSecond: 100)
        // user nice system idle iowait irq softirq = 1000+20+300+50000+40+5+6 ticks; steal excluded.
        #expect(try reader.read() == HostCPUTime(totalNanoseconds: 51_371 * 10_000_000, onlineCPUs: 2))
        #expect(try HostStatReader.memoryTotalBytes(procRoot: TestSupport.fixtures + "/v1/proc") == 2_000_000 * 1024)
    }

    @Test func sharedHostStatReadsOncePerTick() throws {
        let root = try TestSupport.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(idle: Int) throws {
            try "cpu  100 0 100 \(idle) 0 0 0 0 0 0\ncpu0 100 0 100 \(idle) 0 0 0 0 0 0\n".write(toFile: root + "/stat", atomically: false, encoding: .utf8)
        }
        let hz = UInt64(sysconf(Int32(_SC_CLK_TCK)))
        func expected(idle: Int) -> HostCPUTime { HostCPUTime(totalNanoseconds: UInt64(200 + idle) * 1_000_000_000 / hz, onlineCPUs: 1) }
        let shared = SharedHostStat()
        try write(idle: 1000)
        #expect(try shared.read(procRoot: root, tickNs: 50_000_000) == expected(idle: 1000))
        try write(idle: 2000)
        // Same tick: the first reading is shared.
        #expect(try shared.read(procRoot: root, tickNs: 50_000_000) == expected(idle: 1000))
        // Next tick: read again.
        #expect(try shared.read(procRoot: root, tickNs: 100_000_000) == expected(idle: 2000))
        try write(idle: 3000)
        // No tick: always fresh; and it does not count as the cached tick.
        #expect(try shared.read(procRoot: root, tickNs: nil) == expected(idle: 3000))
        try write(idle: 4000)
        #expect(try shared.read(procRoot: root, tickNs: 100_000_000) == expected(idle: 4000))
        // Another proc root has its own reading.
        #expect(throws: CgroupError.gone(path: root + "/missing/stat")) { try shared.read(procRoot: root + "/missing", tickNs: 100_000_000) }
    }

    // MARK: Fixture v2 (unified)

    @Test func locatesAndReadsV2StatisticsExactly() throws {
        let location = try v2.locate(pid: 5151)
        #expect(location.mode == .unified)
        #expect(location.v1Directories.isEmpty)
        #expect(location.unifiedDirectory == TestSupport.fixtures + "/v2/sys/fs/cgroup/system.slice/docker-9c1e.scope")
        let before = HostClock.monotonicNanoseconds()
        let stats = try CgroupStatsReader(location: location).read()
        let stamp = try #require(stats.cpu.usageMonotonicNanoseconds)
        #expect((before...HostClock.monotonicNanoseconds()).contains(stamp), "the usage counter's read time is when it was read")
        #expect(
            stats.cpu.unstamped
                == CPUStats(
                    usageNanoseconds: 2_500_000_000, userNanoseconds: 2_000_000_000, systemNanoseconds: 500_000_000,
                    periods: 40, throttledPeriods: 4, throttledNanoseconds: 120_000_000))
        // "file_mapped", "anon_thp" must not be taken for "file" / "anon".
        #expect(
            stats.memory
                == MemoryStats(
                    usageBytes: 52_428_800, limit: .unlimited, cacheBytes: 8_388_608, rssBytes: 41_943_040, swapBytes: 0,
                    inactiveFileBytes: 2_097_152))
        #expect(stats.pids == PidsStats(current: 3, limit: .limited(100)))
        // Without the limit (dockerstats does not report it): one file fewer, the rest equal.
        let withoutLimit = try CgroupStatsReader(location: location).read(pidsLimit: false)
        #expect(withoutLimit.pids == PidsStats(current: 3, limit: nil))
        #expect(withoutLimit.memory == stats.memory && withoutLimit.cpu.unstamped == stats.cpu.unstamped && withoutLimit.blockIO == stats.blockIO)
        #expect(stats.blockIO == BlockIOStats(readBytes: 1_048_577, writeBytes: 2_097_154, readOps: 13, writeOps: 24))
        let host = try HostStatReader(procRoot: TestSupport.fixtures + "/v2/proc", clockTicksPerSecond: 100).read()
        #expect(host == HostCPUTime(totalNanoseconds: 100_000 * 10_000_000, onlineCPUs: 4))
    }

    // MARK: Absent files, errors

    @Test func missingFilesAreAbsentNotZero() throws {
        let root = try TestSupport.copyFixture("v2")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let scope = root + "/sys/fs/cgroup/system.slice/docker-9c1e.scope"
        for file in ["memory.swap.current", "io.stat", "pids.max"] { try FileManager.default.removeItem(atPath: scope + "/" + file) }
        try TestSupport.overwrite(scope + "/cpu.stat", "usage_usec 7\nuser_usec 5\nsystem_usec 2\n")  // no cpu controller
        let filesystem = CgroupFilesystem(procRoot: root + "/proc", cgroupRoot: root + "/sys/fs/cgroup")
        let stats = try CgroupStatsReader(location: try filesystem.locate(pid: 5151)).read()
        #expect(stats.cpu.unstamped == CPUStats(usageNanoseconds: 7000, userNanoseconds: 5000, systemNanoseconds: 2000))
        #expect(stats.memory.swapBytes == nil)
        #expect(stats.memory.usageBytes == 52_428_800)
        #expect(stats.pids == PidsStats(current: 3, limit: nil))
        #expect(stats.blockIO == BlockIOStats())
    }

    @Test func v1SwapFallsBackToMemswAndUnlimitedIsRecognised() throws {
        let root = try TestSupport.copyFixture("v1")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let memory = root + "/sys/fs/cgroup/memory/system.slice/docker-4f2a.scope"
        try TestSupport.overwrite(memory + "/memory.stat", "cache 1\nrss 2\ninactive_file 3\n")
        try TestSupport.overwrite(memory + "/memory.limit_in_bytes", "9223372036854771712\n")
        let filesystem = CgroupFilesystem(procRoot: root + "/proc", cgroupRoot: root + "/sys/fs/cgroup")
        let stats = try CgroupStatsReader(location: try filesystem.locate(pid: 4242)).readMemory()
        #expect(
            stats
                == MemoryStats(
                    usageBytes: 104_857_600, limit: .unlimited, cacheBytes: 1, rssBytes: 2, swapBytes: 105_906_176 - 104_857_600,
                    inactiveFileBytes: 3))
        try FileManager.default.removeItem(atPath: memory + "/memory.memsw.usage_in_bytes")
        #expect(try CgroupStatsReader(location: try filesystem.locate(pid: 4242)).readMemory().swapBytes == nil)
    }

    @Test func aMissingProcessOrCgroupIsGone() throws {
        #expect(throws: CgroupError.gone(path: TestSupport.fixtures + "/v1/proc/999/cgroup")) { try v1.locate(pid: 999) }
        let root = try TestSupport.copyFixture("v1")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let pids = root + "/sys/fs/cgroup/pids/system.slice/docker-4f2a.scope"
        try FileManager.default.removeItem(atPath: pids)
        let filesystem = CgroupFilesystem(procRoot: root + "/proc", cgroupRoot: root + "/sys/fs/cgroup")
        #expect(throws: CgroupError.gone(path: pids)) { try filesystem.locate(pid: 4242) }
        #expect(CgroupError.gone(path: pids).isGone)
    }

    @Test func malformedContentIsATypedError() throws {
        let root = try TestSupport.copyFixture("v1")
        defer { try? FileManager.default.removeItem(atPath: (root as NSString).deletingLastPathComponent) }
        let cpu = root + "/sys/fs/cgroup/cpu,cpuacct/system.slice/docker-4f2a.scope"
        try TestSupport.overwrite(cpu + "/cpuacct.usage", "lots\n")
        let filesystem = CgroupFilesystem(procRoot: root + "/proc", cgroupRoot: root + "/sys/fs/cgroup")
        let reader = try CgroupStatsReader(location: try filesystem.locate(pid: 4242))
        let error = CgroupError.malformed(path: cpu + "/cpuacct.usage", detail: "expected a non-negative integer, read 'lots'")
        #expect(throws: error) { try reader.readCPU() }
        #expect(error.description.contains("cpuacct.usage has an unexpected format"))
    }
}

extension CPUStats {
    /// The counters without the time they were read (which differs on every read).
    var unstamped: CPUStats {
        var copy = self
        copy.usageMonotonicNanoseconds = nil
        return copy
    }
}

extension CgroupStats {
    /// The statistics without the usage counter's read time.
    var unstamped: CgroupStats {
        var copy = self
        copy.cpu = copy.cpu.unstamped
        return copy
    }
}
