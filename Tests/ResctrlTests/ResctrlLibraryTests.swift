import Foundation
import Resctrl
import ResctrlTestSupport
import Testing

/// The Resctrl library against fake trees built by ResctrlTestSupport.
@Suite struct ResctrlLibraryTests {
    // MARK: - Mount detection

    @Test("the real /sys/fs/resctrl of this machine is reported as not mounted")
    func realRootNotMounted() throws {
        let mounted = ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").split(separator: "\n").contains { $0.split(separator: " ").dropFirst(2).first == "resctrl" }
        try #require(!mounted, "this machine has resctrl mounted; the test expects a machine without RDT")
        #expect {
            _ = try ResctrlFilesystem()
        } throws: { error in
            guard case .notMounted(let root, _) = error as? ResctrlError else { return false }
            return root == "/sys/fs/resctrl" && "\(error)".contains("mount -t resctrl resctrl /sys/fs/resctrl")
        }
    }

    @Test("a directory without info/ is not a resctrl tree; a fake tree is a directory tree")
    func fakeRootDetection() throws {
        let empty = try Support.makeTemporaryDirectory()
        defer { rmdir(empty) }
        #expect(throws: ResctrlError.self) { _ = try ResctrlFilesystem(root: empty) }
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root + "/")
        #expect(filesystem.backing == .directoryTree)
        #expect(filesystem.root == tree.root)
    }

    @Test("a resctrl line in the mounts file makes the root a kernel mount with its options")
    func kernelMountFromMountsFile() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let mounts = tree.root + "/../mounts"
        try "proc /proc proc rw 0 0\nresctrl \(tree.root) resctrl rw,relatime,cdp,mba_MBps 0 0\n".write(toFile: mounts, atomically: true, encoding: .utf8)
        defer { unlink(mounts) }
        let filesystem = try ResctrlFilesystem(root: tree.root, mountsFile: mounts)
        #expect(filesystem.backing == .kernel(mountOptions: ["rw", "relatime", "cdp", "mba_MBps"]))
        #expect(try filesystem.features().memoryBandwidth?.isMBps == true)
    }

    // MARK: - Features

    @Test("Intel 2-socket features: CBM fff, min 1, CLOSIDs min(16, 8), 224 RMIDs, MB % min 10 gran 10")
    func intelFeatures() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let features = try ResctrlFilesystem(root: tree.root).features()
        let l3 = try #require(features.cache("L3"))
        #expect(l3 == CacheAllocation(resource: "L3", cbmMask: 0xfff, minCBMBits: 1, numCLOSIDs: 16, shareableBits: 0xc00, sparseMasks: false))
        #expect(l3.cbmLength == 12)
        #expect(features.closidLimit == 8)
        #expect(features.memoryBandwidth == MemoryBandwidthAllocation(minBandwidth: 10, granularity: 10, delayLinear: true, numCLOSIDs: 8, throttleMode: "max", maxBandwidth: 100, isMBps: false))
        #expect(features.monitoring == L3Monitoring(numRMIDs: 224, events: ["llc_occupancy", "mbm_total_bytes", "mbm_local_bytes"], maxThresholdOccupancy: 140416))
    }

    @Test("AMD features: sparse masks, min 0, MB in 1/8 GB/s up to 2048, one domain per CCX")
    func amdFeatures() throws {
        let tree = try Support.fakeTree(.amd(domains: 8))
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let features = try filesystem.features()
        #expect(features.cache("L3")?.sparseMasks == true)
        #expect(features.cache("L3")?.minCBMBits == 0)
        #expect(features.memoryBandwidth?.maxBandwidth == 2048)
        #expect(try filesystem.schemata(of: .root).domainsByResource["L3"] == Array(0..<8))
    }

    @Test("legacy CDP with padded schemata: L3CODE and L3DATA, no L3; values parsed through the padding")
    func legacyPadded() throws {
        let tree = try Support.fakeTree(.legacyCDPPadded)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let features = try filesystem.features()
        #expect(features.caches.map(\.resource) == ["L3CODE", "L3DATA"])
        #expect(features.closidLimit == 8)
        let schemata = try filesystem.schemata(of: .root)
        #expect(schemata.value("L3DATA", domain: 0) == 0xff)
        #expect(schemata.value("L3CODE", domain: 1) == 0xfffff)
        #expect(schemata.value("MB", domain: 0) == 100)
        #expect(schemata.value("MB", domain: 1) == 100)
        #expect(schemata.text == "L3DATA:0=ff;1=fffff\nL3CODE:0=fffff;1=fffff\nMB:0=100;1=100\n")
    }

    // MARK: - Monitoring reads

    @Test("fixture reads: every domain, Unavailable and Error absent, parent ≥ child")
    func fixtureReads() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        try tree.addFixtureGroups()
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let events = MonitorEvent.allCases
        let root = try MonitorReader(filesystem: filesystem, group: .root, events: events).read()
        #expect(root.map(\.domain) == [0, 1])
        #expect(root[0].occupancy == .bytes(18_874_368))
        #expect(root[0].totalBytes == .bytes(9_876_543_210))
        #expect(root[1].localBytes == .bytes(100_000_000))
        let parent = ResctrlGroup(controlGroup: "rdt4nn-c0")
        let child = ResctrlGroup(controlGroup: "rdt4nn-c0", monitorGroup: "rdt4nn-c0-mon")
        let parentRead = try MonitorReader(filesystem: filesystem, group: parent, events: events).read()
        let childRead = try MonitorReader(filesystem: filesystem, group: child, events: events).read()
        #expect(parentRead[1].totalBytes == .unavailable)
        #expect(parentRead[1].totalBytes?.bytes == nil)
        #expect(childRead[0].localBytes == .error)
        #expect(childRead[1].occupancy == .bytes(0))
        for (p, c) in zip(parentRead, childRead) {
            if let pb = p.occupancy?.bytes, let cb = c.occupancy?.bytes { #expect(pb >= cb) }
            if let pb = p.totalBytes?.bytes, let cb = c.totalBytes?.bytes { #expect(pb >= cb) }
        }
        #expect(try filesystem.tasks(of: child) == [4242, 4243])
        #expect(try filesystem.controlGroup(ofTask: 4250) == parent)
        #expect(try filesystem.controlGroup(ofTask: 812) == .root)
    }

    @Test("value parsing: numbers, words, padding")
    func valueParsing() {
        #expect(MonitorValue(parsing: "12345\n") == .bytes(12345))
        #expect(MonitorValue(parsing: "18446744073709551615\n") == .bytes(UInt64.max))
        #expect(MonitorValue(parsing: "18446744073709551616\n") == .unrecognized("18446744073709551616"))
        #expect(MonitorValue(parsing: "Unavailable\n") == .unavailable)
        #expect(MonitorValue(parsing: "Error\n") == .error)
        #expect(MonitorValue(parsing: "Unassigned\n") == .unassigned)
        #expect(MonitorValue(parsing: "") == .unrecognized(""))
    }

    @Test("bandwidth from deltas over the real time between reads; a decrease is a reset; Unavailable drops the interval")
    func bandwidthFromRealElapsedTime() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let reader = try MonitorReader(filesystem: filesystem, group: .root, events: MonitorEvent.allCases)
        var tracker = BandwidthTracker()
        let first = try reader.read()
        let baseline = tracker.update(first)
        #expect(baseline.totalBytesPerSecond == nil)
        #expect(baseline.occupancyBytes == 18_874_368 + 2_097_152)
        try tree.setCounters("", domain: 0, total: "\(9_876_543_210 + 300_000_000)", local: "\(8_765_432_109 + 100_000_000)")
        try tree.setCounters("", domain: 1, total: "\(123_456_789 + 50_000_000)", local: "\(100_000_000 + 50_000_000)")
        Support.sleep(milliseconds: 60)
        let second = try reader.read()
        let interval = tracker.update(second)
        let seconds0 = Double(second[0].monotonicNs - first[0].monotonicNs) / 1e9
        let seconds1 = Double(second[1].monotonicNs - first[1].monotonicNs) / 1e9
        #expect(seconds0 >= 0.06)
        #expect(interval.domains[0].totalBytesPerSecond == 300_000_000 / seconds0)
        #expect(interval.domains[0].localBytesPerSecond == 100_000_000 / seconds0)
        #expect(interval.domains[1].totalBytesPerSecond == 50_000_000 / seconds1)
        #expect(interval.totalBytesPerSecond == 300_000_000 / seconds0 + 50_000_000 / seconds1)
        #expect(interval.resets.isEmpty)

        // Counter reset on domain 0 (goes down), Unavailable on domain 1.
        try tree.setCounters("", domain: 0, total: "1000", local: "\(8_765_432_109 + 200_000_000)")
        try tree.setCounters("", domain: 1, occupancy: "Unavailable", total: "Unavailable")
        let third = tracker.update(try reader.read())
        #expect(third.domains[0].totalBytesPerSecond == nil)
        #expect(third.domains[0].localBytesPerSecond != nil)
        #expect(third.resets.count == 1 && third.resets.first?.domain == 0 && third.resets.first?.event == .mbmTotalBytes)
        #expect(third.domains[1].totalBytesPerSecond == nil)
        #expect(third.domains[1].occupancyBytes == nil)
        #expect(third.totalBytesPerSecond == nil, "a partial sum would understate")
        #expect(third.occupancyBytes == nil)
        #expect(third.localBytesPerSecond != nil)

        // After the reset, domain 0 counts from its new base again.
        try tree.setCounters("", domain: 0, total: "5000")
        try tree.setCounters("", domain: 1, occupancy: "0", total: "\(123_456_789 + 60_000_000)")
        let fourth = tracker.update(try reader.read())
        #expect(fourth.domains[0].totalBytesPerSecond.map { $0 > 0 } == true)
        #expect(fourth.domains[1].totalBytesPerSecond == nil, "no base after Unavailable")
        reader.close()
    }

    @Test("SNC: mon_L3 values sum the mon_sub_L3 nodes; sums never add both levels")
    func sncSubdomains() throws {
        let tree = try Support.fakeTree(.snc2)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        #expect(try filesystem.features().monitoring?.numRMIDs == 112)
        try tree.setNodeCounters("", domain: 0, node: 0, occupancy: 1000, total: 10_000, local: 9_000)
        try tree.setNodeCounters("", domain: 0, node: 1, occupancy: 2000, total: 20_000, local: 15_000)
        try tree.setNodeCounters("", domain: 1, node: 2, occupancy: 4000, total: 40_000, local: 40_000)
        let reader = try MonitorReader(filesystem: filesystem, group: .root, events: MonitorEvent.allCases)
        #expect(reader.hasSubdomains)
        let readings = try reader.read()
        #expect(readings.map(\.domain) == [0, 1])
        #expect(readings[0].subdomains.map(\.domain) == [0, 1])
        #expect(readings[1].subdomains.map(\.domain) == [2, 3])
        #expect(readings[0].occupancy == .bytes(3000))
        #expect(readings[0].subdomains[1].totalBytes == .bytes(20_000))
        var tracker = BandwidthTracker()
        #expect(tracker.update(readings).occupancyBytes == 7000)
    }

    // MARK: - Groups and tasks

    @Test("groups: create CTRL_MON and MON groups, the kernel step populates, tasks one per line, remove")
    func groupsAndTasks() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let control = try filesystem.createControlGroup("rdt4nn-bench-c1")
        #expect(try tree.kernelStep() == ["rdt4nn-bench-c1"])
        let monitor = try filesystem.createMonitorGroup("rdt4nn-bench-c1-mon", in: control)
        let rootMonitor = try filesystem.createMonitorGroup("rdt4nn-bench-c2")
        #expect(throws: ResctrlError.gone(path: tree.root + "/rdt4nn-bench-c1/mon_groups/rdt4nn-bench-c1-mon/tasks")) {
            _ = try filesystem.assign([1], to: monitor)
        }
        let populated = Set(try tree.kernelStep())
        #expect(populated == ["rdt4nn-bench-c1/mon_groups/rdt4nn-bench-c1-mon", "mon_groups/rdt4nn-bench-c2"])
        #expect(try filesystem.allGroups() == [rootMonitor, control, monitor])
        #expect(throws: ResctrlError.exists(path: tree.root + "/rdt4nn-bench-c1")) { _ = try filesystem.createControlGroup("rdt4nn-bench-c1") }
        #expect(throws: ResctrlError.self) { _ = try filesystem.createControlGroup("mon_groups") }
        let result = try filesystem.assign([101, 102, 103], to: control)
        #expect(result.moved == 3 && result.exited == 0 && result.refused.isEmpty)
        #expect(try tree.read("rdt4nn-bench-c1/tasks") == "101\n102\n103\n")
        #expect(try filesystem.controlGroup(ofTask: 102) == control)
        try filesystem.remove(control)
        #expect(!tree.exists("rdt4nn-bench-c1"))
        #expect(try filesystem.allGroups() == [rootMonitor])
        #expect(throws: ResctrlError.gone(path: tree.root + "/rdt4nn-bench-c1")) { try filesystem.remove(control) }
    }

    @Test("leftovers: prefixed groups found (MON before CTRL_MON) and removed; others kept")
    func leftovers() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let foreign = try filesystem.createControlGroup("other-tool")
        let ours = try filesystem.createControlGroup("rdt4nn-run1-c0")
        try tree.kernelStep()
        let oursInside = try filesystem.createMonitorGroup("rdt4nn-run1-c0-m", in: ours)
        let oursInForeign = try filesystem.createMonitorGroup("rdt4nn-run1-c1", in: foreign)
        let oursInRoot = try filesystem.createMonitorGroup("rdt4nn-run1-c2")
        let foreignMonitor = try filesystem.createMonitorGroup("keep-me")
        try tree.kernelStep()
        let found = try filesystem.leftoverGroups(prefix: "rdt4nn-")
        #expect(found == [oursInRoot, oursInForeign, ours])
        #expect(!found.contains(oursInside), "removed with its parent")
        let results = try filesystem.removeLeftovers(prefix: "rdt4nn-")
        #expect(results.allSatisfy { $0.error == nil })
        #expect(try filesystem.allGroups() == [foreignMonitor, foreign])
        #expect(try filesystem.leftoverGroups(prefix: "rdt4nn-").isEmpty)
        #expect(throws: ResctrlError.self) { _ = try filesystem.leftoverGroups(prefix: "") }
    }

    @Test("ENOSPC: the fake tree's file system runs out of inodes like the kernel runs out of RMIDs")
    func outOfRMIDs() throws {
        let tmpfs = try TinyTmpfs(inodes: 400)
        defer { tmpfs.unmount() }
        let tree = try FakeResctrlTree(root: tmpfs.mountPoint + "/resctrl", profile: .intel2Socket)
        let filesystem = try ResctrlFilesystem(root: tree.root)
        _ = try filesystem.createMonitorGroup("rdt4nn-a")
        try tree.kernelStep()
        try FileManager.default.createDirectory(atPath: tmpfs.mountPoint + "/filler", withIntermediateDirectories: false)
        tmpfs.exhaust(in: tmpfs.mountPoint + "/filler")
        #expect(tmpfs.freeInodes == 0)
        // What the kernel leaves in last_cmd_status after a refused mkdir.
        try tree.put("info/last_cmd_status", "Out of RMIDs\n")
        do {
            _ = try filesystem.createMonitorGroup("rdt4nn-b")
            Issue.record("mkdir succeeded on a full file system")
        } catch {
            #expect(error == .outOfIDs(path: tree.root + "/mon_groups/rdt4nn-b", kind: "RMIDs", inUse: 2, limit: 224, status: "Out of RMIDs"))
            #expect(error.description.contains("out of RMIDs: 2 group(s) in use of 224"))
        }
        // A CTRL_MON group: the same ENOSPC names CLOSIDs when the kernel says so.
        try tree.put("info/last_cmd_status", "Out of CLOSIDs\n")
        #expect(throws: ResctrlError.outOfIDs(path: tree.root + "/rdt4nn-c", kind: "CLOSIDs", inUse: 1, limit: 8, status: "Out of CLOSIDs")) {
            _ = try filesystem.createControlGroup("rdt4nn-c")
        }
        tree.destroy()
    }

    // MARK: - Schemata

    static func intelValidator(mode: String = "shareable", others: [SchemataValidator.OtherGroup] = []) throws -> SchemataValidator {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        return SchemataValidator(features: try filesystem.features(), domains: try filesystem.schemata(of: .root).domainsByResource, mode: mode, others: others)
    }

    static func status(_ result: Result<Schemata, SchemataRejection>) -> String? {
        if case .failure(let rejection) = result { return rejection.kernelStatus ?? "<no status>" }
        return nil
    }

    @Test("schemata validation mirrors the kernel's messages (Intel)")
    func intelValidation() throws {
        let validator = try Self.intelValidator()
        #expect(Self.status(validator.validate(writing: "L3:0=f0;1=fff\n")) == nil)
        #expect(Self.status(validator.validate(writing: "L3:0=0x00f\n")) == nil)
        #expect(Self.status(validator.validate(writing: "L3:0=f\n    MB:1=  50\n")) == nil)
        #expect(Self.status(validator.validate(writing: "L3:0=f;\n")) == nil)
        #expect(Self.status(validator.validate(writing: "L3:0=f")) == "<no status>")
        #expect(Self.status(validator.validate(writing: "L3:0=f0f\n")) == "The mask f0f has non-consecutive 1-bits")
        #expect(Self.status(validator.validate(writing: "L3:0=1fff\n")) == "Mask out of range")
        #expect(Self.status(validator.validate(writing: "L3:0=0\n")) == "Mask out of range")
        #expect(Self.status(validator.validate(writing: "L3:0=fg\n")) == "Non-hex character in the mask fg")
        #expect(Self.status(validator.validate(writing: "L3:2=f\n")) == "<no status>")
        #expect(Self.status(validator.validate(writing: "L3:0=f;0=f\n")) == "Duplicate domain 0")
        #expect(Self.status(validator.validate(writing: "L3:0=f\nL3:0=3\n")) == "Duplicate domain 0")
        #expect(Self.status(validator.validate(writing: "L3 0=f\n")) == "Missing ':'")
        #expect(Self.status(validator.validate(writing: "L3:\n")) == "Missing 'L3' value")
        #expect(Self.status(validator.validate(writing: "L2:0=f\n")) == "Unknown or unsupported resource name 'L2'")
        #expect(Self.status(validator.validate(writing: "L3:x=f\n")) == "Missing '=' or non-numeric domain")
        #expect(Self.status(validator.validate(writing: "L3:0f\n")) == "Missing '=' or non-numeric domain")
        #expect(Self.status(validator.validate(writing: "MB:0=5\n")) == "MB value 5 out of range [10,100]")
        #expect(Self.status(validator.validate(writing: "MB:0=110\n")) == "MB value 110 out of range [10,100]")
        #expect(Self.status(validator.validate(writing: "MB:0=5x\n")) == "Invalid MB value 5x")
        // MB rounds up to the granularity, as the kernel does silently.
        #expect(try validator.validate(writing: "MB:0=55;1=10\n").get().value("MB", domain: 0) == 60)
        // min_cbm_bits 2 (Haswell server).
        var hsw = validator
        hsw.features.caches[0].minCBMBits = 2
        #expect(Self.status(hsw.validate(writing: "L3:0=4\n")) == "Need at least 2 bits in the mask")
        #expect(Self.status(hsw.validate(writing: "L3:0=c\n")) == nil)
    }

    @Test("AMD validation: sparse and zero masks allowed, MB up to 2048")
    func amdValidation() throws {
        let tree = try Support.fakeTree(.amd(domains: 4))
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let validator = try filesystem.validator(for: .root)
        #expect(Self.status(validator.validate(writing: "L3:0=5;1=0;3=f00f\n")) == nil)
        #expect(Self.status(validator.validate(writing: "L3:0=1ffff\n")) == "Mask out of range")
        #expect(Self.status(validator.validate(writing: "MB:2=16\n")) == nil)
        #expect(Self.status(validator.validate(writing: "MB:2=2049\n")) == "MB value 2049 out of range [0,2048]")
    }

    @Test("exclusive groups: overlapping masks refused both ways")
    func exclusiveOverlaps() throws {
        let exclusive = SchemataValidator.OtherGroup(name: "/x", mode: "exclusive", schemata: try Schemata(parsing: "L3:0=f00;1=f00\n"))
        let root = SchemataValidator.OtherGroup(name: "/", mode: "shareable", schemata: try Schemata(parsing: "L3:0=0ff;1=fff\n"))
        let shareable = try Self.intelValidator(others: [exclusive, root])
        #expect(Self.status(shareable.validate(writing: "L3:0=300\n")) == "Overlaps with exclusive group")
        #expect(Self.status(shareable.validate(writing: "L3:0=0f0\n")) == nil)
        let exclusiveWriter = try Self.intelValidator(mode: "exclusive", others: [root])
        #expect(Self.status(exclusiveWriter.validate(writing: "L3:0=0f0\n")) == "Overlaps with other group")
        #expect(Self.status(exclusiveWriter.validate(writing: "L3:0=f00\n")) == nil)
    }

    @Test("writeSchemata: validated, merged with unnamed domains, written whole; a refused write changes nothing")
    func writeSchemata() throws {
        let tree = try Support.fakeTree(.intel2Socket)
        defer { Support.remove(tree) }
        let filesystem = try ResctrlFilesystem(root: tree.root)
        let group = try filesystem.createControlGroup("rdt4nn-w")
        try tree.kernelStep()
        var update = Schemata(lines: [])
        update.set("L3", domain: 1, to: 0x3f)
        update.set("MB", domain: 0, to: 35)
        let effective = try filesystem.writeSchemata(update, to: group)
        #expect(effective.text == "L3:0=fff;1=3f\nMB:0=40;1=100\n")
        #expect(try tree.read("rdt4nn-w/schemata") == "L3:0=fff;1=3f\nMB:0=40;1=100\n")
        var bad = Schemata(lines: [])
        bad.set("L3", domain: 0, to: 0x505)
        #expect(throws: ResctrlError.invalid(path: tree.root + "/rdt4nn-w/schemata", message: "The mask 505 has non-consecutive 1-bits")) {
            _ = try filesystem.writeSchemata(bad, to: group)
        }
        #expect(try tree.read("rdt4nn-w/schemata") == "L3:0=fff;1=3f\nMB:0=40;1=100\n")
    }

    @Test("group names: prefix and parts cleaned to [A-Za-z0-9_.-]")
    func groupNames() {
        #expect(ResctrlGroup.makeName(prefix: "rdt4nn", ["web server", "0123456789ab"]) == "rdt4nn-web_server-0123456789ab")
        #expect(ResctrlGroup.makeName(prefix: "rdt4nn-b1", ["", "x/y"]) == "rdt4nn-b1-x_y")
        #expect(ResctrlGroup.makeName(prefix: "p", [String(repeating: "a", count: 400)]).utf8.count == 255)
    }
}
