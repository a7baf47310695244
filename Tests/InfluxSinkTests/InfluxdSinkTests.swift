import Foundation
import Pipeline
import PluginABI
import PluginHost
import Synchronization
import Testing
import TestKit

/// The `influx` sink, loaded from its `.so` through the host's `SinkInstance`,
/// against a real influxd 1.x.
@Suite(
    "influx sink against a real influxd", .serialized,
    .enabled(if: InfluxdProcess.executable != nil, "influxd is not installed ($INFLUXD or PATH)"),
    .timeLimit(.minutes(3)))
struct InfluxdSinkTests {
    @Test func pointsWrittenThroughThePluginAreCountedExactly() throws {
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        for gzip in [true, false] {
            let database = gzip ? "rdt_gzip" : "rdt_plain"
            let sink = try TestSupport.sink([("url", .string(influxd.baseURL)), ("database", .string(database)), ("gzip", .bool(gzip))])
            try sink.start()
            defer { sink.destroy() }
            let batches = [0..<5_000, 5_000..<10_000, 10_000..<11_234]
            for range in batches {
                let outcome = try sink.write(TestSupport.samples(range))
                #expect(outcome.status == .ok, "\(outcome.message ?? "")")
                #expect(outcome.processedCount == range.count)
                #expect(outcome.rejectedIndices.isEmpty)
                #expect(outcome.httpStatus == 204)
            }
            try sink.flush()
            #expect(try influxd.count("seq", in: "perf", database: database) == 11_234)
            // One point read back field by field (escaping of tags and strings included).
            let json = try influxd.query(
                "SELECT * FROM perf WHERE time = \(1_732_874_400_000_000_000 + 4_321 * 1_000)", database: database)
            let series = try #require(json["results"]?.arrayValue?.first?["series"]?.arrayValue?.first)
            let columns = (series["columns"]?.arrayValue ?? []).compactMap(\.stringValue)
            let row = try #require(series["values"]?.arrayValue?.first?.arrayValue)
            let values = Dictionary(uniqueKeysWithValues: zip(columns, row))
            #expect(values["seq"]?.doubleValue == 4_321)
            #expect(values["state"]?.stringValue == "run \"4321\"")
            #expect(values["container_name"]?.stringValue == "c 1, \"x\"")
            #expect(values["ok"] == .bool(false))
        }
    }

    @Test func aLargeBatchCompressedInPartsIsWrittenWhole() throws {
        // 20,000 points make a body of several MB: compressed as one gzip
        // member per CPU, which influxd must read as one stream.
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let sink = try TestSupport.sink([("url", .string(influxd.baseURL)), ("database", .string("rdt_big")), ("gzip", .bool(true))])
        try sink.start()
        defer { sink.destroy() }
        let outcome = try sink.write(TestSupport.samples(0..<20_000))
        #expect(outcome.status == .ok, "\(outcome.message ?? "")")
        #expect(outcome.processedCount == 20_000)
        try sink.flush()
        #expect(try influxd.count("seq", in: "perf", database: "rdt_big") == 20_000)
    }

    @Test func outageWithThePipelineLosesNothingAndSpoolsBeyondTheBuffer() throws {
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let directory = try TestSupport.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let sink = try TestSupport.sink([
            ("url", .string(influxd.baseURL)), ("database", .string("outage")), ("timeout_ms", .integer(500)),
        ])
        try sink.start()
        defer { sink.destroy() }
        let bufferLimit = 600
        let policy = SinkPolicy(
            bufferLimit: bufferLimit, batchSize: 200, flushIntervalNs: 50_000_000, overflow: .spool,
            spoolPath: directory + "/spool-influx.jsonl", maximumBackoffNs: 400_000_000, finalFlushTimeoutNs: 30_000_000_000)
        let logged = Mutex<[String]>([])
        let pipeline = Pipeline(sinks: [("influx", sink, policy)], log: { line in logged.withLock { $0.append(line) } })

        var emitted = 0
        var maximumBacklog = 0
        func emit(for seconds: Double) {
            let end = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
            while ContinuousClock.now < end {
                pipeline.submit(TestSupport.samples(emitted..<(emitted + 20), measurement: "outage"))
                emitted += 20
                maximumBacklog = max(maximumBacklog, pipeline.backlog)
                usleep(10_000)
            }
        }
        emit(for: 1.0)
        influxd.pause()   // requests time out
        emit(for: 2.0)
        influxd.resume()
        emit(for: 1.0)
        influxd.kill9()   // connections refused
        emit(for: 1.5)
        try influxd.restart()
        emit(for: 1.0)

        // Wait for the spool to drain, then finish.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            maximumBacklog = max(maximumBacklog, pipeline.backlog)
            let summary = try #require(pipeline.summaries.first)
            if summary.pendingInSpool == 0 && summary.pendingInMemory == 0 { break }
            usleep(100_000)
        }
        let summary = try #require(pipeline.finish().first)
        let log = logged.withLock { $0 }.joined(separator: "\n")
        #expect(summary.received == emitted)
        #expect(summary.written == emitted, "\(summary)\n\(log)")
        #expect(summary.rejected == 0 && summary.dropped == 0 && summary.failure == nil, "\(summary)")
        #expect(summary.spooled > 0, "the outage should have overflowed the \(bufferLimit)-sample buffer into the spool: \(summary)")
        #expect(summary.retries > 0)
        #expect(summary.pendingInMemory == 0 && summary.pendingInSpool == 0, "\(summary)")
        #expect(maximumBacklog <= bufferLimit)
        let stored = try influxd.count("seq", in: "outage", database: "outage")
        var missing = ""
        if stored != emitted {
            let rows = try influxd.query("SELECT seq FROM outage", database: "outage")["results"]?.arrayValue?.first?["series"]?.arrayValue?.first?["values"]?.arrayValue ?? []
            let present = Set(rows.compactMap { $0.arrayValue?.last?.doubleValue }.map { Int($0) })
            let absent = (0..<emitted).filter { !present.contains($0) }
            missing = "missing seq \(absent.first ?? -1)...\(absent.last ?? -1) (\(absent.count))"
        }
        #expect(stored == emitted, "influxd holds \(stored) of \(emitted) points, \(missing); \(summary)\n\(log)")
    }

    @Test func missingDatabaseWithoutCreateIsAConfigErrorNamingIt() throws {
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let sink = try TestSupport.sink([
            ("url", .string(influxd.baseURL)), ("database", .string("no_such_db")), ("create_database", .bool(false)),
        ])
        defer { sink.destroy() }
        let error = try #require(throws: PluginCallError.self) { try sink.start() }
        #expect(error.status == .config)
        #expect(error.function == "start")
        #expect(error.message.contains("\"no_such_db\""), "\(error.message)")
        #expect(error.message.contains(influxd.baseURL))
        // The same database with create_database (the default) is created at start.
        let creating = try TestSupport.sink([("url", .string(influxd.baseURL)), ("database", .string("no_such_db"))])
        defer { creating.destroy() }
        try creating.start()
        #expect(try creating.write(TestSupport.samples(0..<3)).processedCount == 3)
        #expect(try influxd.count("seq", in: "perf", database: "no_such_db") == 3)
    }

    @Test func wrongCredentialsAreAPermissionErrorNamingUserAndDatabase() throws {
        let influxd = try InfluxdProcess(authEnabled: true)
        defer { influxd.stop() }
        try influxd.execute("CREATE USER \"admin\" WITH PASSWORD 's3cret-pw' WITH ALL PRIVILEGES")
        try influxd.execute("CREATE DATABASE \"secured\"", username: "admin", password: "s3cret-pw")

        let wrong = try TestSupport.sink([
            ("url", .string(influxd.baseURL)), ("database", .string("secured")),
            ("username", .string("admin")), ("password", .string("wrong-password")),
        ])
        defer { wrong.destroy() }
        let error = try #require(throws: PluginCallError.self) { try wrong.start() }
        #expect(error.status == .permission)
        #expect(error.message.contains("user \"admin\""), "\(error.message)")
        #expect(error.message.contains("database \"secured\""), "\(error.message)")
        #expect(!error.message.contains("wrong-password"))

        let anonymous = try TestSupport.sink([("url", .string(influxd.baseURL)), ("database", .string("secured"))])
        defer { anonymous.destroy() }
        #expect(throws: PluginCallError.self) { try anonymous.start() }

        let right = try TestSupport.sink([
            ("url", .string(influxd.baseURL)), ("database", .string("secured")),
            ("username", .string("admin")), ("password", .string("s3cret-pw")),
        ])
        defer { right.destroy() }
        try right.start()
        #expect(try right.write(TestSupport.samples(0..<5)).status == .ok)
        #expect(try influxd.count("seq", in: "perf", database: "secured", username: "admin", password: "s3cret-pw") == 5)
    }

    @Test func fieldTypeConflictsAreRejectedWithTheReasonAndTheRestWritten() throws {
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        let sink = try TestSupport.sink([("url", .string(influxd.baseURL)), ("database", .string("conflicts"))])
        try sink.start()
        defer { sink.destroy() }
        func point(_ index: Int, _ value: PluginFieldValue) -> PluginSample {
            PluginSample(measurement: "m", tags: [("container_name", "c\(index % 3)")],
                         fields: [("seq", .integer(Int64(index))), ("value", value)], timestampNanoseconds: 1_000 + Int64(index))
        }
        let first = try sink.write((0..<10).map { point($0, .integer(Int64($0))) })
        #expect(first.status == .ok && first.rejectedIndices.isEmpty)
        // `value` is an integer now: floats, strings and booleans conflict.
        let bad: [Int: PluginFieldValue] = [3: .float(1.5), 7: .float(2.5), 11: .string("eleven"), 15: .boolean(true)]
        let second = try sink.write((10..<30).map { index in point(index, bad[index - 10] ?? .integer(Int64(index))) })
        #expect(second.status == .ok)
        #expect(second.processedCount == 20)
        #expect(second.rejectedIndices == [3, 7, 11, 15])
        let message = second.message ?? ""
        #expect(message.contains("field type conflict"), "\(message)")
        #expect(message.contains("input field \"value\" on measurement \"m\" is type float, already exists as type integer"), "\(message)")
        #expect(message.contains("is type string"), "\(message)")
        #expect(try influxd.count("seq", in: "m", database: "conflicts") == 26)
    }

    @Test func pointsBeyondTheRetentionPolicyAreIsolatedByBisection() throws {
        // influxd names no line in "points beyond retention policy": the sink bisects.
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }
        try influxd.execute("CREATE DATABASE \"rp\" WITH DURATION 1h NAME \"short\"")
        let sink = try TestSupport.sink([("url", .string(influxd.baseURL)), ("database", .string("rp"))])
        try sink.start()
        defer { sink.destroy() }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let recent = Int64(now.tv_sec) * 1_000_000_000
        let old: Set<Int> = [0, 17, 18, 63]
        let samples = (0..<64).map { index in
            PluginSample(measurement: "m", fields: [("seq", .integer(Int64(index)))],
                         timestampNanoseconds: old.contains(index) ? 1_000_000 + Int64(index) : recent - Int64(index) * 1_000)
        }
        let outcome = try sink.write(samples)
        #expect(outcome.status == .ok)
        #expect(outcome.rejectedIndices == old.sorted())
        #expect((outcome.message ?? "").contains("beyond retention policy"), "\(outcome.message ?? "")")
        #expect(try influxd.count("seq", in: "m", database: "rp") == 60)
    }

    @Test func unreachableServerAtStartIsARetryNamingTheURL() throws {
        // A port that was free a moment ago: nothing listens.
        let server = try LoopbackServer { _ in CannedResponse(status: 204) }
        let url = server.baseURL
        server.stop()
        let sink = try TestSupport.sink([("url", .string(url)), ("database", .string("x")), ("timeout_ms", .integer(1_000))])
        defer { sink.destroy() }
        let error = try #require(throws: PluginCallError.self) { try sink.start() }
        #expect(error.status == .retry)
        #expect(error.message.contains(url), "\(error.message)")
    }
}
