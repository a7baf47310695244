/// Allocation-free scanning of the line formats kernel files use.
enum ByteParsing {
    static let newline = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// Calls `body` with each line (without its newline); empty lines are skipped.
    @inline(__always)
    static func forEachLine(_ bytes: KernelBytes, _ body: (KernelBytes.SubSequence) throws(CgroupError) -> Void) throws(CgroupError) {
        var start = 0
        let end = bytes.count
        while start < end {
            var stop = start
            while stop < end && bytes[stop] != newline { stop += 1 }
            if stop > start { try body(bytes[start..<stop]) }
            start = stop + 1
        }
    }

    /// Splits a line at blanks into at most `tokens.count` tokens; returns how many were found.
    @inline(__always)
    static func tokens(_ line: KernelBytes.SubSequence, into ranges: inout [Range<Int>]) -> Int {
        var found = 0
        var i = line.startIndex
        let end = line.endIndex
        let base = line.base
        while i < end && found < ranges.count {
            while i < end && (base[i] == space || base[i] == tab) { i += 1 }
            guard i < end else { break }
            let start = i
            while i < end && base[i] != space && base[i] != tab { i += 1 }
            ranges[found] = start..<i
            found += 1
        }
        return found
    }

    /// The first blank-separated token of `line` and the rest after blanks.
    @inline(__always)
    static func keyAndValue(_ line: KernelBytes.SubSequence) -> (key: KernelBytes.SubSequence, value: KernelBytes.SubSequence) {
        let base = line.base
        var i = line.startIndex
        while i < line.endIndex && base[i] != space && base[i] != tab { i += 1 }
        let key = base[line.startIndex..<i]
        while i < line.endIndex && (base[i] == space || base[i] == tab) { i += 1 }
        var end = i
        while end < line.endIndex && base[end] != space && base[end] != tab { end += 1 }
        return (key, base[i..<end])
    }

    /// A decimal unsigned integer, nil when the token is not one (or overflows).
    @inline(__always)
    static func unsigned(_ token: KernelBytes.SubSequence) -> UInt64? {
        guard !token.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in token {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// A decimal signed integer (v1 `memory.limit_in_bytes` may read `-1` on old kernels).
    @inline(__always)
    static func signed(_ token: KernelBytes.SubSequence) -> Int64? {
        if token.first == UInt8(ascii: "-") {
            guard let magnitude = unsigned(token.dropFirst()), magnitude <= UInt64(Int64.max) else { return nil }
            return -Int64(magnitude)
        }
        guard let value = unsigned(token), value <= UInt64(Int64.max) else { return nil }
        return Int64(value)
    }

    /// True when `token` spells `literal`.
    @inline(__always)
    static func equals(_ token: KernelBytes.SubSequence, _ literal: StaticString) -> Bool {
        guard token.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        var j = 0
        for byte in token {
            if byte != expected[j] { return false }
            j += 1
        }
        return true
    }

    /// The bytes with trailing blanks and newlines removed.
    @inline(__always)
    static func trimmed(_ bytes: KernelBytes) -> KernelBytes.SubSequence {
        var start = 0
        var end = bytes.count
        while start < end && (bytes[start] == space || bytes[start] == tab || bytes[start] == newline) { start += 1 }
        while end > start && (bytes[end - 1] == space || bytes[end - 1] == tab || bytes[end - 1] == newline) { end -= 1 }
        return bytes[start..<end]
    }

    /// Text of a token, for error messages only.
    static func text(_ token: KernelBytes.SubSequence) -> String {
        String(decoding: token, as: UTF8.self)
    }
}
