import Foundation
import PluginABI
import PluginHost
import Synchronization
import Testing
import TestKit

/// Helpers shared by the dockerstats tests.
enum TestSupport {
    /// The folder with the built products (`rdt4nn`, `lib*.so`): the test bundle's own folder.
    static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// `Tests/DockerStatsTests/Fixtures`.
    static var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }

    /// A built plugin product (`lib<name>.so`).
    static func product(_ name: String) throws -> String {
        let path = productsDirectory + "/lib\(name).so"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run swift build first")
        return path
    }

    /// The dockerstats plugin, loaded through the host's loader.
    static func dockerStatsDescriptor() throws -> PluginDescriptor {
        let path = try product("rdt4nn-dockerstats")
        let catalog = PluginLoader().load(files: [path])
        return try #require(catalog.plugin(id: "dockerstats"), "no dockerstats plugin in \(path): \(catalog.refusals.map(\.reason.description))")
    }

    /// A fresh directory under the system temp dir; removed by the caller.
    static func makeTemporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "rdt4nn-dockerstats-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Copies fixture tree `name` (`v1`, `v2`) to a temporary directory (symlinks kept).
    static func copyFixture(_ name: String) throws -> String {
        let destination = try makeTemporaryDirectory() + "/" + name
        try FileManager.default.copyItem(atPath: fixtures + "/" + name, toPath: destination)
        return destination
    }

    /// Overwrites a file in place (same inode: readers keep their descriptor).
    static func overwrite(_ path: String, _ text: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path), "cannot open \(path)")
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Runs a program to completion and captures its output.
    static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(executable, arguments)
    }
}

/// One dockerstats instance driven like the sampler drives it, recording
/// what it emits and logs.
final class CollectorHarness {
    let descriptor: PluginDescriptor
    let instance: CollectorInstance
    private let samples = SampleStore()

    init(config: JSONValue = .object([]), target: TargetInfo) throws {
        descriptor = try TestSupport.dockerStatsDescriptor()
        let store = samples
        instance = try CollectorInstance(
            descriptor: descriptor,
            instanceName: "test",
            config: config,
            target: target,
            emit: { emitted in
                store.append(emitted)
                return .ok
            },
            log: { record in store.log(record.message) }
        )
    }

    /// Config pointing the plugin at a fixture tree.
    static func fixtureConfig(_ root: String) -> JSONValue {
        .object([("cgroup_root", .string(root + "/sys/fs/cgroup")), ("proc_root", .string(root + "/proc"))])
    }

    /// A container target for `pid`.
    static func target(pid: Int32, name: String = "fixture", id: String = "") -> TargetInfo {
        TargetInfo(kind: .container, index: 0, pid: pid, name: name, id: id, image: "rdt4nn/test", cpuset: "")
    }

    /// Calls `collect` now (samples stamped `realtimeNs`) and returns the samples it emitted.
    func collect(monotonicNs: Int64? = nil, realtimeNs: Int64 = 1_700_000_000_000_000_000) throws(PluginCallError) -> [PluginSample] {
        let before = samples.count
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        try instance.collect(monotonicNs: monotonicNs ?? Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec), realtimeNs: realtimeNs)
        return samples.since(before)
    }

    var logs: [String] { samples.logs }

    deinit { instance.destroy() }
}

/// Field lookups on a sample.
extension PluginSample {
    func integer(_ key: String) -> Int64? {
        for field in fields where field.key == key {
            if case .integer(let value) = field.value { return value }
        }
        return nil
    }

    func float(_ key: String) -> Double? {
        for field in fields where field.key == key {
            if case .float(let value) = field.value { return value }
        }
        return nil
    }

    var fieldNames: Set<String> { Set(fields.map(\.key)) }
}

/// Samples and log lines received from the plugin.
final class SampleStore: Sendable {
    private let state = Mutex<(samples: [PluginSample], logs: [String])>(([], []))
    func append(_ samples: [PluginSample]) { state.withLock { $0.samples += samples } }
    func log(_ line: String) { state.withLock { $0.logs.append(line) } }
    var count: Int { state.withLock { $0.samples.count } }
    func since(_ index: Int) -> [PluginSample] { state.withLock { Array($0.samples[index...]) } }
    var logs: [String] { state.withLock { $0.logs } }
}
