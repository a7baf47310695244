import PluginABI

/// What an InfluxDB error response says, and which lines of the request it
/// blames.
///
/// InfluxDB names bad lines in three ways, all handled here:
/// - parse errors quote the line: `unable to parse '<line>': <reason>`
///   (1.x, and 2.x OSS), several separated by newlines;
/// - line numbers: the JSON `line` member and `error parsing line N (1-based)`
///   (2.x / Cloud);
/// - field type conflicts name the measurement, the field and the type sent:
///   `input field "f" on measurement "m" is type float, already exists as type integer`
///   (1.x 400, 2.x 422) -- every line of the request with that measurement and
///   field of that type is blamed.
/// A message that blames nothing (e.g. `points beyond retention policy dropped=3`)
/// leaves the caller to bisect.
struct ErrorBody {
    /// The server's message: the JSON `error` (1.x) or `message` (2.x) member,
    /// else the body text; at most 4 KB.
    let message: String
    /// The JSON `line` member (1-based), if any.
    let lineNumber: Int?

    init(body: [UInt8], headerMessage: String?) {
        let text = String(decoding: body.prefix(1 << 20), as: UTF8.self)
        var message = text
        var lineNumber: Int?
        if let json = try? JSONValue.parse(text) {
            if let error = json["error"]?.stringValue ?? json["message"]?.stringValue { message = error }
            if let line = json["line"]?.doubleValue, line >= 1, line < 1e9 { lineNumber = Int(line) }
        } else if text.isEmpty, let headerMessage {
            message = headerMessage
        }
        message = message.trimmingTrailingWhitespace()
        if message.utf8.count > 4_096 { message = String(decoding: Array(message.utf8.prefix(4_096)), as: UTF8.self) + "…" }
        self.message = message
        self.lineNumber = lineNumber
    }

    /// The lines of the request (`indices` into `batch`) the message blames,
    /// as positions into `indices`, with the reason for each.
    func blamedLines(in batch: LineBatch, indices: ArraySlice<Int>) -> [Int: String] {
        var blamed: [Int: String] = [:]
        let positions = indices.startIndex..<indices.endIndex
        let bytes = Array(message.utf8)

        // 1. Quoted lines.
        let quote = Array("unable to parse '".utf8)
        var occurrences = bytes.ranges(of: quote)
        if !occurrences.isEmpty {
            var byText: [ArraySlice<UInt8>: [Int]] = [:]
            for position in positions { byText[batch.line(indices[position]), default: []].append(position) }
            for occurrence in occurrences {
                let start = occurrence.upperBound
                var end = start
                // The quoted line ends at a "'" followed by ':'; try each candidate.
                while end < bytes.count, end - start <= 70_000 {
                    if bytes[end] == UInt8(ascii: "'"), end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: ":"),
                       let matches = byText[bytes[start..<end]] {
                        var reasonEnd = end + 2
                        while reasonEnd < bytes.count, bytes[reasonEnd] != UInt8(ascii: "\n") { reasonEnd += 1 }
                        var reason = String(decoding: bytes[(end + 2)..<reasonEnd], as: UTF8.self)
                        reason = reason.strippingDroppedCount().trimmingLeadingSpaces()
                        for match in matches { blamed[match] = "unable to parse: " + reason }
                        break
                    }
                    end += 1
                }
            }
        }

        // 2. Line numbers (1-based, relative to this request).
        var numbers: [Int] = []
        if let lineNumber { numbers.append(lineNumber) }
        for marker in ["error parsing line ", "line "] {
            occurrences = bytes.ranges(of: Array(marker.utf8))
            for occurrence in occurrences {
                var digitsEnd = occurrence.upperBound
                while digitsEnd < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[digitsEnd]) { digitsEnd += 1 }
                let rest = bytes[digitsEnd...]
                guard digitsEnd > occurrence.upperBound, rest.starts(with: Array(" (1-based)".utf8)) || marker.hasPrefix("error"),
                      let number = Int(String(decoding: bytes[occurrence.upperBound..<digitsEnd], as: UTF8.self)) else { continue }
                numbers.append(number)
            }
        }
        for number in numbers where number >= 1 && number <= indices.count {
            let position = indices.startIndex + number - 1
            if blamed[position] == nil { blamed[position] = message.firstLine }
        }

        // 3. Field type conflicts.
        for conflict in FieldTypeConflict.all(in: message) {
            for position in positions where blamed[position] == nil {
                let line = batch.line(indices[position])
                if LineScanner.measurement(of: line) == conflict.measurement,
                   LineScanner.fieldType(of: conflict.field, in: line) == conflict.inputType {
                    blamed[position] = conflict.text
                }
            }
        }
        return blamed
    }
}

/// `input field "f" on measurement "m" is type float, already exists as type integer`.
struct FieldTypeConflict: Equatable {
    var field: [UInt8]
    var measurement: [UInt8]
    var inputType: String
    var text: String

    static func all(in message: String) -> [FieldTypeConflict] {
        let bytes = Array(message.utf8)
        var result: [FieldTypeConflict] = []
        for occurrence in bytes.ranges(of: Array("input field \"".utf8)) {
            let rest = bytes[occurrence.upperBound...]
            guard let fieldEnd = rest.firstRange(of: Array("\" on measurement \"".utf8)) else { continue }
            let afterMeasurement = bytes[fieldEnd.upperBound...]
            guard let measurementEnd = afterMeasurement.firstRange(of: Array("\" is type ".utf8)) else { continue }
            var typeEnd = measurementEnd.upperBound
            while typeEnd < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[typeEnd]) { typeEnd += 1 }
            var textEnd = typeEnd
            if bytes[typeEnd...].starts(with: Array(", already exists as type ".utf8)) {
                textEnd += ", already exists as type ".utf8.count
                while textEnd < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[textEnd]) { textEnd += 1 }
            }
            result.append(FieldTypeConflict(
                field: Array(bytes[occurrence.upperBound..<fieldEnd.lowerBound]),
                measurement: Array(bytes[fieldEnd.upperBound..<measurementEnd.lowerBound]),
                inputType: String(decoding: bytes[measurementEnd.upperBound..<typeEnd], as: UTF8.self),
                text: "field type conflict: " + String(decoding: bytes[occurrence.lowerBound..<textEnd], as: UTF8.self)))
        }
        return result
    }
}

/// Just enough of a line-protocol reader to match a type-conflict message:
/// the measurement and the type of one field.
enum LineScanner {
    private static let backslash = UInt8(ascii: "\\")
    private static let space = UInt8(ascii: " ")
    private static let comma = UInt8(ascii: ",")
    private static let equals = UInt8(ascii: "=")
    private static let quote = UInt8(ascii: "\"")

    /// The measurement name, unescaped.
    static func measurement(of line: ArraySlice<UInt8>) -> [UInt8] {
        var name: [UInt8] = []
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            if byte == backslash, index + 1 < line.endIndex, line[index + 1] == comma || line[index + 1] == space {
                name.append(line[index + 1])
                index += 2
                continue
            }
            if byte == comma || byte == space { break }
            name.append(byte)
            index += 1
        }
        return name
    }

    /// The InfluxDB type name (`float`, `integer`, `unsigned`, `string`,
    /// `boolean`) of field `key` in `line`, or nil when the line lacks it.
    static func fieldType(of key: [UInt8], in line: ArraySlice<UInt8>) -> String? {
        // Skip the series key: up to the first unescaped space.
        var index = line.startIndex
        while index < line.endIndex, line[index] != space {
            index += line[index] == backslash ? 2 : 1
        }
        index += 1
        while index < line.endIndex {
            var name: [UInt8] = []
            while index < line.endIndex, line[index] != equals {
                if line[index] == backslash, index + 1 < line.endIndex,
                   [comma, equals, space].contains(line[index + 1]) {
                    name.append(line[index + 1])
                    index += 2
                } else {
                    name.append(line[index])
                    index += 1
                }
            }
            index += 1
            guard index <= line.endIndex else { return nil }
            let valueStart = index
            var type: String
            if index < line.endIndex, line[index] == quote {
                index += 1
                while index < line.endIndex, line[index] != quote { index += line[index] == backslash ? 2 : 1 }
                index += 1
                type = "string"
            } else {
                while index < line.endIndex, line[index] != comma, line[index] != space { index += 1 }
                let value = line[valueStart..<min(index, line.endIndex)]
                switch String(decoding: value, as: UTF8.self) {
                case "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE": type = "boolean"
                default:
                    type = value.last == UInt8(ascii: "i") ? "integer" : value.last == UInt8(ascii: "u") ? "unsigned" : "float"
                }
            }
            if name == key { return type }
            guard index < line.endIndex, line[index] == comma else { return nil }
            index += 1
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    /// Every non-overlapping occurrence of `needle`.
    func ranges(of needle: [UInt8]) -> [Range<Int>] {
        guard !needle.isEmpty, count >= needle.count else { return [] }
        var result: [Range<Int>] = []
        var index = 0
        while index + needle.count <= count {
            if self[index] == needle[0], self[index..<(index + needle.count)].elementsEqual(needle) {
                result.append(index..<(index + needle.count))
                index += needle.count
            } else {
                index += 1
            }
        }
        return result
    }
}

extension ArraySlice where Element == UInt8 {
    /// The first occurrence of `needle`.
    func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, count >= needle.count else { return nil }
        var index = startIndex
        while index + needle.count <= endIndex {
            if self[index] == needle[0], self[index..<(index + needle.count)].elementsEqual(needle) {
                return index..<(index + needle.count)
            }
            index += 1
        }
        return nil
    }
}

extension String {
    /// The text up to the first newline.
    var firstLine: String { String(split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") }

    /// Without a trailing ` dropped=N`.
    func strippingDroppedCount() -> String {
        guard let range = Array(utf8).ranges(of: Array(" dropped=".utf8)).last else { return self }
        let tail = Array(utf8)[range.upperBound...]
        guard tail.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return self }
        return String(decoding: Array(utf8)[..<range.lowerBound], as: UTF8.self)
    }

    func trimmingLeadingSpaces() -> String { String(drop { $0 == " " }) }

    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last == " " || last == "\n" || last == "\t" || last == "\r\n" { text.removeLast() }
        return String(text)
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110).
enum RetryAfter {
    /// The longest wait honoured (influxdb.md §5: cap 600 s).
    static let capNanoseconds: Int64 = 600_000_000_000

    /// The wait in nanoseconds, or nil when absent or unreadable.
    /// - Parameter nowSeconds: the current Unix time (for HTTP dates).
    static func nanoseconds(_ value: String?, nowSeconds: Int64) -> Int64? {
        guard let value = value?.trimmingLeadingSpaces().trimmingTrailingWhitespace(), !value.isEmpty else { return nil }
        if value.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let seconds = Int64(value.prefix(12)) else { return nil }
            return min(seconds * 1_000_000_000, capNanoseconds)
        }
        guard let date = unixTime(ofHTTPDate: value) else { return nil }
        return max(0, min((date - nowSeconds) * 1_000_000_000, capNanoseconds))
    }

    /// Parses `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate) and the obsolete
    /// RFC 850 form `Sunday, 06-Nov-94 08:49:37 GMT`.
    static func unixTime(ofHTTPDate text: String) -> Int64? {
        let afterComma = text.split(separator: ",", maxSplits: 1).last.map(String.init) ?? text
        let words = afterComma.split(whereSeparator: { $0 == " " || $0 == "-" }).map(String.init)
        guard words.count >= 4 else { return nil }
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard let day = Int64(words[0]), let monthIndex = months.firstIndex(of: words[1].lowercased().prefix(3).description),
              var year = Int64(words[2]) else { return nil }
        if year < 100 { year += year < 70 ? 2000 : 1900 }
        let clock = words[3].split(separator: ":").compactMap { Int64($0) }
        guard clock.count == 3 else { return nil }
        // Days from 1970-01-01 to year-month-day (proleptic Gregorian; H. Hinnant's algorithm).
        let month = Int64(monthIndex + 1)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return days * 86_400 + clock[0] * 3_600 + clock[1] * 60 + clock[2]
    }
}
