import LineProtocol

/// A line-protocol parser for tests only, written from the InfluxDB 1.x parser's
/// rules (models/points.go) rather than from the encoder:
///
/// - names: a `\` and the byte after it are read as a pair; the pair stands for
///   the escaped character alone when that character is escapable there
///   (`,` `=` space `"` in measurements and field keys — 1.x unescapes `=` and
///   `"` there although they need no escaping —, `,` `=` space in tag keys and
///   values), otherwise both bytes are kept (`\a` stays `\a`, `\\` stays `\\`);
/// - string values: `\\` reads as `\`, `\"` as `"`, other pairs are kept;
/// - floats, `i` integers, `u` unsigned, booleans `t T true True TRUE` /
///   `f F false False FALSE`; an optional integer timestamp.
struct TestLineParser {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses a whole body: every line must end in `\n`, with no `\r`.
    static func parse(_ body: [UInt8]) throws -> [Point] {
        var points: [Point] = []
        var lineStart = 0
        for index in body.indices where body[index] == 0x0A {
            points.append(try parseLine(body[lineStart..<index]))
            lineStart = index + 1
        }
        if lineStart != body.count {
            throw ParseError(description: "body does not end in a newline")
        }
        return points
    }

    /// Parses one line without its `\n`. A missing timestamp reads as `Int64.min`.
    static func parseLine(_ line: ArraySlice<UInt8>) throws -> Point {
        var parser = TestLineParser(bytes: Array(line))
        return try parser.parsePoint()
    }

    private let bytes: [UInt8]
    private var position = 0

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private var atEnd: Bool { position >= bytes.count }
    private var current: UInt8 { bytes[position] }

    private func fail(_ message: String) -> ParseError {
        ParseError(description: "\(message) at byte \(position) of '\(String(decoding: bytes, as: UTF8.self))'")
    }

    private mutating func parsePoint() throws -> Point {
        if bytes.contains(0x0D) { throw fail("carriage return in line") }
        if bytes.first == UInt8(ascii: "#") { throw fail("comment line") }
        let measurement = try scanName(stopAt: [0x2C, 0x20], escapable: [0x2C, 0x3D, 0x20, 0x22])
        if measurement.isEmpty { throw fail("empty measurement") }

        var tags: [Tag] = []
        while !atEnd && current == 0x2C {
            position += 1
            let key = try scanName(stopAt: [0x3D, 0x2C, 0x20], escapable: [0x2C, 0x3D, 0x20])
            guard !atEnd, current == 0x3D, !key.isEmpty else { throw fail("bad tag key") }
            position += 1
            let value = try scanName(stopAt: [0x2C, 0x20], escapable: [0x2C, 0x3D, 0x20])
            if value.isEmpty { throw fail("empty tag value") }
            if tags.contains(where: { $0.key == key }) { throw fail("duplicate tags") }
            tags.append(Tag(key, value))
        }
        guard !atEnd, current == 0x20 else { throw fail("missing fields") }
        position += 1

        var fields: [Field] = []
        while true {
            let key = try scanName(stopAt: [0x3D, 0x2C, 0x20], escapable: [0x2C, 0x3D, 0x20, 0x22])
            guard !atEnd, current == 0x3D, !key.isEmpty else { throw fail("bad field key") }
            position += 1
            fields.append(Field(key, try scanFieldValue()))
            if atEnd || current == 0x20 { break }
            guard current == 0x2C else { throw fail("expected ',' between fields") }
            position += 1
        }

        var timestamp = Int64.min
        if !atEnd {
            position += 1
            let text = String(decoding: bytes[position...], as: UTF8.self)
            guard let value = Int64(text) else { throw fail("bad timestamp") }
            timestamp = value
            position = bytes.count
        }
        return Point(measurement: measurement, tags: tags, fields: fields, timestampNanoseconds: timestamp)
    }

    /// Reads up to the first unescaped byte in `stopAt` (or the end) and
    /// returns the name with escapes resolved.
    private mutating func scanName(stopAt: Set<UInt8>, escapable: Set<UInt8>) throws -> String {
        var out: [UInt8] = []
        while !atEnd {
            let byte = current
            if byte == 0x5C && position + 1 < bytes.count {
                let next = bytes[position + 1]
                if !escapable.contains(next) { out.append(byte) }
                out.append(next)
                position += 2
                continue
            }
            if stopAt.contains(byte) { break }
            // InfluxDB reads a tab as data, but the encoder promises never to
            // write control characters in names.
            if byte < 0x20 || byte == 0x7F { throw fail("control character in a name") }
            out.append(byte)
            position += 1
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8") }
        return text
    }

    private mutating func scanFieldValue() throws -> FieldValue {
        guard !atEnd else { throw fail("missing field value") }
        if current == 0x22 {
            position += 1
            var out: [UInt8] = []
            while true {
                guard !atEnd else { throw fail("unterminated string") }
                let byte = current
                if byte == 0x5C && position + 1 < bytes.count {
                    let next = bytes[position + 1]
                    if next != 0x5C && next != 0x22 { out.append(byte) }
                    out.append(next)
                    position += 2
                    continue
                }
                position += 1
                if byte == 0x22 { break }
                out.append(byte)
            }
            guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8") }
            return .string(text)
        }
        let start = position
        while !atEnd && current != 0x2C && current != 0x20 {
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        switch text {
        case "t", "T", "true", "True", "TRUE": return .boolean(true)
        case "f", "F", "false", "False", "FALSE": return .boolean(false)
        default: break
        }
        if text.hasSuffix("i"), let value = Int64(text.dropLast()) { return .integer(value) }
        if text.hasSuffix("u"), let value = UInt64(text.dropLast()) { return .unsigned(value) }
        let floatCharacters = Set("0123456789.eE+-")
        guard !text.isEmpty, text.allSatisfy(floatCharacters.contains), let value = Double(text) else {
            throw fail("bad field value '\(text)'")
        }
        return .float(value)
    }
}
