import LineProtocol
import Testing

@Suite("Fuzz: encode → parse round trip")
struct FuzzTests {
    /// Encodes many random points one by one and checks each against the
    /// independently computed expectation: rejected exactly when the rules say
    /// so (leaving the buffer untouched), otherwise read back identically by
    /// the test parser. Then parses the whole buffer at once.
    func run(seed: UInt64, count: Int, illegalChance: Double, options: LineProtocolEncoder.Options) throws
        -> (accepted: Int, rejected: Int)
    {
        var random = RandomPoints(seed: seed, illegalChance: illegalChance)
        var encoder = LineProtocolEncoder(options: options)
        var buffer: [UInt8] = []
        var expectedPoints: [Point] = []
        var rejected = 0
        for iteration in 0..<count {
            let point = random.point()
            let expected = expectedRoundTrip(of: point, options: options)
            let before = buffer.count
            do {
                try encoder.append(point, to: &buffer)
            } catch {
                #expect(expected == nil, "seed \(seed) #\(iteration): unexpected \(error) for \(point)")
                #expect(buffer.count == before, "seed \(seed) #\(iteration): buffer changed on error")
                rejected += 1
                continue
            }
            guard let expected else {
                let line = String(decoding: buffer[before...], as: UTF8.self)
                Issue.record("seed \(seed) #\(iteration): accepted an invalid point \(point): \(line)")
                continue
            }
            let parsed = try TestLineParser.parse(Array(buffer[before...]))
            #expect(parsed.count == 1)
            if let first = parsed.first, !identical(first, expected) {
                let line = String(decoding: buffer[before...], as: UTF8.self)
                Issue.record("seed \(seed) #\(iteration): \(point)\nline: \(line)parsed:   \(first)\nexpected: \(expected)")
            }
            expectedPoints.append(expected)
        }
        let all = try TestLineParser.parse(buffer)
        #expect(all.count == expectedPoints.count)
        #expect(zip(all, expectedPoints).allSatisfy { identical($0, $1) })
        return (expectedPoints.count, rejected)
    }

    @Test("hostile but legal names: nearly all points round-trip", arguments: [1, 2, 3] as [UInt64])
    func legalNames(seed: UInt64) throws {
        let result = try run(seed: seed, count: 3_000, illegalChance: 0, options: .init())
        #expect(result.accepted > 1_000)
    }

    @Test("control characters in names: rejected, never written", arguments: [11, 12] as [UInt64])
    func illegalNames(seed: UInt64) throws {
        let result = try run(seed: seed, count: 3_000, illegalChance: 0.03, options: .init())
        #expect(result.rejected > 1_000)
        #expect(result.accepted > 100)
    }

    @Test("InfluxDB 2.x options: u integers, NaN rejected")
    func otherOptions() throws {
        _ = try run(seed: 21, count: 3_000, illegalChance: 0.005,
                    options: .init(unsignedIntegers: .unsigned, nonFiniteFloats: .reject))
    }

    @Test("random floats read back bit for bit")
    func floats() throws {
        var generator = SeededGenerator(seed: 99)
        var encoder = LineProtocolEncoder()
        var buffer: [UInt8] = []
        var expected: [Double] = []
        for _ in 0..<20_000 {
            let value = Double(bitPattern: generator.next())
            guard value.isFinite else { continue }
            expected.append(value)
            try encoder.append(Point(measurement: "f", fields: [Field("v", .float(value))], timestampNanoseconds: 0),
                               to: &buffer)
        }
        let parsed = try TestLineParser.parse(buffer)
        let values = parsed.map { point -> UInt64 in
            if case .float(let value) = point.fields[0].value { return value.bitPattern }
            return 0
        }
        #expect(values == expected.map(\.bitPattern))
    }
}
