import LineProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `append(CStringPoint)` must give exactly what `append(Point)` gives for the
/// same strings: the same bytes, the same omitted-field count, the same error.
@Suite("Encoder: C string points equal String points")
struct CStringPointTests {
    /// C copies of a point's strings, freed by `release()`.
    struct CCopy {
        var strings: [UnsafeMutablePointer<CChar>] = []
        var tags: [CStringPoint.Tag] = []
        var fields: [CStringPoint.Field] = []
        var measurement: UnsafeMutablePointer<CChar>?

        init(_ point: Point) {
            measurement = copy(point.measurement)
            for tag in point.tags {
                tags.append(CStringPoint.Tag(key: copy(tag.key), value: copy(tag.value)))
            }
            for field in point.fields {
                let value: CStringPoint.Value
                switch field.value {
                case .float(let number): value = .float(number)
                case .integer(let number): value = .integer(number)
                case .unsigned(let number): value = .unsigned(number)
                case .boolean(let flag): value = .boolean(flag)
                case .string(let text): value = .string(copy(text))
                }
                fields.append(CStringPoint.Field(key: copy(field.key), value: value))
            }
        }

        /// Bytes as given (possibly not UTF-8), NUL-terminated.
        init(rawMeasurement: [UInt8], tag: (key: [UInt8], value: [UInt8]), fieldKey: [UInt8], time: Int64) {
            measurement = copy(rawMeasurement)
            tags = [CStringPoint.Tag(key: copy(tag.key), value: copy(tag.value))]
            fields = [CStringPoint.Field(key: copy(fieldKey), value: .integer(1))]
        }

        mutating func copy(_ text: String) -> UnsafeMutablePointer<CChar> {
            copy(Array(text.utf8))
        }

        mutating func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { pointer[index] = CChar(bitPattern: byte) }
            pointer[bytes.count] = 0
            strings.append(pointer)
            return pointer
        }

        func withPoint<R>(time: Int64, _ body: (CStringPoint) -> R) -> R {
            tags.withUnsafeBufferPointer { tags in
                fields.withUnsafeBufferPointer { fields in
                    body(CStringPoint(measurement: measurement!, tags: tags, fields: fields, timestampNanoseconds: time))
                }
            }
        }

        func release() {
            for pointer in strings { pointer.deallocate() }
        }
    }

    enum Result: Equatable {
        case line([UInt8], omitted: Int)
        case error(LineProtocolError)
    }

    /// Both encodings of `copy`, each appended to a buffer holding `prefix`.
    static func both(_ copy: CCopy, time: Int64, options: LineProtocolEncoder.Options) -> (c: Result, string: Result) {
        var cEncoder = LineProtocolEncoder(options: options)
        var stringEncoder = LineProtocolEncoder(options: options)
        let prefix = Array("m f=1i 1\n".utf8)
        return copy.withPoint(time: time) { point in
            var cBuffer = prefix
            var stringBuffer = prefix
            let c: Result
            do throws(LineProtocolError) {
                let omitted = try cEncoder.append(point, to: &cBuffer)
                c = .line(cBuffer, omitted: omitted)
            } catch {
                #expect(cBuffer == prefix, "buffer changed on error")
                c = .error(error)
            }
            let string: Result
            do throws(LineProtocolError) {
                let omitted = try stringEncoder.append(point.point, to: &stringBuffer)
                string = .line(stringBuffer, omitted: omitted)
            } catch {
                string = .error(error)
            }
            return (c, string)
        }
    }

    @Test(
        "random points (hostile; plain with tags sorted, shuffled, duplicated): same result both ways",
        arguments: [(21, 0.0), (22, 0.02), (23, 0.0)] as [(UInt64, Double)])
    func randomPoints(seed: UInt64, illegalChance: Double) {
        var random = RandomPoints(seed: seed, illegalChance: illegalChance)
        var plain = SeededGenerator(seed: seed &* 31)
        var written = 0
        for iteration in 0..<20_000 {
            var point = random.point()
            if iteration % 2 == 0 {
                // Plain ASCII names, tags sorted: the direct path.
                func plainName() -> String {
                    String((0..<Int.random(in: 1...24, using: &plain)).map { _ in
                        RandomPoints.plain.randomElement(using: &plain)!.first!
                    })
                }
                point.measurement = plainName()
                point.tags = point.tags.map { Tag(plainName(), $0.value.isEmpty ? "" : plainName()) }
                    .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
                if iteration % 4 == 2 {
                    point.tags.shuffle(using: &plain)  // the direct path after sorting
                    if point.tags.count > 1 && iteration % 8 == 2 {
                        point.tags[0].key = point.tags[1].key  // a duplicate key
                    }
                }
                point.fields = point.fields.map { Field(plainName(), $0.value) }
            }
            let options = LineProtocolEncoder.Options(
                unsignedIntegers: iteration % 3 == 0 ? .unsigned : .clampedToInteger,
                nonFiniteFloats: iteration % 5 == 0 ? .reject : .omitField)
            let copy = CCopy(point)
            defer { copy.release() }
            let (c, string) = Self.both(copy, time: point.timestampNanoseconds, options: options)
            #expect(c == string, "seed \(seed) #\(iteration): \(point)")
            if case .line = c { written += 1 }
        }
        #expect(written > 5_000)
    }

    @Test("invalid UTF-8 is repaired as String(cString:) repairs it")
    func invalidUTF8() {
        let copy = CCopy(
            rawMeasurement: [0x63, 0x70, 0xFF, 0x75], tag: (key: Array("host".utf8), value: [0x61, 0xC3]),
            fieldKey: [0xE2, 0x82], time: 1)
        defer { copy.release() }
        let (c, string) = Self.both(copy, time: 1, options: .init())
        #expect(c == string)
        guard case .line(let bytes, _) = c else {
            Issue.record("not written: \(c)")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self).contains("cp\u{FFFD}u,host=a\u{FFFD}"))
    }

    @Test("the perf point: the same line both ways")
    func perfPoint() {
        let point = Point(
            measurement: "perf",
            tags: [Tag("benchmark_id", "20261129-083700-7f3a"), Tag("collector", "perf"), Tag("container_id", "3f2a9c1b7d0e"),
                   Tag("container_index", "3"), Tag("container_name", "victim-3")],
            fields: [Field("instructions", .integer(1_234_567_890)), Field("ipc", .float(1.2345678901234567)),
                     Field("multiplexed", .boolean(true)), Field("event_source", .string("soft\"ware"))],
            timestampNanoseconds: 1_732_874_400_000_000_000)
        let copy = CCopy(point)
        defer { copy.release() }
        let (c, string) = Self.both(copy, time: point.timestampNanoseconds, options: .init())
        #expect(c == string)
        #expect(c == .line(Array(("m f=1i 1\nperf,benchmark_id=20261129-083700-7f3a,collector=perf,container_id=3f2a9c1b7d0e,"
            + "container_index=3,container_name=victim-3 instructions=1234567890i,ipc=1.2345678901234567,multiplexed=true,"
            + "event_source=\"soft\\\"ware\" 1732874400000000000\n").utf8), omitted: 0))
    }
}
