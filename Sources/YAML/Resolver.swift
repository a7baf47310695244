/// Types plain scalars the way PyYAML's `SafeLoader` does (YAML 1.1 implicit
/// resolvers), with one difference: timestamps (`2024-01-15`) stay strings.
enum Resolver {
    private static let booleans: [String: Bool] = [
        "yes": true, "Yes": true, "YES": true, "no": false, "No": false, "NO": false,
        "true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false,
        "on": true, "On": true, "ON": true, "off": false, "Off": false, "OFF": false,
    ]

    /// The value of a plain scalar with content `text`.
    static func resolve(_ text: String) throws(LocatedError.Message) -> YAMLValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "<<": throw .init("merge keys ('<<') are not supported")
        case "=": throw .init("a plain '=' is reserved by YAML 1.1 (the value key); quote it")
        default: break
        }
        if let value = booleans[text] { return .bool(value) }
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".") || isDigit(first)
        else {
            return .string(text)
        }
        if matchesFloat(bytes) { return .float(try constructFloat(bytes)) }
        if matchesInt(bytes) { return .int(try constructInt(bytes, text: text)) }
        return .string(text)
    }

    // MARK: Matching (PyYAML's resolver regular expressions, by hand)

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    private static func isHex(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
    private static let underscore = UInt8(ascii: "_")
    private static let dot = UInt8(ascii: ".")
    private static let colon = UInt8(ascii: ":")

    /// A cursor over ASCII bytes for hand-written pattern matching.
    private struct Cursor {
        let bytes: [UInt8]
        var i = 0

        var atEnd: Bool { i == bytes.count }
        var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func skip(_ byte: UInt8) -> Bool {
            if current == byte {
                i += 1
                return true
            }
            return false
        }

        mutating func skipSign() {
            if current == UInt8(ascii: "-") || current == UInt8(ascii: "+") { i += 1 }
        }

        /// Skips bytes while `predicate` holds; returns how many.
        @discardableResult
        mutating func skip(while predicate: (UInt8) -> Bool) -> Int {
            let start = i
            while let c = current, predicate(c) { i += 1 }
            return i - start
        }

        mutating func skipLiteral(_ text: String) -> Bool {
            let literal = Array(text.utf8)
            if bytes.count - i >= literal.count && Array(bytes[i..<i + literal.count]) == literal {
                i += literal.count
                return true
            }
            return false
        }

        /// `(:[0-5]?[0-9])+`
        mutating func skipSexagesimalGroups() -> Bool {
            var groups = 0
            while current == Resolver.colon {
                i += 1
                let start = i
                let count = skip(while: Resolver.isDigit)
                if count == 1 || (count == 2 && bytes[start] <= UInt8(ascii: "5")) {
                    groups += 1
                } else {
                    return false
                }
            }
            return groups > 0
        }

        /// `([eE][-+][0-9]+)?` then the end.
        mutating func skipOptionalExponentThenEnd() -> Bool {
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                i += 1
                guard current == UInt8(ascii: "-") || current == UInt8(ascii: "+") else { return false }
                i += 1
                guard skip(while: Resolver.isDigit) > 0 else { return false }
            }
            return atEnd
        }
    }

    private static func digitOrUnderscore(_ c: UInt8) -> Bool { isDigit(c) || c == underscore }

    /// `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` | `\.[0-9][0-9_]*([eE][-+][0-9]+)?`
    /// | `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*` | `[-+]?\.(inf|Inf|INF)` | `\.(nan|NaN|NAN)`
    private static func matchesFloat(_ bytes: [UInt8]) -> Bool {
        // Alternative 1 and 3 (leading digits).
        var c = Cursor(bytes: bytes)
        c.skipSign()
        if let d = c.current, isDigit(d) {
            c.skip(while: digitOrUnderscore)
            if c.skip(dot) {
                c.skip(while: digitOrUnderscore)
                return c.skipOptionalExponentThenEnd()
            }
            guard c.skipSexagesimalGroups(), c.skip(dot) else { return false }
            c.skip(while: digitOrUnderscore)
            return c.atEnd
        }
        // Alternative 4: signed infinity.
        if c.skip(dot) && (c.skipLiteral("inf") || c.skipLiteral("Inf") || c.skipLiteral("INF")) && c.atEnd {
            return true
        }
        // Alternatives 2 and 5 (no sign).
        c = Cursor(bytes: bytes)
        guard c.skip(dot) else { return false }
        if let d = c.current, isDigit(d) {
            c.skip(while: digitOrUnderscore)
            return c.skipOptionalExponentThenEnd()
        }
        return (c.skipLiteral("nan") || c.skipLiteral("NaN") || c.skipLiteral("NAN")) && c.atEnd
    }

    /// `[-+]?0b[0-1_]+` | `[-+]?0[0-7_]+` | `[-+]?(0|[1-9][0-9_]*)` | `[-+]?0x[0-9a-fA-F_]+`
    /// | `[-+]?[1-9][0-9_]*(:[0-5]?[0-9])+`
    private static func matchesInt(_ bytes: [UInt8]) -> Bool {
        var c = Cursor(bytes: bytes)
        c.skipSign()
        let afterSign = c.i
        if c.skipLiteral("0b") {
            return c.skip(while: { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: "1") || $0 == underscore }) > 0
                && c.atEnd
        }
        if c.skipLiteral("0x") {
            return c.skip(while: { isHex($0) || $0 == underscore }) > 0 && c.atEnd
        }
        if c.skip(UInt8(ascii: "0")) {
            if c.atEnd { return true }
            return c.skip(while: { ($0 >= 0x30 && $0 <= 0x37) || $0 == underscore }) > 0 && c.atEnd
        }
        c.i = afterSign
        guard let d = c.current, d >= UInt8(ascii: "1") && d <= UInt8(ascii: "9") else { return false }
        c.skip(while: digitOrUnderscore)
        if c.atEnd { return true }
        return c.skipSexagesimalGroups() && c.atEnd
    }

    // MARK: Construction (PyYAML's SafeConstructor)

    private static func stripped(_ bytes: [UInt8]) -> (sign: Int, body: [UInt8]) {
        var body = bytes.filter { $0 != underscore }
        var sign = 1
        if body.first == UInt8(ascii: "-") { sign = -1 }
        if body.first == UInt8(ascii: "-") || body.first == UInt8(ascii: "+") { body.removeFirst() }
        return (sign, body)
    }

    private static func constructInt(_ bytes: [UInt8], text: String) throws(LocatedError.Message) -> Int64 {
        let (sign, body) = stripped(bytes)
        let outOfRange = LocatedError.Message("integer \(text) does not fit in 64 bits")
        func magnitude(_ digits: ArraySlice<UInt8>, radix: UInt64) throws(LocatedError.Message) -> UInt64 {
            guard !digits.isEmpty else { throw .init("integer \(text) has no digits") }
            var result: UInt64 = 0
            for byte in digits {
                let digit: UInt64
                switch byte {
                case 0x30...0x39: digit = UInt64(byte - 0x30)
                case 0x41...0x46: digit = UInt64(byte - 0x41 + 10)
                default: digit = UInt64(byte - 0x61 + 10)
                }
                let (shifted, o1) = result.multipliedReportingOverflow(by: radix)
                let (sum, o2) = shifted.addingReportingOverflow(digit)
                if o1 || o2 { throw outOfRange }
                result = sum
            }
            return result
        }
        var value: UInt64
        if body == [UInt8(ascii: "0")] {
            value = 0
        } else if body.starts(with: Array("0b".utf8)) {
            value = try magnitude(body.dropFirst(2), radix: 2)
        } else if body.starts(with: Array("0x".utf8)) {
            value = try magnitude(body.dropFirst(2), radix: 16)
        } else if body.first == UInt8(ascii: "0") {
            value = try magnitude(body[...], radix: 8)
        } else if body.contains(colon) {
            value = 0
            var base: UInt64 = 1
            let parts = body.split(separator: colon, omittingEmptySubsequences: false)
            for (n, part) in parts.reversed().enumerated() {
                let (term, o1) = try magnitude(part, radix: 10).multipliedReportingOverflow(by: base)
                let (sum, o2) = value.addingReportingOverflow(term)
                if o1 || o2 { throw outOfRange }
                value = sum
                if n < parts.count - 1 {
                    let (next, o3) = base.multipliedReportingOverflow(by: 60)
                    if o3 { throw outOfRange }
                    base = next
                }
            }
        } else {
            value = try magnitude(body[...], radix: 10)
        }
        if sign < 0 {
            guard value <= UInt64(Int64.max) + 1 else { throw outOfRange }
            return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
        }
        guard value <= UInt64(Int64.max) else { throw outOfRange }
        return Int64(value)
    }

    /// Parses `[0-9]*\.?[0-9]*([eE][-+][0-9]+)?` (underscores already removed) like Python's `float()`.
    private static func decimal(_ part: ArraySlice<UInt8>) -> Double {
        var mantissa = Array(part)
        var exponent: [UInt8] = []
        if let e = mantissa.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            exponent = Array(mantissa[e...])
            mantissa = Array(mantissa[..<e])
        }
        var integer = mantissa
        var fraction: [UInt8] = []
        if let d = mantissa.firstIndex(of: dot) {
            integer = Array(mantissa[..<d])
            fraction = Array(mantissa[(d + 1)...])
        }
        if integer.isEmpty { integer = [UInt8(ascii: "0")] }
        if fraction.isEmpty { fraction = [UInt8(ascii: "0")] }
        let normalized = String(decoding: integer + [dot] + fraction + exponent, as: UTF8.self)
        return Double(normalized) ?? .nan
    }

    private static func constructFloat(_ bytes: [UInt8]) throws(LocatedError.Message) -> Double {
        let (sign, raw) = stripped(bytes)
        let body = raw.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        let signValue = Double(sign)
        if body == Array(".inf".utf8) { return signValue * .infinity }
        if body == Array(".nan".utf8) { return .nan }
        if body.contains(colon) {
            var value = 0.0
            var base = 1.0
            for part in body.split(separator: colon, omittingEmptySubsequences: false).reversed() {
                value += decimal(part) * base
                base *= 60
            }
            return signValue * value
        }
        return signValue * decimal(body[...])
    }
}

extension LocatedError {
    /// A message whose location is added by the caller.
    struct Message: Error {
        var text: String
        init(_ text: String) { self.text = text }
    }
}
