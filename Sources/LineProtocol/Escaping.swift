/// The ASCII bytes line protocol is made of.
enum ASCII {
    static let newline: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
    static let lowercaseI: UInt8 = 0x69
    static let lowercaseU: UInt8 = 0x75
}

/// Byte-wise helpers over `String`'s UTF-8 storage.
enum Bytes {
    /// Runs `body` on the string's UTF-8 bytes, in place when the string is
    /// native (always on Linux), otherwise on a contiguous copy.
    @inline(__always)
    static func withUTF8<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        var copy = string
        copy.makeContiguousUTF8()
        return copy.utf8.withContiguousStorageIfAvailable(body)!
    }

    /// Compares UTF-8 bytes: negative if `a` sorts first, 0 if equal, positive
    /// if `b` sorts first (InfluxDB's tag order; not `String`'s Unicode order).
    static func compare(_ a: String, _ b: String) -> Int {
        withUTF8(a) { left in
            withUTF8(b) { right in
                let common = min(left.count, right.count)
                var index = 0
                while index < common {
                    let difference = Int(left[index]) - Int(right[index])
                    if difference != 0 { return difference }
                    index += 1
                }
                return left.count - right.count
            }
        }
    }
}

/// Writing names and string values with line protocol's escaping rules.
enum Escaping {
    /// The outcome of writing a name; `.failed` leaves partial output that the
    /// caller discards.
    enum Outcome {
        case written
        case failed(LineProtocolError.Reason)
    }

    /// Which characters a name escapes.
    enum Style {
        /// `,` and space.
        case measurement
        /// `,` `=` and space (tag and field keys).
        case key
        /// `,` `=` and space; trailing `\` are dropped.
        case tagValue
    }

    /// True when `byte` needs a `\` before it in a name of this style.
    @inline(__always)
    private static func isEscaped(_ byte: UInt8, _ style: Style) -> Bool {
        byte == ASCII.comma || byte == ASCII.space || (byte == ASCII.equals && style != .measurement)
    }

    /// True when InfluxDB drops a `\` in front of `byte` in some name.
    @inline(__always)
    private static func isUnescapedAfterBackslash(_ byte: UInt8) -> Bool {
        byte == ASCII.comma || byte == ASCII.space || byte == ASCII.equals || byte == ASCII.quote
    }

    /// True when a tag value has something left to write once trailing `\`
    /// are trimmed; such a tag is written, any other is omitted.
    @inline(__always)
    static func hasWritableTagValue(_ value: String) -> Bool {
        Bytes.withUTF8(value) { bytes in
            trimmedCount(bytes) > 0
        }
    }

    @inline(__always)
    private static func trimmedCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var end = bytes.count
        while end > 0 && bytes[end - 1] == ASCII.backslash {
            end -= 1
        }
        return end
    }

    /// Appends a measurement, key or tag value, escaped.
    @inline(__always)
    static func appendName(_ name: String, style: Style, into buffer: inout [UInt8]) -> Outcome {
        Bytes.withUTF8(name) { bytes in
            appendName(bytes, style: style, into: &buffer)
        }
    }

    private static func appendName(
        _ bytes: UnsafeBufferPointer<UInt8>, style: Style, into buffer: inout [UInt8]
    ) -> Outcome {
        let end = style == .tagValue ? trimmedCount(bytes) : bytes.count
        // Fast path: most names need no escaping at all.
        var index = 0
        while index < end {
            let byte = bytes[index]
            if byte <= ASCII.space || byte == ASCII.comma || byte == ASCII.equals || byte == ASCII.backslash
                || byte == 0x7F
            {
                break
            }
            index += 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[0..<index]))
        while index < end {
            let byte = bytes[index]
            if byte < ASCII.space || byte == 0x7F {
                return .failed(.controlCharacter(byte))
            }
            if byte == ASCII.backslash {
                // InfluxDB reads `\` plus the next byte as a pair and drops the
                // `\` when that byte is `,` `=` space or `"` (in InfluxDB 1.x,
                // even `=` and `"` in measurements and `"` in field keys, which
                // need no escaping). A `\` before one of those, or at the end
                // (before the separator), cannot be written.
                if index + 1 == end || isUnescapedAfterBackslash(bytes[index + 1]) {
                    return .failed(.unencodableBackslash)
                }
            } else if isEscaped(byte, style) {
                buffer.append(ASCII.backslash)
            }
            buffer.append(byte)
            index += 1
        }
        return .written
    }

    /// Checks a name without writing it: appends it to `scratch`, then
    /// restores `scratch`'s length. For keys whose tag or field is omitted.
    static func validateName(_ name: String, style: Style, scratch: inout [UInt8]) -> Outcome {
        let mark = scratch.count
        let outcome = appendName(name, style: style, into: &scratch)
        scratch.removeLast(scratch.count - mark)
        return outcome
    }

    /// Appends a quoted string value: `"` and `\` escaped, `\n` `\r` `\t` `\f`
    /// replaced by the two characters `\n` `\r` `\t` `\f`.
    @inline(__always)
    static func appendStringValue(_ value: String, into buffer: inout [UInt8]) {
        Bytes.withUTF8(value) { bytes in
            appendStringValue(bytes, into: &buffer)
        }
    }

    private static func appendStringValue(_ bytes: UnsafeBufferPointer<UInt8>, into buffer: inout [UInt8]) {
        buffer.append(ASCII.quote)
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let replacement: UInt8
            switch byte {
            case ASCII.quote: replacement = ASCII.quote
            case ASCII.backslash: replacement = ASCII.backslash
            case 0x0A: replacement = UInt8(ascii: "n")
            case 0x0D: replacement = UInt8(ascii: "r")
            case 0x09: replacement = UInt8(ascii: "t")
            case 0x0C: replacement = UInt8(ascii: "f")
            default: continue
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            buffer.append(ASCII.backslash)
            if replacement != byte {
                // A control character becomes a literal `\` plus a letter; the
                // `\` itself must be escaped inside a string value.
                buffer.append(ASCII.backslash)
            }
            buffer.append(replacement)
            runStart = index + 1
        }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        buffer.append(ASCII.quote)
    }

    /// Appends `true` or `false`.
    @inline(__always)
    static func appendBoolean(_ value: Bool, into buffer: inout [UInt8]) {
        // Byte by byte: an array literal here could allocate.
        if value {
            buffer.append(UInt8(ascii: "t"))
            buffer.append(UInt8(ascii: "r"))
            buffer.append(UInt8(ascii: "u"))
        } else {
            buffer.append(UInt8(ascii: "f"))
            buffer.append(UInt8(ascii: "a"))
            buffer.append(UInt8(ascii: "l"))
            buffer.append(UInt8(ascii: "s"))
        }
        buffer.append(UInt8(ascii: "e"))
    }
}
