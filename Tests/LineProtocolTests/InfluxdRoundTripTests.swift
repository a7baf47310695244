import Foundation
import LineProtocol
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A private influxd (1.x) on free 127.0.0.1 ports with its own data, meta and
/// WAL directories, stopped and removed by ``stop()``.
final class PrivateInfluxd {
    /// The influxd to run: `$INFLUXD`, else `influxd` on `PATH`, else nil.
    static let executable: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["INFLUXD"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        for directory in (environment["PATH"] ?? "/usr/bin:/usr/sbin").split(separator: ":") {
            let path = "\(directory)/influxd"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }()

    let baseURL: URL
    private let directory: URL
    private let process: Process

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(executable: String) async throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("lp-influxd-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (httpPort, rpcPort) = try Self.twoFreePorts()
        baseURL = URL(string: "http://127.0.0.1:\(httpPort)")!
        let root = directory.path
        let config = """
            reporting-enabled = false
            bind-address = "127.0.0.1:\(rpcPort)"
            [meta]
              dir = "\(root)/meta"
              logging-enabled = false
            [data]
              dir = "\(root)/data"
              wal-dir = "\(root)/wal"
              query-log-enabled = false
            [monitor]
              store-enabled = false
            [http]
              enabled = true
              bind-address = "127.0.0.1:\(httpPort)"
              log-enabled = false
              pprof-enabled = false
            [logging]
              level = "warn"
              suppress-logo = true
            [continuous_queries]
              enabled = false
            [retention]
              enabled = false
            [shard-precreation]
              enabled = false
            [subscriber]
              enabled = false
            [[graphite]]
              enabled = false
            [[collectd]]
              enabled = false
            [[opentsdb]]
              enabled = false
            [[udp]]
              enabled = false

            """
        let configURL = directory.appendingPathComponent("influxd.conf")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        let logURL = directory.appendingPathComponent("influxd.log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)

        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", "-config", configURL.path]
        process.standardOutput = log
        process.standardError = log
        try process.run()

        // Wait for /ping (influxd takes about a second to open its stores).
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if !process.isRunning {
                throw Failure(description: "influxd exited during start-up:\n\(self.log)")
            }
            if let (_, status) = try? await request("GET", "/ping"), status == 204 { break }
            if ContinuousClock.now > deadline {
                stop()
                throw Failure(description: "influxd did not answer /ping within 30 s:\n\(self.log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// influxd's own output so far.
    var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("influxd.log"), encoding: .utf8)) ?? ""
    }

    /// Stops influxd and deletes its directories.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends a request; returns the body and the status code.
    func request(_ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil)
        async throws -> (Data, Int)
    {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        // URLComponents leaves '+' alone, which a server reads as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?
            .replacingOccurrences(of: "+", with: "%2B")
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 30
        let (data, response) = try await URLSession.shared.data(for: request)
        return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
    }

    /// Two distinct free TCP ports on 127.0.0.1 (both held until both are known).
    private static func twoFreePorts() throws -> (UInt16, UInt16) {
        var sockets: [Int32] = []
        defer { sockets.forEach { close($0) } }
        var ports: [UInt16] = []
        for _ in 0..<2 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
            sockets.append(descriptor)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
                }
            }
            guard bound else { throw Failure(description: "bind() failed: errno \(errno)") }
            ports.append(UInt16(bigEndian: address.sin_port))
        }
        return (ports[0], ports[1])
    }
}

/// A JSON value from influxd's query response.
private enum JSONValue: Decodable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null
        } else if let value = try? container.decode(Bool.self) { self = .bool(value)
        } else if let value = try? container.decode(Int64.self) { self = .integer(value)
        } else if let value = try? container.decode(Double.self) { self = .number(value)
        } else if let value = try? container.decode(String.self) { self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) { self = .array(value)
        } else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var array: [JSONValue] {
        if case .array(let array) = self { return array }
        return []
    }

    var string: String? {
        if case .string(let string) = self { return string }
        return nil
    }
}

@Suite("Round trip through a real influxd")
struct InfluxdRoundTripTests {
    /// Random valid points with hostile names: tag keys start with `t` and
    /// field keys with `f` plus a letter for the type, so no tag and field
    /// share a key and no field changes type (InfluxDB would reject it).
    /// Keys come from small pools so that `SELECT *` stays narrow; timestamps
    /// are distinct, so no two points merge.
    static func points(count: Int, seed: UInt64) -> [(sent: Point, expected: Point)] {
        var random = RandomPoints(seed: seed, illegalChance: 0)
        var result: [(Point, Point)] = []
        let typeLetters = ["F", "I", "U", "B", "S"]
        let tagKeys = (0..<16).map { _ in random.name(prefix: "t") }
        let fieldKeys = typeLetters.map { letter in (0..<8).map { _ in random.name(prefix: "f" + letter) } }
        let measurements = (0..<32).map { _ in random.name() }
        let base: Int64 = 1_732_874_400_000_000_000
        while result.count < count {
            var tags: [Tag] = []
            for _ in 0..<Int.random(in: 0...4, using: &random.generator) {
                let key = tagKeys.randomElement(using: &random.generator)!
                if !tags.contains(where: { $0.key == key }) { tags.append(Tag(key, random.tagValue())) }
            }
            var fields: [Field] = []
            for _ in 0..<Int.random(in: 1...5, using: &random.generator) {
                let type = Int.random(in: 0...4, using: &random.generator)
                let key = fieldKeys[type].randomElement(using: &random.generator)!
                if !fields.contains(where: { $0.key == key }) { fields.append(Field(key, random.value(ofType: type))) }
            }
            let measurement = measurements.randomElement(using: &random.generator)!
            let time = base + Int64(result.count) * 1_000 + Int64.random(in: 0..<1_000, using: &random.generator)
            let point = Point(measurement: measurement, tags: tags, fields: fields, timestampNanoseconds: time)
            if let expected = expectedRoundTrip(of: point, options: .init()) {
                result.append((point, expected))
            }
        }
        // InfluxDB's first and last representable instants.
        for time in [LineProtocolEncoder.timestampRange.lowerBound, LineProtocolEncoder.timestampRange.upperBound] {
            let point = Point(measurement: "bounds", tags: [Tag("tb", "x")],
                              fields: [Field("fI", .integer(time))], timestampNanoseconds: time)
            result.append((point, point))
        }
        return result
    }

    @Test(
        "random points written with /write?precision=ns read back exactly",
        .enabled(if: PrivateInfluxd.executable != nil, "influxd is not installed ($INFLUXD or PATH)"),
        .timeLimit(.minutes(2)),
        arguments: [7, 8, 9] as [UInt64])
    func roundTrip(seed: UInt64) async throws {
        let influxd = try await PrivateInfluxd(executable: PrivateInfluxd.executable!)
        defer { influxd.stop() }

        let (created, createStatus) = try await influxd.request(
            "POST", "/query", query: ["q": "CREATE DATABASE \"lp\""])
        #expect(createStatus == 200, "CREATE DATABASE: \(String(decoding: created, as: UTF8.self))")

        let points = Self.points(count: 2_000, seed: seed)
        var encoder = LineProtocolEncoder()
        for batch in stride(from: 0, to: points.count, by: 500) {
            var body: [UInt8] = []
            for (sent, _) in points[batch..<min(batch + 500, points.count)] {
                try encoder.append(sent, to: &body)
            }
            let (reply, status) = try await influxd.request(
                "POST", "/write", query: ["db": "lp", "precision": "ns"], body: Data(body))
            try #require(status == 204, "write: HTTP \(status) \(String(decoding: reply, as: UTF8.self))")
        }

        let (data, status) = try await influxd.request(
            "GET", "/query", query: ["db": "lp", "epoch": "ns", "q": "SELECT * FROM /.*/"])
        try #require(status == 200, "query: HTTP \(status)")
        let json = try JSONDecoder().decode(JSONValue.self, from: data)
        let result = try #require(json["results"]?.array.first)
        #expect(result["error"] == nil, "query error: \(String(decoding: data, as: UTF8.self).prefix(500))")

        // measurement → time → column → value
        var rows: [[UInt8]: [Int64: [[UInt8]: JSONValue]]] = [:]
        var rowCount = 0
        for series in result["series"]?.array ?? [] {
            let name = Array((series["name"]?.string ?? "").utf8)
            let columns = (series["columns"]?.array ?? []).map { Array(($0.string ?? "").utf8) }
            for row in series["values"]?.array ?? [] {
                let values = row.array
                guard case .integer(let time)? = values.first else {
                    Issue.record("row without an integer time in \(String(decoding: name, as: UTF8.self))")
                    continue
                }
                rows[name, default: [:]][time] = Dictionary(
                    zip(columns.dropFirst(), values.dropFirst()).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
                rowCount += 1
            }
        }
        #expect(rowCount == points.count)

        var mismatches = 0
        for (sent, expected) in points {
            guard let row = rows[Array(expected.measurement.utf8)]?[expected.timestampNanoseconds] else {
                Issue.record("point not found: \(expected)")
                mismatches += 1
                continue
            }
            var problems: [String] = []
            var expectedColumns: Set<[UInt8]> = []
            for tag in expected.tags {
                expectedColumns.insert(Array(tag.key.utf8))
                if row[Array(tag.key.utf8)]?.string.map({ Array($0.utf8) }) != Array(tag.value.utf8) {
                    problems.append("tag \(tag.key): \(String(describing: row[Array(tag.key.utf8)]))")
                }
            }
            for field in expected.fields {
                expectedColumns.insert(Array(field.key.utf8))
                let stored = row[Array(field.key.utf8)]
                let same: Bool
                switch (field.value, stored) {
                case (.float(let value), .number(let read)?): same = value == read
                case (.float(let value), .integer(let read)?): same = value == Double(read)
                case (.integer(let value), .integer(let read)?): same = value == read
                case (.boolean(let value), .bool(let read)?): same = value == read
                case (.string(let value), .string(let read)?): same = Array(value.utf8) == Array(read.utf8)
                default: same = false
                }
                if !same { problems.append("field \(field.key): \(field.value) read as \(String(describing: stored))") }
            }
            for (column, value) in row where !expectedColumns.contains(column) {
                if case .null = value { continue }
                problems.append("unexpected column \(String(decoding: column, as: UTF8.self))")
            }
            if !problems.isEmpty {
                mismatches += 1
                if mismatches <= 10 {
                    var line = try encoder.line(for: sent)
                    line.removeLast()
                    Issue.record("\(line)\n  \(problems.joined(separator: "\n  "))")
                }
            }
        }
        #expect(mismatches == 0)
    }
}
