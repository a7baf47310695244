import Foundation
import LineProtocol
import PluginABI
import PluginHost
import Synchronization
import Testing
import TestKit

@testable import InfluxWrite

/// The expected line protocol of `samples` (the encoder's exact output).
private func expectedLines(_ samples: [PluginSample]) throws -> [String] {
    var encoder = LineProtocolEncoder()
    return try samples.map { sample in
        var line = try encoder.line(for: Point(
            measurement: sample.measurement, tags: sample.tags.map { Tag($0.key, $0.value) },
            fields: sample.fields.map { field in
                switch field.value {
                case .float(let d): Field(field.key, .float(d))
                case .integer(let i): Field(field.key, .integer(i))
                case .unsigned(let u): Field(field.key, .unsigned(u))
                case .boolean(let b): Field(field.key, .boolean(b))
                case .string(let s): Field(field.key, .string(s))
                }
            },
            timestampNanoseconds: sample.timestampNanoseconds))
        line.removeLast()
        return line
    }
}

/// The `influx` sink against a loopback HTTP server written for the tests:
/// the v2 request format and the responses a local influxd 1.6 cannot give.
@Suite("influx sink against a loopback HTTP server", .timeLimit(.minutes(2)))
struct LoopbackSinkTests {
    /// 204 for /ping, empty probes and writes, unless `write` says otherwise;
    /// /query (CREATE DATABASE) succeeds.
    static func server(write: @escaping @Sendable (RecordedRequest) -> CannedResponse = { _ in CannedResponse(status: 204) }) throws -> LoopbackServer {
        try LoopbackServer { request in
            if request.path == "/ping" { return CannedResponse(status: 204) }
            if request.path == "/query" { return CannedResponse(status: 200, body: #"{"results":[{"statement_id":0}]}"#) }
            if request.body.isEmpty { return CannedResponse(status: 204) }
            return write(request)
        }
    }

    @Test func withoutAGzipKeyALoopbackServerGetsPlainBodies() throws {
        let server = try Self.server()
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("plain"))])
        defer { sink.destroy() }
        try sink.start()
        let samples = TestSupport.samples(0..<10)
        #expect(try sink.write(samples).status == .ok)
        let write = try #require(server.writes.first)
        #expect(write.header("Content-Encoding") == nil)
        #expect(write.lines == (try expectedLines(samples)))
    }

    @Test func v2RequestsCarryTokenGzipOrgBucketAndTheExactLines() throws {
        let server = try Self.server()
        defer { server.stop() }
        let sink = try TestSupport.sink([
            ("version", .integer(2)), ("url", .string(server.baseURL + "/")), ("bucket", .string("rdt bucket/x")),
            ("org", .string("my org&co")), ("token", .string("tok-123=")), ("gzip", .bool(true)),
        ])
        defer { sink.destroy() }
        try sink.start()
        let samples = TestSupport.samples(0..<1_500)
        let outcome = try sink.write(samples)
        #expect(outcome.status == .ok && outcome.processedCount == 1_500 && outcome.httpStatus == 204)

        let pings = server.requests.filter { $0.path == "/ping" }
        #expect(pings.count == 1 && pings[0].method == "GET")
        let writes = server.writes
        try #require(writes.count == 1)
        let write = writes[0]
        #expect(write.method == "POST")
        #expect(write.path == "/api/v2/write")
        #expect(write.parameter("org") == "my org&co")
        #expect(write.parameter("bucket") == "rdt bucket/x")
        #expect(write.parameter("precision") == "ns")
        #expect(write.parameter("db") == nil)
        #expect(write.header("Authorization") == "Token tok-123=")
        #expect(write.header("Content-Encoding") == "gzip")
        #expect(write.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(write.body.prefix(2) == [0x1F, 0x8B])
        #expect(write.lines == (try expectedLines(samples)))
        #expect(write.content.last == UInt8(ascii: "\n"))
    }

    @Test func v1RequestsUseBasicAuthAndDatabaseRetentionPolicyParameters() throws {
        let server = try Self.server()
        defer { server.stop() }
        let sink = try TestSupport.sink([
            ("url", .string(server.baseURL)), ("database", .string("db one")), ("retention_policy", .string("rp\"x")),
            ("username", .string("writer")), ("password", .string("p:w")), ("gzip", .bool(false)),
            ("create_database", .bool(false)),
        ])
        defer { sink.destroy() }
        try sink.start()
        let samples = TestSupport.samples(0..<10)
        #expect(try sink.write(samples).status == .ok)
        let write = try #require(server.writes.first)
        #expect(write.path == "/write")
        #expect(write.parameter("db") == "db one" && write.parameter("rp") == "rp\"x" && write.parameter("precision") == "ns")
        #expect(write.header("Authorization") == "Basic " + Base64.encode(Array("writer:p:w".utf8)))
        #expect(write.header("Content-Encoding") == nil)
        #expect(write.lines == (try expectedLines(samples)))
        #expect(!write.rawTarget.contains("p:w") && !write.rawTarget.contains("p%3Aw"))
    }

    @Test func tooLargeBatchesAreSplitAndSentInOrder() throws {
        // 413 for any request over 100 lines.
        let server = try Self.server { request in
            CannedResponse(status: request.lines.count > 100 ? 413 : 204, body: request.lines.count > 100 ? #"{"error":"Request Entity Too Large"}"# : "")
        }
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("d"))])
        defer { sink.destroy() }
        try sink.start()
        let samples = TestSupport.samples(0..<450)
        let outcome = try sink.write(samples)
        #expect(outcome.status == .ok && outcome.processedCount == 450 && outcome.rejectedIndices.isEmpty)
        let stored = server.writes.filter { $0.lines.count <= 100 }.flatMap(\.lines)
        #expect(stored == (try expectedLines(samples)), "every line exactly once, in order")
    }

    @Test func aSplitThatStopsHalfwayReportsThePartWritten() throws {
        // 413 over 100 lines; the server goes down once 200 lines are stored.
        let stored = Mutex(0)
        let server = try Self.server { request in
            if request.lines.count > 100 { return CannedResponse(status: 413) }
            return stored.withLock { count in
                guard count < 200 else { return CannedResponse(status: 503, headers: [("Retry-After", "3")]) }
                count += request.lines.count
                return CannedResponse(status: 204)
            }
        }
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("d"))])
        defer { sink.destroy() }
        try sink.start()
        let outcome = try sink.write(TestSupport.samples(0..<400))
        #expect(outcome.status == .retry)
        #expect(outcome.processedCount == stored.withLock { $0 })
        #expect(outcome.processedCount == 200)
        #expect(outcome.retryAfterNs == 3_000_000_000)
        #expect(outcome.httpStatus == 503)
    }

    @Test func aSingleLineTooLargeIsRejected() throws {
        let server = try Self.server { request in
            CannedResponse(status: request.content.count > 10_000 ? 413 : 204)
        }
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("d"))])
        defer { sink.destroy() }
        try sink.start()
        var samples = TestSupport.samples(0..<20)
        samples[13].fields.append(("blob", .string(String(repeating: "z", count: 20_000))))
        let outcome = try sink.write(samples)
        #expect(outcome.status == .ok && outcome.processedCount == 20)
        #expect(outcome.rejectedIndices == [13])
        #expect((outcome.message ?? "").contains("413"), "\(outcome.message ?? "")")
        #expect(server.writes.filter { $0.content.count <= 10_000 }.flatMap(\.lines).count == 19)
    }

    @Test(arguments: [429, 503])
    func throttlingHonoursRetryAfterInSeconds(status: Int) throws {
        let server = try Self.server { _ in CannedResponse(status: status, headers: [("Retry-After", "7")], body: #"{"code":"too many requests"}"#) }
        defer { server.stop() }
        let sink = try TestSupport.sink([("version", .integer(2)), ("url", .string(server.baseURL)), ("bucket", .string("b")), ("org", .string("o")), ("token", .string("t"))])
        defer { sink.destroy() }
        try sink.start()
        let outcome = try sink.write(TestSupport.samples(0..<10))
        #expect(outcome.status == .retry)
        #expect(outcome.processedCount == 0)
        #expect(outcome.retryAfterNs == 7_000_000_000)
        #expect(outcome.httpStatus == Int32(status))
        #expect((outcome.message ?? "").contains(server.baseURL))
    }

    @Test func throttlingHonoursRetryAfterAsAnHTTPDate() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = formatter.string(from: Date().addingTimeInterval(30))
        let server = try Self.server { _ in CannedResponse(status: 503, headers: [("Retry-After", date)]) }
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("d"))])
        defer { sink.destroy() }
        try sink.start()
        let outcome = try sink.write(TestSupport.samples(0..<10))
        #expect(outcome.status == .retry)
        #expect((27_000_000_000...31_000_000_000).contains(outcome.retryAfterNs), "Retry-After \(date) gave \(outcome.retryAfterNs) ns")
    }

    @Test func serverErrorsAndTimeoutsAreRetried() throws {
        let slow = Mutex(false)
        let server = try Self.server { _ in
            if slow.withLock({ $0 }) { usleep(1_500_000) }
            return CannedResponse(status: 500, body: #"{"error":"timeout"}"#)
        }
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("d")), ("timeout_ms", .integer(500))])
        defer { sink.destroy() }
        try sink.start()
        let failed = try sink.write(TestSupport.samples(0..<5))
        #expect(failed.status == .retry && failed.processedCount == 0 && failed.httpStatus == 500)
        slow.withLock { $0 = true }
        let timedOut = try sink.write(TestSupport.samples(0..<5))
        #expect(timedOut.status == .retry && timedOut.processedCount == 0 && timedOut.httpStatus == 0)
        #expect((timedOut.message ?? "").contains("did not answer within 500 ms"), "\(timedOut.message ?? "")")
    }

    @Test func unauthorizedIsAPermissionErrorThatNeverShowsTheToken() throws {
        let server = try Self.server { _ in CannedResponse(status: 401, body: #"{"code":"unauthorized","message":"unauthorized access"}"#) }
        defer { server.stop() }
        let sink = try TestSupport.sink([
            ("version", .integer(2)), ("url", .string(server.baseURL)), ("bucket", .string("metrics")), ("org", .string("lab")),
            ("token", .string("very-secret-token")),
        ])
        defer { sink.destroy() }
        try sink.start()
        let outcome = try sink.write(TestSupport.samples(0..<5))
        #expect(outcome.status == .permission)
        #expect(outcome.processedCount == 0)
        let message = outcome.message ?? ""
        #expect(message.contains("bucket \"metrics\" (org \"lab\")"), "\(message)")
        #expect(message.contains("the configured token"))
        #expect(!message.contains("very-secret-token"))
    }

    @Test func aMissingBucketIsAConfigErrorAtStart() throws {
        let server = try LoopbackServer { request in
            request.path == "/ping" ? CannedResponse(status: 204) : CannedResponse(status: 404, body: #"{"code":"not found","message":"bucket \"nope\" not found"}"#)
        }
        defer { server.stop() }
        let sink = try TestSupport.sink([
            ("version", .integer(2)), ("url", .string(server.baseURL)), ("bucket", .string("nope")), ("org", .string("lab")), ("token", .string("t")),
        ])
        defer { sink.destroy() }
        let error = try #require(throws: PluginCallError.self) { try sink.start() }
        #expect(error.status == .config)
        #expect(error.message.contains("bucket \"nope\""), "\(error.message)")
    }

    @Test func unhelpfulRejectionsAreIsolatedByBisection() throws {
        // 400 without naming a line whenever the request holds a line with `bad=`.
        let server = try Self.server { request in
            request.lines.contains { $0.contains(" bad=") || $0.contains(",bad=") }
                ? CannedResponse(status: 400, body: #"{"code":"invalid","message":"something went wrong"}"#)
                : CannedResponse(status: 204)
        }
        defer { server.stop() }
        let sink = try TestSupport.sink([("url", .string(server.baseURL)), ("database", .string("d"))])
        defer { sink.destroy() }
        try sink.start()
        var samples = TestSupport.samples(0..<64)
        for index in [5, 40, 41] { samples[index].fields.append(("bad", .integer(1))) }
        let outcome = try sink.write(samples)
        #expect(outcome.status == .ok && outcome.processedCount == 64)
        #expect(outcome.rejectedIndices == [5, 40, 41])
        #expect((outcome.message ?? "").contains("something went wrong"))
        let stored = Set(server.writes.filter { !$0.lines.contains { $0.contains("bad=") } }.flatMap(\.lines))
        let expected = try expectedLines(samples)
        #expect(stored == Set(expected.enumerated().filter { ![5, 40, 41].contains($0.offset) }.map(\.element)))
        #expect(server.writes.count <= 3 * 2 * 6 + 1, "bisection stays around k·2·log2(n) requests, made \(server.writes.count)")
    }

    @Test func v2LineNumbersAndQuotedParseErrorsNameTheLines() throws {
        // 2.x rejects the whole batch with 400 and the first bad line's number;
        // 1.x quotes the line. Bad lines carry `bad=`.
        let server = try Self.server { request in
            let lines = request.lines
            guard let first = lines.firstIndex(where: { $0.contains("bad=") }) else { return CannedResponse(status: 204) }
            if request.path == "/api/v2/write" {
                return CannedResponse(status: 400, body: #"{"code":"invalid","message":"failed to parse line protocol: errors encountered on line(s):\nerror parsing line \#(first + 1) (1-based): Invalid field","line":\#(first + 1)}"#)
            }
            let quoted = lines.filter { $0.contains("bad=") }.map { "unable to parse '\($0)': invalid boolean" }.joined(separator: "\n")
            return CannedResponse(status: 400, body: JSONValue.object([("error", .string("partial write: \(quoted) dropped=0"))]).jsonText)
        }
        defer { server.stop() }
        for version in [1, 2] {
            let config: [(String, JSONValue)] = version == 2
                ? [("version", .integer(2)), ("url", .string(server.baseURL)), ("bucket", .string("b")), ("org", .string("o")), ("token", .string("t"))]
                : [("url", .string(server.baseURL)), ("database", .string("d"))]
            let sink = try TestSupport.sink(config)
            defer { sink.destroy() }
            try sink.start()
            var samples = TestSupport.samples(0..<50)
            for index in [2, 30] { samples[index].fields.append(("bad", .integer(1))) }
            let before = server.writes.count
            let outcome = try sink.write(samples)
            #expect(outcome.status == .ok && outcome.processedCount == 50)
            #expect(outcome.rejectedIndices == [2, 30], "v\(version): \(outcome.message ?? "")")
            let requests = server.writes.count - before
            #expect(requests <= 3, "v\(version): named lines need no bisection, made \(requests) requests")
            if version == 1 { #expect((outcome.message ?? "").contains("unable to parse: invalid boolean")) }
        }
    }
}

/// Pure functions of InfluxWrite.
struct InfluxWriteUnitTests {
    @Test func retryAfterParsesSecondsAndBothDateForms() {
        #expect(RetryAfter.nanoseconds("120", nowSeconds: 0) == 120_000_000_000)
        #expect(RetryAfter.nanoseconds("100000", nowSeconds: 0) == RetryAfter.capNanoseconds)
        #expect(RetryAfter.unixTime(ofHTTPDate: "Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.unixTime(ofHTTPDate: "Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(RetryAfter.nanoseconds("Sun, 06 Nov 1994 08:49:47 GMT", nowSeconds: 784_111_777) == 10_000_000_000)
        #expect(RetryAfter.nanoseconds("Sun, 06 Nov 1994 08:49:37 GMT", nowSeconds: 784_111_800) == 0)
        #expect(RetryAfter.nanoseconds("soon", nowSeconds: 0) == nil)
        #expect(RetryAfter.nanoseconds(nil, nowSeconds: 0) == nil)
    }

    @Test func lineScannerReadsMeasurementsAndFieldTypes() {
        let line = Array(#"my\ m\,x,t=a\ b f\ 1=1i,s="a,b \"c\" d=1.0",b=T,u=3u,x=-1.5e3 123"#.utf8)[...]
        #expect(LineScanner.measurement(of: line) == Array("my m,x".utf8))
        #expect(LineScanner.fieldType(of: Array("f 1".utf8), in: line) == "integer")
        #expect(LineScanner.fieldType(of: Array("s".utf8), in: line) == "string")
        #expect(LineScanner.fieldType(of: Array("b".utf8), in: line) == "boolean")
        #expect(LineScanner.fieldType(of: Array("u".utf8), in: line) == "unsigned")
        #expect(LineScanner.fieldType(of: Array("x".utf8), in: line) == "float")
        #expect(LineScanner.fieldType(of: Array("d".utf8), in: line) == nil)
    }

    @Test func gzipIsOnByDefaultExceptForAServerOnThisMachine() {
        for url in ["http://127.0.0.1:8086", "http://localhost", "HTTP://LocalHost:8086/prefix", "http://127.3.2.1:1", "http://[::1]:8086", "http://[0:0:0:0:0:0:0:1]"] {
            #expect(InfluxSettings(url: url).isLoopback, "\(url)")
            #expect(!InfluxSettings.defaultGzip(url: url), "\(url)")
        }
        for url in ["http://10.0.0.1:8086", "https://influx.example.com", "http://127.0.0.1.example.com:8086", "http://localhost.example.com", "http://[::2]:8086", "http://128.0.0.1"] {
            #expect(!InfluxSettings(url: url).isLoopback, "\(url)")
            #expect(InfluxSettings.defaultGzip(url: url), "\(url)")
        }
    }

    @Test func settingsAreCheckedWithMessagesNamingTheKey() {
        func message(_ settings: InfluxSettings) -> String? {
            do { try settings.validate(); return nil } catch { return error.message }
        }
        #expect(message(InfluxSettings(url: "127.0.0.1:8086", database: "d"))?.contains("'url'") == true)
        #expect(message(InfluxSettings(url: "http://u:p@h:8086", database: "d"))?.contains("credentials") == true)
        #expect(message(InfluxSettings(url: "http://h:8086"))?.contains("'database' is required") == true)
        #expect(message(InfluxSettings(version: .v2, url: "http://h:8086", database: "d"))?.contains("set 'bucket'") == true)
        #expect(message(InfluxSettings(url: "http://h:8086", database: "d", username: "u"))?.contains("'password'") == true)
        #expect(message(InfluxSettings(url: "http://h:8086", database: "d", username: "u", password: "p", token: "t"))?.contains("not both") == true)
        #expect(message(InfluxSettings(version: .v2, url: "http://h:8086", bucket: "b", retentionPolicy: "rp"))?.contains("'retention_policy'") == true)
        #expect(message(InfluxSettings(version: .v2, url: "https://h/prefix/", bucket: "b", org: "o", token: "t")) == nil)
        #expect(InfluxSettings(url: "http://h:8086///", database: "d").baseURL == "http://h:8086")
        #expect(Base64.encode(Array("Aladdin:open sesame".utf8)) == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    }
}
