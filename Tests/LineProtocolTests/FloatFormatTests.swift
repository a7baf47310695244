import LineProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The encoder's float text must be exactly `Double.description` (the
/// shortest decimal that reads back as the same double, nearest among those)
/// and must read back bit for bit. The encoder has its own formatter for
/// 1e-4 … 2^52 and falls back to the standard library elsewhere; these tests
/// compare both against `description` on millions of doubles.
@Suite("Encoder: float formatting against Double.description")
struct FloatFormatTests {
    /// Encodes `values` as fields `f0`, `f1` … of one point per chunk and
    /// returns the text of each value.
    private static func encodedTexts(_ values: [Double]) throws -> [Substring] {
        var encoder = LineProtocolEncoder()
        var buffer: [UInt8] = []
        var texts: [Substring] = []
        texts.reserveCapacity(values.count)
        let chunk = 64
        for start in stride(from: 0, to: values.count, by: chunk) {
            let slice = values[start..<min(start + chunk, values.count)]
            let fields = slice.enumerated().map { Field("f\($0.offset)", .float($0.element)) }
            buffer.removeAll(keepingCapacity: true)
            try encoder.append(Point(measurement: "m", fields: fields, timestampNanoseconds: 1), to: &buffer)
            // "m f0=…,f1=… 1\n": the values are between "=" and the next "," or " ".
            let line = String(decoding: buffer, as: UTF8.self)
            let body = line.dropFirst(2).prefix { $0 != " " }
            for field in body.split(separator: ",") {
                texts.append(field[field.index(after: field.firstIndex(of: "=")!)...])
            }
        }
        return texts
    }

    /// Checks every value; returns the number of mismatches (and records the first few).
    private static func check(_ values: [Double], _ label: String) throws {
        let texts = try encodedTexts(values)
        #expect(texts.count == values.count)
        var failures = 0
        for (value, text) in zip(values, texts) {
            let readBack = Double(String(text))
            if text != value.description || readBack?.bitPattern != value.bitPattern {
                failures += 1
                if failures <= 5 {
                    Issue.record("\(label): \(value.bitPattern) written as \(text), description \(value.description), reads back as \(String(describing: readBack))")
                }
            }
        }
        #expect(failures == 0, "\(label): \(failures) of \(values.count) differ")
    }

    @Test("2 million random doubles, log-uniform over 1e-5 ... 1e17, both signs")
    func logUniform() throws {
        var generator = SeededGenerator(seed: 0xF10A7)
        var values: [Double] = []
        values.reserveCapacity(2_000_000)
        for _ in 0..<2_000_000 {
            let exponent = Double.random(in: -5...17, using: &generator)
            var value = Double.pow10(exponent)
            if Bool.random(using: &generator) { value = -value }
            values.append(value)
        }
        try Self.check(values, "log-uniform")
    }

    @Test("1 million random bit patterns (every exponent, subnormals), finite ones only")
    func randomBits() throws {
        var generator = SeededGenerator(seed: 0xB175)
        var values: [Double] = []
        while values.count < 1_000_000 {
            let value = Double(bitPattern: generator.next())
            if value.isFinite { values.append(value) }
            // Subnormals: exponent bits zero.
            let subnormal = Double(bitPattern: generator.next() & 0x800F_FFFF_FFFF_FFFF)
            values.append(subnormal)
        }
        try Self.check(values, "random bits")
    }

    @Test("short decimals, integers, powers of ten and two and their neighbours, zeros, edges")
    func specialValues() throws {
        var generator = SeededGenerator(seed: 0x5407)
        var values: [Double] = [0.0, -0.0, 1e-4, 0.00011, 9.999e-5, 1, -1, 0.1, 0.5, 2.5, 100,
                                4_503_599_627_370_495.5, 4_503_599_627_370_496, 9_007_199_254_740_992,
                                1_125_899_906_842_624.25, .leastNonzeroMagnitude, .leastNormalMagnitude,
                                .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .pi, .ulpOfOne]
        // Short decimals: integers over powers of ten (the usual metric values).
        for _ in 0..<500_000 {
            let digits = Int.random(in: 1...17, using: &generator)
            var mantissa: Int64 = 0
            for _ in 0..<digits { mantissa = mantissa * 10 + Int64.random(in: 0...9, using: &generator) }
            let value = Double(mantissa) / Double.pow10(Double(Int.random(in: 0...22, using: &generator)))
            values.append(value)
            values.append(Double(mantissa))
        }
        // Integers near and beyond 2^53.
        for _ in 0..<100_000 {
            values.append(Double(Int64.random(in: 0...(1 << 55), using: &generator)))
        }
        // Powers of ten and two, each with its two neighbours.
        for exponent in -330...310 {
            let power = Double.pow10(Double(exponent))
            values += [power, power.nextUp, power.nextDown]
        }
        for exponent in -1074...1023 {
            let power = Double(sign: .plus, exponent: exponent, significand: 1)
            values += [power, power.nextUp, power.nextDown, -power]
        }
        try Self.check(values.filter(\.isFinite), "special values")
    }
}

extension Double {
    /// 10 to the power `exponent`: correctly rounded (parsed from text) for
    /// whole exponents, `pow`'s approximation otherwise (any double will do).
    fileprivate static func pow10(_ exponent: Double) -> Double {
        if exponent == exponent.rounded() {
            return Double("1e\(Int(exponent))")!
        }
        return pow(10, exponent)
    }
}
