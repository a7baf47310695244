import Foundation
import Gzip
import InfluxWrite
import LineProtocol
import Pipeline
import PluginABI
import ResultsUpload
import Testing
import TestKit

/// `rdt4nn upload` end to end against a real influxd: a results directory
/// with a metrics file and a spool file, uploaded twice.
@Suite(
    "upload a results directory into influxd", .serialized,
    .enabled(if: InfluxdProcess.executable != nil, "influxd is not installed ($INFLUXD or PATH)"),
    .timeLimit(.minutes(3)))
struct UploadTests {
    /// Writes `metrics.lp` (or `.gz`, in several gzip members like the file sink)
    /// with `count` lines and a spool file with `spooled` samples.
    static func resultsDirectory(count: Int, spooled: Int, gzip: Bool) throws -> String {
        let directory = try TestSupport.makeTemporaryDirectory()
        var encoder = LineProtocolEncoder()
        var file: [UInt8] = []
        var member: [UInt8] = []
        for sample in TestSupport.samples(0..<count, measurement: "perf") {
            try encoder.append(Point(measurement: sample.measurement, tags: sample.tags.map { Tag($0.key, $0.value) },
                                     fields: [Field("seq", .integer(Int64(sample.timestampNanoseconds % 1_000_000_007)))],
                                     timestampNanoseconds: sample.timestampNanoseconds), to: &member)
            if member.count > 100_000 {
                file += gzip ? try Gzip.compress(member) : member
                member = []
            }
        }
        file += gzip ? try Gzip.compress(member) : member
        // A comment and a blank line, as a hand-edited file may have.
        if !gzip { file = Array("# exported by rdt4nn\n\n".utf8) + file }
        try Data(file).write(to: URL(fileURLWithPath: directory + (gzip ? "/metrics.lp.gz" : "/metrics.lp")))
        let spool = SpoolFile(path: directory + "/spool-influx.jsonl")
        try spool.append(TestSupport.samples(0..<spooled, measurement: "spooled"))
        spool.close()
        return directory
    }

    @Test(arguments: [false, true])
    func uploadingTwiceGivesExactCountsThatDoNotDouble(gzip: Bool) throws {
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let directory = try Self.resultsDirectory(count: 12_345, spooled: 777, gzip: gzip)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let settings = InfluxSettings(url: influxd.baseURL, database: "uploaded")
        for round in 1...2 {
            var reports: [UploadProgress] = []
            let summary = try ResultsUploader(settings: settings).upload(directory: directory) { reports.append($0) }
            #expect(summary.written == 12_345 + 777, "round \(round)")
            #expect(summary.rejected == 0)
            #expect(summary.files.map { ($0.path as NSString).lastPathComponent } == [gzip ? "metrics.lp.gz" : "metrics.lp", "spool-influx.jsonl"])
            #expect(summary.requests == 3, "batches of 5000 lines (spanning files): 13,122 lines in 3 requests")
            #expect(reports.last?.bytesRead == reports.last?.totalBytes)
            #expect(reports.last?.points == 12_345 + 777)
            #expect(try influxd.count("seq", in: "perf", database: "uploaded") == 12_345, "round \(round)")
            #expect(try influxd.count("seq", in: "spooled", database: "uploaded") == 777, "round \(round)")
        }
    }

    @Test func theCommandLineUploadsAndReportsTheCount() throws {
        // The rdt4nn binary next to the tests, or $RDT4NN_UPLOAD_BINARY (a build with the upload command).
        let binary = ProcessInfo.processInfo.environment["RDT4NN_UPLOAD_BINARY"] ?? TestSupport.productsDirectory + "/rdt4nn"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: build the rdt4nn product first")
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let directory = try Self.resultsDirectory(count: 6_000, spooled: 10, gzip: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for _ in 1...2 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["upload", directory, "--to", influxd.baseURL, "--database", "cli"]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let progress = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)\(progress)")
            #expect(text.contains("6010 point(s) written, 0 rejected"), "\(text)")
            #expect(progress.contains("upload: 100% (6010 points"), "plain progress lines when not on a terminal: \(progress)")
            #expect(try influxd.count("seq", in: "perf", database: "cli") == 6_000)
        }
    }

    @Test func aDirectoryWithoutSamplesIsAClearError() throws {
        let directory = try TestSupport.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("timestamp_ns,v\n".utf8).write(to: URL(fileURLWithPath: directory + "/perf.csv"))
        let error = try #require(throws: UploadError.self) { try ResultsUploader.sources(in: directory) }
        #expect(error.message.contains("no metrics.lp, metrics.lp.gz or spool-*.jsonl"))
        #expect(error.message.contains("CSV"))
    }
}
