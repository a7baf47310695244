import Foundation
import PluginABI
import Testing
import TestKit

/// `rdt4nn run` into a real influxd: every sample the run emitted is in the
/// database, counted exactly.
@Suite(.serialized) struct RealRunTests {
    static func dockerReady() -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["docker", "image", "inspect", "rdt4nn/spin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test func aRealRunWritesEverySampleToInfluxd() throws {
        guard InfluxdProcess.executable != nil, Self.dockerReady() else {
            print("skipping: needs influxd, dockerd and the rdt4nn/spin image")
            return
        }
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let plugins = try TestSupport.makeTemporaryDirectory()
        chmod(plugins, 0o755)
        for name in ["rdt4nn-scheduler-default", "rdt4nn-sink-influx", "rdt4nn-dockerstats", "rdt4nn-perf"] {
            try FileManager.default.copyItem(atPath: TestSupport.productsDirectory + "/lib\(name).so", toPath: plugins + "/lib\(name).so")
        }
        let config = try TestSupport.makeTemporaryDirectory() + "/influx-run.yaml"
        try """
            benchmark:
              name: influx-run
              max_t: 3
              interval_ms: 50
              collectors: {dockerstats: true, perf: true}
              allow_shared_cores: true
              sink: {id: influx, config: {version: 1, url: "\(influxd.baseURL)", database: bench, gzip: true}}
            a: {image: rdt4nn/spin, cpus: "0"}
            b: {image: rdt4nn/spin, cpus: "1", start: 1}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let results = try TestSupport.makeTemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.productsDirectory + "/rdt4nn")
        process.arguments = ["run", "--quiet", "--plugins", plugins, "--results", results, config]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderr)")

        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: results).first)
        let metadata = try JSONValue.parse(try String(contentsOfFile: "\(results)/\(id)/metadata.json", encoding: .utf8))
        let sink = try #require(metadata["sinks"]?.arrayValue?.first)
        guard case .integer(let received)? = sink["received"], case .integer(let written)? = sink["written"] else {
            Issue.record("no sink summary in metadata")
            return
        }
        #expect(written == received)
        #expect(sink["pending"] == .integer(0))
        // Count every point of the run in influxd, measurement by measurement.
        let series = try influxd.query("SHOW MEASUREMENTS", database: "bench")
        let names = series["results"]?.arrayValue?.first?["series"]?.arrayValue?.first?["values"]?.arrayValue?.compactMap { $0.arrayValue?.first?.stringValue } ?? []
        #expect(Set(names).isSuperset(of: ["docker_stats", "perf", "rdt4nn_internal", "benchmark_meta"]), "\(names)")
        var stored = 0
        for (measurement, field) in [("docker_stats", "cpu_usage_ns"), ("perf", "task_clock_ns"), ("rdt4nn_internal", "collections"), ("benchmark_meta", "start_ns")] {
            stored += try influxd.count(field, in: measurement, database: "bench")
        }
        #expect(Int64(stored) == written, "influxd holds \(stored) points, the run wrote \(written)")
        #expect(stored > 150)
    }
}
