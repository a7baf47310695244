import Foundation
import PluginABI
import Testing

@testable import Runner

struct BenchmarkIDTests {
    @Test func idsAreSortableSluggedAndUnique() {
        let date = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 ...
        let id = BenchmarkID(name: "Neighbour Study #2 (LLC)", date: date, random: 0x3f9a_2c1d)
        #expect(id.value == "neighbour-study-2-llc-20261118-110640-3f9a2c1d")
        let later = BenchmarkID(name: "Neighbour Study #2 (LLC)", date: date.addingTimeInterval(1), random: 0)
        #expect(id.value < later.value)
        #expect(BenchmarkID(name: "", date: date, random: 1).value == "20261118-110640-00000001")
        #expect(BenchmarkID(name: "x").value != BenchmarkID(name: "x").value)
        #expect(BenchmarkID.slug(String(repeating: "ab-", count: 20)).count <= 32)
    }
}

struct HostFactsTests {
    @Test func factsComeFromProcAndSys() throws {
        let root = NSTemporaryDirectory() + "rdt4nn-facts-" + UUID().uuidString
        func write(_ path: String, _ text: String) throws {
            let full = root + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try write("/proc/cpuinfo", "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold 6248\nflags\t\t: fpu sse cat_l3 cdp_l3 mba cqm_llc cqm_mbm_total rdt_a\n")
        try write("/sys/devices/system/cpu/online", "0-3\n")
        for cpu in 0..<4 {
            try write("/sys/devices/system/cpu/cpu\(cpu)/topology/physical_package_id", "\(cpu / 2)\n")
            try write("/sys/devices/system/cpu/cpu\(cpu)/topology/core_id", "\(cpu % 2)\n")
        }
        try write("/sys/devices/system/cpu/cpu0/cache/index3/level", "3\n")
        try write("/sys/devices/system/cpu/cpu0/cache/index3/size", "28160K\n")
        try write("/sys/devices/system/cpu/cpu0/cache/index3/ways_of_associativity", "11\n")
        try write("/proc/sys/kernel/osrelease", "6.1.0-test\n")
        try write("/proc/sys/kernel/perf_event_paranoid", "2\n")
        try write("/proc/self/mounts", "cgroup /sys/fs/cgroup/perf_event cgroup rw,perf_event 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\nresctrl /sys/fs/resctrl resctrl rw 0 0\n")
        let facts = HostFacts.read(root: root)
        #expect(facts.cpuModel == "Intel(R) Xeon(R) Gold 6248")
        #expect(facts.sockets == 2)
        #expect(facts.physicalCores == 4)
        #expect(facts.logicalCPUs == 4)
        #expect(facts.l3SizeBytes == Optional(Int64(28_835_840)))
        #expect(facts.l3Ways == 11)
        #expect(facts.kernel == "6.1.0-test")
        #expect(facts.cgroupVersion == "hybrid")
        #expect(facts.rdtFlags == ["rdt_a", "cat_l3", "cdp_l3", "mba", "cqm_llc", "cqm_mbm_total"])
        #expect(facts.resctrlMounted)
        #expect(facts.perfEventParanoid == 2)
        #expect(facts.perfCgroupAvailable)
    }

    @Test func thisMachineHasPlausibleFacts() {
        let facts = HostFacts.read()
        #expect(facts.logicalCPUs >= 1)
        #expect(facts.physicalCores >= 1 && facts.physicalCores <= facts.logicalCPUs)
        #expect(facts.kernel != "unknown")
    }
}

struct ResultsDirectoryTests {
    @Test func layoutEventsAndAtomicMetadata() throws {
        let root = NSTemporaryDirectory() + "rdt4nn-results-" + UUID().uuidString
        let id = BenchmarkID(name: "t")
        let results = try ResultsDirectory(root: root, benchmarkID: id)
        #expect(results.path == root + "/" + id.value)
        results.events.append(RunEvent(event: "container_started", container: "web", plannedOffsetNs: 1_000_000_000, actualOffsetNs: 1_000_400_000, monotonicNs: 5, wallNs: 6, detail: [("cpuset", .string("0"))]))
        results.events.append(RunEvent(event: "run_finished", actualOffsetNs: 2, monotonicNs: 7, wallNs: 8))
        results.events.sync()
        let lines = try String(contentsOfFile: results.path + "/events.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0] == #"{"event":"container_started","container":"web","planned_offset_ns":1000000000,"actual_offset_ns":1000400000,"skew_ns":400000,"monotonic_ns":5,"wall_ns":6,"cpuset":"0"}"#)
        try results.writeMetadata(.object([("benchmark_id", .string(id.value))]))
        let metadata = try JSONValue.parse(try String(contentsOfFile: results.path + "/metadata.json", encoding: .utf8))
        #expect(metadata["benchmark_id"] == .string(id.value))
        #expect(!FileManager.default.fileExists(atPath: results.path + "/metadata.json.tmp"))
        #expect(results.logPath(container: "web/1") == results.path + "/logs/web_1.log")
        #expect(throws: ResultsError.self) { try ResultsDirectory(root: root, benchmarkID: id) }
    }
}
