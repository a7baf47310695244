/// Decimal formatting of integers and floats straight into a `LineWriter`.
enum Numbers {
    /// Room for any number: the longest shortest-round-trip double is 24
    /// bytes (`-2.2250738585072014e-308`), the longest integer 20 digits plus
    /// a sign and a suffix.
    static var maximumNumberBytes: Int { 32 }

    /// Writes `value` in decimal, with a leading `-` when negative.
    @inline(__always)
    static func writeDecimal(_ value: Int64, to writer: inout LineWriter) {
        if value < 0 {
            writer.write(UInt8(ascii: "-"))
        }
        writeDecimal(value.magnitude, to: &writer)
    }

    /// Writes `value` in decimal, two digits at a time, back to front,
    /// straight into the line.
    static func writeDecimal(_ value: UInt64, to writer: inout LineWriter) {
        // "00" "01" … "99": a constant in the binary, no initialisation needed.
        let pairs: StaticString = """
            00010203040506070809101112131415161718192021222324252627282930313233343536373839\
            40414243444546474849505152535455565758596061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        let table = pairs.utf8Start
        let digits = digitCount(value)
        let out = writer.base + writer.count
        var position = digits
        var wide = value
        // Eight digits at a time in 32-bit arithmetic (cheaper than 64-bit
        // division), then the leading ones.
        while wide >= 100_000_000 {
            var low = UInt32(truncatingIfNeeded: wide % 100_000_000)
            wide /= 100_000_000
            for _ in 0..<4 {
                let pair = Int(truncatingIfNeeded: low % 100) &* 2
                low /= 100
                position &-= 2
                out[position] = table[pair]
                out[position &+ 1] = table[pair &+ 1]
            }
        }
        var rest = UInt32(truncatingIfNeeded: wide)
        while rest >= 100 {
            let pair = Int(truncatingIfNeeded: rest % 100) &* 2
            rest /= 100
            position &-= 2
            out[position] = table[pair]
            out[position &+ 1] = table[pair &+ 1]
        }
        if rest >= 10 {
            let pair = Int(truncatingIfNeeded: rest) &* 2
            out[0] = table[pair]
            out[1] = table[pair &+ 1]
        } else {
            out[0] = UInt8(truncatingIfNeeded: rest) &+ 0x30
        }
        writer.skip(digits)
    }

    /// The number of decimal digits of `value` (1...20), by comparisons.
    @inline(__always)
    static func digitCount(_ value: UInt64) -> Int {
        if value < 10_000_000_000 {
            if value < 100_000 {
                if value < 100 { return value < 10 ? 1 : 2 }
                return value < 1_000 ? 3 : (value < 10_000 ? 4 : 5)
            }
            if value < 10_000_000 { return value < 1_000_000 ? 6 : 7 }
            return value < 100_000_000 ? 8 : (value < 1_000_000_000 ? 9 : 10)
        }
        if value < 1_000_000_000_000_000 {
            if value < 1_000_000_000_000 { return value < 100_000_000_000 ? 11 : 12 }
            if value < 100_000_000_000_000 { return value < 10_000_000_000_000 ? 13 : 14 }
            return 15
        }
        if value < 100_000_000_000_000_000 { return value < 10_000_000_000_000_000 ? 16 : 17 }
        return value < 1_000_000_000_000_000_000 ? 18 : (value < 10_000_000_000_000_000_000 ? 19 : 20)
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
