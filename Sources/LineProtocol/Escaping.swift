/// The ASCII bytes line protocol is made of.
enum ASCII {
    static let newline: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let comma: UInt8 = 0x2C
    static let equals: UInt8 = 0x3D
    static let backslash: UInt8 = 0x5C
    static let delete: UInt8 = 0x7F
    static let lowercaseI: UInt8 = 0x69
    static let lowercaseU: UInt8 = 0x75
}

/// Writes bytes through a raw pointer. Individual writes do not check the
/// capacity: callers check `remaining` once per element.
struct LineWriter {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var count = 0

    init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Bytes left. Writers check this before each element and report
    /// `noRoom`; single bytes and short numbers rely on those checks.
    @inline(__always)
    var remaining: Int { capacity &- count }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        base[count] = byte
        count &+= 1
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let length = bytes.count
        let target = base + count
        if length >= 8 && length <= 16 {
            // Short copies (digits, floats) inline: two overlapping words.
            let head = UnsafeRawPointer(source).loadUnaligned(as: UInt64.self)
            let tail = UnsafeRawPointer(source + (length &- 8)).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(target).storeBytes(of: head, as: UInt64.self)
            UnsafeMutableRawPointer(target + (length &- 8)).storeBytes(of: tail, as: UInt64.self)
        } else if length < 8 {
            for index in 0..<length {
                target[index] = source[index]
            }
        } else {
            target.update(from: source, count: length)
        }
        count &+= length
    }

    /// Forgets what was written after `mark`.
    @inline(__always)
    mutating func rewind(to mark: Int) {
        count = mark
    }

    /// Advances past `bytes` bytes already stored at `base + count`.
    @inline(__always)
    mutating func skip(_ bytes: Int) {
        count &+= bytes
    }
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

    /// The first eight bytes (zero padded) as a big-endian number: when two
    /// prefixes differ they order their strings as ``compare(_:_:)`` does
    /// (a shorter string's padding sorts before any byte but NUL).
    @inline(__always)
    static func prefix(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = bytes.baseAddress else { return 0 }
        if bytes.count >= 8 {
            return UInt64(bigEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self))
        }
        var value: UInt64 = 0
        for index in 0..<8 {
            value = value << 8 | (index < bytes.count ? UInt64(base[index]) : 0)
        }
        return value
    }

    /// Compares `leftCount` bytes at `left` with `rightCount` bytes at
    /// `right` like ``compare(_:_:)``.
    @inline(__always)
    static func compare(
        _ left: UnsafePointer<UInt8>, _ leftCount: Int, _ right: UnsafePointer<UInt8>, _ rightCount: Int
    ) -> Int {
        let common = min(leftCount, rightCount)
        var index = 0
        while index &+ 8 <= common {
            let l = UInt64(bigEndian: UnsafeRawPointer(left + index).loadUnaligned(as: UInt64.self))
            let r = UInt64(bigEndian: UnsafeRawPointer(right + index).loadUnaligned(as: UInt64.self))
            if l != r { return l < r ? -1 : 1 }
            index &+= 8
        }
        while index < common {
            let difference = Int(left[index]) &- Int(right[index])
            if difference != 0 { return difference }
            index &+= 1
        }
        return leftCount &- rightCount
    }

    /// Compares UTF-8 bytes: negative if `a` sorts first, 0 if equal, positive
    /// if `b` sorts first (InfluxDB's tag order; not `String`'s Unicode order).
    @inline(__always)
    static func compare(_ a: String, _ b: String) -> Int {
        withUTF8(a) { left in
            withUTF8(b) { right in
                let common = min(left.count, right.count)
                var index = 0
                if let leftBase = left.baseAddress, let rightBase = right.baseAddress {
                    // Eight bytes at a time; big-endian words compare like bytes.
                    while index &+ 8 <= common {
                        let l = UInt64(bigEndian: UnsafeRawPointer(leftBase + index).loadUnaligned(as: UInt64.self))
                        let r = UInt64(bigEndian: UnsafeRawPointer(rightBase + index).loadUnaligned(as: UInt64.self))
                        if l != r { return l < r ? -1 : 1 }
                        index &+= 8
                    }
                }
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

/// Line protocol's escaping rules for names and string values.
enum Escaping {
    /// The outcome of checking or writing a name; after `.failed` the partial
    /// output is discarded by the caller.
    enum Outcome {
        case written
        /// A tag value that was only `\`: nothing written, omit the tag.
        case emptyAfterTrimming
        /// Not enough room left in the line storage.
        case noRoom
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

    /// True for bytes that leave the fast path: controls, space, `,` `=` `\`, DEL.
    @inline(__always)
    private static func isSpecialInName(_ byte: UInt8) -> Bool {
        // Bits for 0x00...0x20, 0x2C and 0x3D; then 0x5C and 0x7F.
        let low: UInt64 = 0x2000_1000_0000_0000 | 0x1_FFFF_FFFF
        let high: UInt64 = (1 << (0x5C - 64)) | (1 << (0x7F - 64))
        if byte < 64 { return (low >> UInt64(byte)) & 1 != 0 }
        if byte < 128 { return (high >> UInt64(byte &- 64)) & 1 != 0 }
        return false
    }

    /// True when any of the eight bytes in `word` is special in a name
    /// (see `isSpecialInName`), by SWAR bit tricks; bytes >= 0x80 never are.
    @inline(__always)
    private static func hasSpecialNameByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let belowBang = (word &- ones &* 0x21) & ~word & highs  // some byte < 0x21
        return (belowBang | hasZeroByte(word ^ (ones &* UInt64(ASCII.comma)))
            | hasZeroByte(word ^ (ones &* UInt64(ASCII.equals))) | hasZeroByte(word ^ (ones &* UInt64(ASCII.backslash)))
            | hasZeroByte(word ^ (ones &* UInt64(ASCII.delete)))) != 0
    }

    /// The number of bytes of a tag value left after trimming trailing `\`;
    /// a tag whose value trims to nothing is omitted.
    @inline(__always)
    static func trimmedCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var end = bytes.count
        while end > 0 && bytes[end - 1] == ASCII.backslash {
            end -= 1
        }
        return end
    }

    /// Checks a name without writing it (for keys whose tag or field is omitted).
    static func checkName(_ name: String) -> Outcome {
        Bytes.withUTF8(name) { bytes in
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if byte < ASCII.space || byte == ASCII.delete {
                    return .failed(.controlCharacter(byte))
                }
                if byte == ASCII.backslash
                    && (index + 1 == bytes.count || isUnescapedAfterBackslash(bytes[index + 1]))
                {
                    return .failed(.unencodableBackslash)
                }
            }
            return .written
        }
    }

    /// Writes a measurement, key or tag value, escaped, if twice its length
    /// plus one byte fit.
    @inline(__always)
    static func writeName(_ name: String, style: Style, to writer: inout LineWriter) -> Outcome {
        Bytes.withUTF8(name) { bytes in
            writeName(bytes, style: style, to: &writer)
        }
    }

    @inline(__always)
    static func writeName(
        _ bytes: UnsafeBufferPointer<UInt8>, style: Style, to writer: inout LineWriter
    ) -> Outcome {
        let end = style == .tagValue ? trimmedCount(bytes) : bytes.count
        guard let source = bytes.baseAddress, end > 0 else { return .emptyAfterTrimming }
        // Escaping at most doubles a name; keep one byte for the separator after it.
        if writer.remaining < 2 &* end &+ 1 {
            return .noRoom
        }
        // Fast path: most names need no escaping at all. Copy eight bytes at a
        // time while none of them is special (room for twice the name's
        // length was checked above).
        let out = writer.base + writer.count
        var index = 0
        while index &+ 8 <= end {
            let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
            if hasSpecialNameByte(word) { break }
            UnsafeMutableRawPointer(out + index).storeBytes(of: word, as: UInt64.self)
            index &+= 8
        }
        if index < end && end >= 8 && index &+ 8 > end {
            // No special byte so far and less than a word left: check the
            // final eight bytes (overlapping bytes already copied) in one go.
            let word = UnsafeRawPointer(source + (end &- 8)).loadUnaligned(as: UInt64.self)
            if !hasSpecialNameByte(word) {
                UnsafeMutableRawPointer(out + (end &- 8)).storeBytes(of: word, as: UInt64.self)
                index = end
            }
        }
        while index < end && !isSpecialInName(source[index]) {
            out[index] = source[index]
            index &+= 1
        }
        writer.skip(index)
        while index < end {
            let byte = bytes[index]
            if byte < ASCII.space || byte == ASCII.delete {
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
                writer.write(ASCII.backslash)
            }
            writer.write(byte)
            index += 1
        }
        return .written
    }

    /// Writes a quoted string value: `"` and `\` escaped, `\n` `\r` `\t` `\f`
    /// replaced by the two characters `\n` `\r` `\t` `\f` (written `\\n` …).
    /// At most three times its UTF-8 length plus 2; the caller checks room.
    @inline(__always)
    static func writeStringValue(_ value: String, to writer: inout LineWriter) {
        Bytes.withUTF8(value) { bytes in
            writeStringValue(bytes, to: &writer)
        }
    }

    static func writeStringValue(_ bytes: UnsafeBufferPointer<UInt8>, to writer: inout LineWriter) {
        writer.write(ASCII.quote)
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if byte > ASCII.backslash || (byte != ASCII.quote && byte != ASCII.backslash && byte >= ASCII.space) {
                continue
            }
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
            writer.write(UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            writer.write(ASCII.backslash)
            if replacement != byte {
                // A control character becomes a literal `\` plus a letter; the
                // `\` itself must be escaped inside a string value.
                writer.write(ASCII.backslash)
            }
            writer.write(replacement)
            runStart = index + 1
        }
        writer.write(UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
        writer.write(ASCII.quote)
    }

    /// Writes `true` or `false`.
    @inline(__always)
    static func writeBoolean(_ value: Bool, to writer: inout LineWriter) {
        let text: StaticString = value ? "true" : "false"
        writer.write(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
