import Foundation
import LineProtocol
import Testing
import TestKit

#if canImport(Glibc)
import Glibc
#endif

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
        .enabled(if: InfluxdProcess.executable != nil, "influxd is not installed ($INFLUXD or PATH)"),
        .timeLimit(.minutes(2)),
        arguments: [7, 8, 9] as [UInt64])
    func roundTrip(seed: UInt64) throws {
        let influxd = try InfluxdProcess()
        defer { influxd.stop() }

        let (createStatus, created) = try influxd.request(.post, "/query", query: [("q", "CREATE DATABASE \"lp\"")], body: [])
        #expect(createStatus == 200, "CREATE DATABASE: \(String(decoding: created, as: UTF8.self))")

        let points = Self.points(count: 2_000, seed: seed)
        var encoder = LineProtocolEncoder()
        for batch in stride(from: 0, to: points.count, by: 500) {
            var body: [UInt8] = []
            for (sent, _) in points[batch..<min(batch + 500, points.count)] {
                try encoder.append(sent, to: &body)
            }
            let (status, reply) = try influxd.request(.post, "/write", query: [("db", "lp"), ("precision", "ns")], body: body)
            try #require(status == 204, "write: HTTP \(status) \(String(decoding: reply, as: UTF8.self))")
        }

        let (status, body) = try influxd.request(.get, "/query", query: [("db", "lp"), ("epoch", "ns"), ("q", "SELECT * FROM /.*/")])
        try #require(status == 200, "query: HTTP \(status)")
        let data = Data(body)
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
