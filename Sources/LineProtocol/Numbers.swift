/// Decimal formatting of integers and floats straight into a `LineWriter`.
enum Numbers {
    /// The longest integer text: `-9223372036854775808` or `18446744073709551615`.
    static let maximumIntegerBytes = 20
    /// The longest shortest-round-trip double, e.g. `-2.2250738585072014e-308`
    /// (24 bytes), with room to spare.
    static let maximumFloatBytes = 32

    /// Writes `value` in decimal, with a leading `-` when negative.
    @inline(__always)
    static func writeDecimal(_ value: Int64, to writer: inout LineWriter) {
        if value < 0 {
            writer.write(UInt8(ascii: "-"))
        }
        writeDecimal(value.magnitude, to: &writer)
    }

    /// Writes `value` in decimal, two digits at a time, back to front into
    /// a stack buffer, then copies the digits.
    static func writeDecimal(_ value: UInt64, to writer: inout LineWriter) {
        // "00" "01" … "99": a constant in the binary, no initialisation needed.
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let table = pairs.utf8Start
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes >= 20 digits
        withUnsafeMutableBytes(of: &digits) { raw in
            let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var start = raw.count
            var rest = value
            while rest >= 100 {
                let pair = Int(truncatingIfNeeded: rest % 100) &* 2
                rest /= 100
                start &-= 2
                out[start] = table[pair]
                out[start &+ 1] = table[pair &+ 1]
            }
            if rest >= 10 {
                let pair = Int(truncatingIfNeeded: rest) &* 2
                start &-= 2
                out[start] = table[pair]
                out[start &+ 1] = table[pair &+ 1]
            } else {
                start &-= 1
                out[start] = UInt8(truncatingIfNeeded: rest) &+ 0x30
            }
            writer.write(UnsafeBufferPointer(start: out + start, count: raw.count &- start))
        }
    }

    /// Writes a finite `value` in the shortest decimal form that reads back as
    /// the same `Double` (`1.0`, `0.1`, `1e-05`, `1.7976931348623157e+308`):
    /// the standard library's own formatting, which every InfluxDB version parses.
    @inline(__always)
    static func writeFloat(_ value: Double, to writer: inout LineWriter) {
        var stream = WriterStream(writer: writer)
        value.write(to: &stream)
        writer = stream.writer
    }
}

/// A `TextOutputStream` over a `LineWriter`.
private struct WriterStream: TextOutputStream {
    var writer: LineWriter

    mutating func write(_ string: String) {
        Bytes.withUTF8(string) { bytes in
            writer.write(bytes)
        }
    }

    /// The standard library formats floats into a stack buffer and hands it
    /// over here; implementing this requirement avoids building a `String`.
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        writer.write(buffer)
    }
}
