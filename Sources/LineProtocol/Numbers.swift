/// Decimal formatting of integers and floats straight into the output buffer.
enum Numbers {
    /// Appends `value` in decimal, with a leading `-` when negative.
    @inline(__always)
    static func appendDecimal(_ value: Int64, into buffer: inout [UInt8]) {
        appendDecimal(value.magnitude, negative: value < 0, into: &buffer)
    }

    /// Appends `magnitude` in decimal, preceded by `-` when `negative`.
    static func appendDecimal(_ magnitude: UInt64, negative: Bool, into buffer: inout [UInt8]) {
        // 20 digits for UInt64.max plus a sign fit in 24 bytes of stack.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var start = raw.count
            var rest = magnitude
            while rest >= 100 {
                let pair = Int(rest % 100)
                rest /= 100
                start -= 2
                raw[start] = UInt8(truncatingIfNeeded: pair / 10) &+ 0x30
                raw[start + 1] = UInt8(truncatingIfNeeded: pair % 10) &+ 0x30
            }
            if rest >= 10 {
                start -= 2
                raw[start] = UInt8(truncatingIfNeeded: rest / 10) &+ 0x30
                raw[start + 1] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            } else {
                start -= 1
                raw[start] = UInt8(truncatingIfNeeded: rest) &+ 0x30
            }
            if negative {
                start -= 1
                raw[start] = UInt8(ascii: "-")
            }
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
    }

    /// Appends a finite `value` in the shortest decimal form that reads back as
    /// the same `Double` (`1.0`, `0.1`, `1e-05`, `1.7976931348623157e+308`):
    /// the standard library's own formatting, which every InfluxDB version parses.
    @inline(__always)
    static func appendFloat(_ value: Double, into buffer: inout [UInt8]) {
        // Lend the buffer to a TextOutputStream (a swap, no copy) so the digits
        // go straight into it, with no intermediate String.
        var stream = ByteStream()
        swap(&stream.bytes, &buffer)
        value.write(to: &stream)
        swap(&stream.bytes, &buffer)
    }
}

/// A `TextOutputStream` over a byte array.
private struct ByteStream: TextOutputStream {
    var bytes: [UInt8] = []

    mutating func write(_ string: String) {
        bytes.append(contentsOf: string.utf8)
    }

    /// The standard library formats floats into a stack buffer and hands it
    /// over here; implementing this requirement avoids building a `String`.
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: buffer)
    }
}
