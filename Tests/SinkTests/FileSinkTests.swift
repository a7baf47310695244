import Foundation
import Gzip
import PluginABI
import PluginHost
import Testing

/// The `file` sink loaded from its built `.so`, as the host runs it.
struct FileSinkTests {
    static func descriptor() throws -> PluginDescriptor {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        let path = (executable as NSString).deletingLastPathComponent + "/librdt4nn-sink-file.so"
        return try #require(PluginLoader().load(files: [path]).plugin(id: "file"), "build the rdt4nn-sink-file product first")
    }

    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "rdt4nn-file-sink-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static let samples = [
        PluginSample(measurement: "perf", tags: [("container_name", "web"), ("benchmark_id", "b1")],
                     fields: [("task_clock_ns", .integer(1_000)), ("ipc", .float(1.25))], timestampNanoseconds: 10),
        PluginSample(measurement: "docker_stats", tags: [("container_name", "db, \"primary\"")],
                     fields: [("memory_usage_bytes", .unsigned(4096)), ("note", .string("a,b\n"))], timestampNanoseconds: 11),
        PluginSample(measurement: "perf", tags: [("container_name", "db")],
                     fields: [("task_clock_ns", .integer(2_000)), ("throttled", .boolean(true))], timestampNanoseconds: 12),
    ]

    func run(_ config: JSONValue, _ batches: [[PluginSample]]) throws -> [SinkWriteOutcome] {
        let sink = try SinkInstance(descriptor: try Self.descriptor(), instanceName: "file", config: config, log: { _ in })
        try sink.start()
        let outcomes = try batches.map { batch throws -> SinkWriteOutcome in try sink.write(batch) }
        try sink.flush()
        sink.destroy()
        return outcomes
    }

    @Test func lineProtocolFileHoldsEveryLineExactly() throws {
        let dir = try Self.directory()
        let outcomes = try run(.object([("directory", .string(dir))]), [Self.samples, Array(Self.samples.prefix(1))])
        #expect(outcomes.map(\.processedCount) == [3, 1])
        let text = try String(contentsOfFile: dir + "/metrics.lp", encoding: .utf8)
        #expect(text == """
            perf,benchmark_id=b1,container_name=web task_clock_ns=1000i,ipc=1.25 10
            docker_stats,container_name=db\\,\\ "primary" memory_usage_bytes=4096i,note="a,b\\\\n" 11
            perf,container_name=db task_clock_ns=2000i,throttled=true 12
            perf,benchmark_id=b1,container_name=web task_clock_ns=1000i,ipc=1.25 10

            """)
    }

    @Test func gzipFilesDecompressToTheSameLines() throws {
        let plain = try Self.directory()
        let zipped = try Self.directory()
        _ = try run(.object([("directory", .string(plain))]), [Self.samples, Self.samples])
        _ = try run(.object([("directory", .string(zipped)), ("gzip", .bool(true))]), [Self.samples, Self.samples])
        let compressed = Array(try Data(contentsOf: URL(fileURLWithPath: zipped + "/metrics.lp.gz")))
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        #expect(try Gzip.decompress(compressed) == Array(try Data(contentsOf: URL(fileURLWithPath: plain + "/metrics.lp"))))
    }

    @Test func csvGivesOneFilePerMeasurementWithAHeader() throws {
        let dir = try Self.directory()
        _ = try run(.object([("directory", .string(dir)), ("format", .string("csv"))]), [Self.samples])
        let perf = try String(contentsOfFile: dir + "/perf.csv", encoding: .utf8)
        #expect(perf == "timestamp_ns,container_name,benchmark_id,task_clock_ns,ipc\n10,web,b1,1000,1.25\n")
        // The third sample has a field the header lacks: it starts the next part.
        let perf1 = try String(contentsOfFile: dir + "/perf.1.csv", encoding: .utf8)
        #expect(perf1 == "timestamp_ns,container_name,benchmark_id,task_clock_ns,ipc,throttled\n12,db,,2000,,true\n")
        let stats = try String(contentsOfFile: dir + "/docker_stats.csv", encoding: .utf8)
        #expect(stats == "timestamp_ns,container_name,memory_usage_bytes,note\n11,\"db, \"\"primary\"\"\",4096,\"a,b\n\"\n")
    }

    @Test func unwritableSamplesAreRejectedWithTheReasonAndTheRestKept() throws {
        let dir = try Self.directory()
        let bad = PluginSample(measurement: "perf", fields: [("x", .float(.nan))], timestampNanoseconds: 1)
        let outcome = try run(.object([("directory", .string(dir))]), [[Self.samples[0], bad]])[0]
        #expect(outcome.status == .ok)
        #expect(outcome.rejectedIndices == [1])
        #expect(outcome.message?.contains("perf") == true)
        #expect(try String(contentsOfFile: dir + "/metrics.lp", encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func aMissingDirectoryIsAConfigurationError() throws {
        let sink = try SinkInstance(descriptor: try Self.descriptor(), instanceName: "file", config: .object([("directory", .string("/nonexistent/x"))]), log: { _ in })
        #expect {
            try sink.start()
        } throws: { error in
            (error as? PluginCallError)?.message == "'directory' /nonexistent/x does not exist or is not a directory"
        }
        sink.destroy()
        #expect(throws: PluginCallError.self) {
            try SinkInstance(descriptor: try Self.descriptor(), instanceName: "file", config: .object([]), log: { _ in })
        }
    }
}
