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
    /// the same `Double` (`1.0`, `0.1`, `1e-05`, `1.7976931348623157e+308`),
    /// exactly as the standard library's `description` spells it, which every
    /// InfluxDB version parses. Values from 1e-4 to 2^52 (almost every metric)
    /// take ``writeShortestDecimal(_:to:)``; others, and the rare ties it
    /// leaves, take the standard library's formatting.
    @inline(__always)
    static func writeFloat(_ value: Double, to writer: inout LineWriter) {
        if writeShortestDecimal(value, to: &writer) { return }
        var stream = WriterStream(writer: writer)
        value.write(to: &stream)
        writer = stream.writer
    }

    /// 10^`exponent` for 0 ≤ `exponent` ≤ 19 (a constant table after optimisation).
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        default: 10_000_000_000_000_000_000
        }
    }

    /// Writes `value` in decimal notation (`0.0001` … `4503599627370495.5`)
    /// with the fewest significant digits that read back as `value`, the one
    /// nearest to `value` among those, and returns true; returns false (and
    /// writes nothing) when `value` is outside 1e-4 ..< 2^52 in magnitude, is
    /// subnormal, or is exactly halfway between two shortest candidates.
    ///
    /// Exact integer arithmetic (Ryu's idea without its tables): with
    /// `value = f·2^-s` (1 ≤ s ≤ 66), the doubles that read back as `value`
    /// are those strictly between the midpoints to its neighbours,
    /// `(4f ± 2)·2^-(s+2)` (`4f - 1` below a power of two). Scaled by 10^K,
    /// where 10^K ≥ 10·2^s so that several integers fit between them, the
    /// bounds and `value` itself fit in 128 bits; dividing by 2^(s+2) is a
    /// shift. Digits are then dropped from the right while a multiple of 10
    /// still lies strictly inside the bounds, and `value` is rounded to the
    /// remaining precision (clamped into the bounds).
    ///
    /// The midpoints themselves never matter here: a midpoint has s+1 or s+2
    /// fractional decimal digits, more than the candidates inside the interval
    /// need for s ≥ 1, so whether they count as reading back (round half to
    /// even) cannot change the shortest result.
    static func writeShortestDecimal(_ value: Double, to writer: inout LineWriter) -> Bool {
        let bits = value.bitPattern
        let biasedExponent = Int(truncatingIfNeeded: (bits >> 52) & 0x7FF)
        let mantissa = bits & 0x000F_FFFF_FFFF_FFFF
        if biasedExponent == 0 {
            guard mantissa == 0 else { return false }  // subnormal
            let text: StaticString = bits == 0 ? "0.0" : "-0.0"
            writer.write(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
            return true
        }
        let s = 1075 &- biasedExponent  // value = f·2^-s
        // s ≥ 1: |value| < 2^52; s ≤ 66: |value| ≥ 2^-14, and the products below fit.
        guard s >= 1 && s <= 66 else { return false }
        let f = mantissa | (1 << 52)
        // K with 10^K ≥ 10·2^s: floor(s·log10 2) + 2 (1233/4096 < log10 2,
        // and within 0.0003·s of it, which changes no floor for s ≤ 66).
        let k = ((s &* 1233) >> 12) &+ 2  // 2 … 21
        let scaledMantissa: UInt128  // 4f·10^K, at most 2^55·10^21 < 2^125
        if k <= 19 {
            let (high, low) = (f << 2).multipliedFullWidth(by: powerOfTen(k))
            scaledMantissa = UInt128(high) << 64 | UInt128(low)
        } else {
            let (high, low) = (f << 2).multipliedFullWidth(by: powerOfTen(19))
            scaledMantissa = (UInt128(high) << 64 | UInt128(low)) &* UInt128(powerOfTen(k &- 19))
        }
        let scale = UInt128(powerOfTen(min(k, 19))) &* UInt128(powerOfTen(max(k &- 19, 0)))
        let shift = UInt128(s &+ 2)
        let mask: UInt128 = (1 << shift) &- 1
        let center = scaledMantissa
        let halfGap = scale << 1
        let upper = center &+ halfGap
        let lower = center &- (mantissa == 0 && biasedExponent > 1 ? scale : halfGap)
        // Candidates m (value m·10^-K) strictly between lower and upper.
        var low = UInt64(truncatingIfNeeded: lower >> shift) &+ 1
        var high = UInt64(truncatingIfNeeded: upper >> shift)
        if upper & mask == 0 { high &-= 1 }
        guard low <= high else { return false }  // cannot happen with this K; be safe
        // value·10^K = nearest + fraction; the fraction is kept as: the last
        // digit dropped below and whether anything non-zero was dropped
        // before it (for rounding to nearest).
        var nearest = UInt64(truncatingIfNeeded: center >> shift)
        let remainder = center & mask
        let half: UInt128 = 1 << (shift &- 1)
        var lastDropped: UInt64 = 0
        var droppedNonZero = false

        // Drop digits while a multiple of 10 (first of 10^8) stays inside.
        var dropped = 0
        while (low &+ 99_999_999) / 100_000_000 <= high / 100_000_000 {
            low = (low &+ 99_999_999) / 100_000_000
            high /= 100_000_000
            let rest = nearest % 100_000_000
            nearest /= 100_000_000
            droppedNonZero = droppedNonZero || lastDropped != 0 || rest % 10_000_000 != 0
            lastDropped = rest / 10_000_000
            dropped &+= 8
        }
        while (low &+ 9) / 10 <= high / 10 {
            low = (low &+ 9) / 10
            high /= 10
            droppedNonZero = droppedNonZero || lastDropped != 0
            lastDropped = nearest % 10
            nearest /= 10
            dropped &+= 1
        }
        // Round to the nearest integer; exact ties go to the standard
        // library, which has its own rule for them.
        if dropped == 0 {
            if remainder > half {
                nearest &+= 1
            } else if remainder == half {
                return false
            }
        } else {
            let below = droppedNonZero || remainder != 0
            if lastDropped > 5 || (lastDropped == 5 && below) {
                nearest &+= 1
            } else if lastDropped == 5 {
                return false
            }
        }
        if nearest < low { nearest = low }
        if nearest > high { nearest = high }

        // value ≈ nearest·10^exponent, written in decimal notation.
        let exponent = dropped &- k
        let digits = digitCount(nearest)
        let integerDigits = digits &+ exponent
        guard integerDigits >= -3 else { return false }  // below 1e-4: exponent notation
        if bits >> 63 != 0 {
            writer.write(UInt8(ascii: "-"))
        }
        if exponent >= 0 {
            writeDecimal(nearest, to: &writer)
            for _ in 0..<exponent { writer.write(UInt8(ascii: "0")) }
            writer.write(UInt8(ascii: "."))
            writer.write(UInt8(ascii: "0"))
        } else if integerDigits > 0 {
            let start = writer.base + writer.count
            writeDecimal(nearest, to: &writer)
            // Open a gap for the point: move the fraction's digits right by one.
            var index = digits
            while index > integerDigits {
                start[index] = start[index &- 1]
                index &-= 1
            }
            start[integerDigits] = UInt8(ascii: ".")
            writer.skip(1)
        } else {
            writer.write(UInt8(ascii: "0"))
            writer.write(UInt8(ascii: "."))
            for _ in 0..<(0 &- integerDigits) { writer.write(UInt8(ascii: "0")) }
            writeDecimal(nearest, to: &writer)
        }
        return true
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
