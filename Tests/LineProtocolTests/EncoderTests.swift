import LineProtocol
import Testing

/// Encodes one point with fresh default options.
private func line(_ point: Point, options: LineProtocolEncoder.Options = .init()) throws -> String {
    var encoder = LineProtocolEncoder(options: options)
    return try encoder.line(for: point)
}

private func point(
    _ measurement: String = "m", tags: [Tag] = [], fields: [Field] = [Field("f", .integer(1))],
    time: Int64 = 1
) -> Point {
    Point(measurement: measurement, tags: tags, fields: fields, timestampNanoseconds: time)
}

/// The error thrown for `point`, or nil.
private func error(_ point: Point, options: LineProtocolEncoder.Options = .init()) -> LineProtocolError? {
    var encoder = LineProtocolEncoder(options: options)
    var buffer: [UInt8] = []
    do {
        try encoder.append(point, to: &buffer)
        return nil
    } catch {
        return error
    }
}

@Suite("Encoder: exact lines")
struct EncoderLineTests {
    @Test("the reference's perf example, tags given out of order")
    func referenceExample() throws {
        let sample = Point(
            measurement: "perf",
            tags: [
                Tag("container_name", "victim"), Tag("benchmark_id", "42"), Tag("container_index", "0"),
                Tag("collector", "perf"), Tag("container_id", "3f2a9c1b7d0e"),
            ],
            fields: [
                Field("instructions", .integer(123_456_789)), Field("instructions_enabled_ns", .integer(1_000_000_000)),
                Field("instructions_running_ns", .integer(500_000_000)), Field("ipc", .float(1.37)),
            ],
            timestampNanoseconds: 1_732_874_400_000_000_000)
        #expect(
            try line(sample)
                == "perf,benchmark_id=42,collector=perf,container_id=3f2a9c1b7d0e,container_index=0,container_name=victim "
                + "instructions=123456789i,instructions_enabled_ns=1000000000i,instructions_running_ns=500000000i,"
                + "ipc=1.37 1732874400000000000\n")
    }

    @Test("measurement escapes comma and space only")
    func measurementEscaping() throws {
        #expect(try line(point("my meas,ure=x")) == "my\\ meas\\,ure=x f=1i 1\n")
    }

    @Test("tag keys and values escape comma, equals and space")
    func tagEscaping() throws {
        #expect(try line(point(tags: [Tag("a b,c=d", "x=y z,w")])) == "m,a\\ b\\,c\\=d=x\\=y\\ z\\,w f=1i 1\n")
    }

    @Test("field keys escape comma, equals and space")
    func fieldKeyEscaping() throws {
        #expect(try line(point(fields: [Field("k =,", .boolean(true))])) == "m k\\ \\=\\,=true 1\n")
    }

    @Test("string values escape quote and backslash, and nothing else")
    func stringEscaping() throws {
        let value = #"he said "hi", a=b \ bye \n"#
        #expect(try line(point(fields: [Field("s", .string(value))])) == #"m s="he said \"hi\", a=b \\ bye \\n" 1"# + "\n")
    }

    @Test("control characters in string values become two literal characters")
    func stringControlCharacters() throws {
        let encoded = try line(point(fields: [Field("s", .string("a\nb\rc\td\u{0C}e"))]))
        #expect(encoded == #"m s="a\\nb\\rc\\td\\fe" 1"# + "\n")
        let parsed = try TestLineParser.parse(Array(encoded.utf8))
        #expect(parsed.first?.fields.first?.value == .string(#"a\nb\rc\td\fe"#))
    }

    @Test("a backslash in a name is written as is when unambiguous")
    func literalBackslash() throws {
        #expect(try line(point(#"a\b"#, tags: [Tag(#"k\\x"#, #"v\w"#)], fields: [Field(#"f\"#+"g", .integer(1))]))
            == #"a\b,k\\x=v\w f\g=1i 1"# + "\n")
    }

    @Test("unicode and quotes pass through untouched")
    func unicode() throws {
        #expect(try line(point("日本", tags: [Tag("é", "🙂\"q")], fields: [Field("ß'", .string("ü"))]))
            == "日本,é=🙂\"q ß'=\"ü\" 1\n")
    }

    @Test("floats: shortest round-trip form", arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (-1.5, "-1.5"), (1e-5, "1e-05"), (1e16, "1e+16"), (-0.0, "-0.0"),
        (0.30000000000000004, "0.30000000000000004"), (Double.leastNonzeroMagnitude, "5e-324"),
        (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"), (123456789.125, "123456789.125"),
    ])
    func floats(value: Double, text: String) throws {
        #expect(try line(point(fields: [Field("f", .float(value))])) == "m f=\(text) 1\n")
    }

    @Test("integers end in i, including the extremes")
    func integers() throws {
        #expect(try line(point(fields: [
            Field("a", .integer(0)), Field("b", .integer(-7)), Field("c", .integer(.max)), Field("d", .integer(.min)),
        ])) == "m a=0i,b=-7i,c=9223372036854775807i,d=-9223372036854775808i 1\n")
    }

    @Test("unsigned: clamped i integer by default (InfluxDB 1.x), u on request")
    func unsigned() throws {
        let fields = [Field("a", .unsigned(5)), Field("b", .unsigned(.max))]
        #expect(try line(point(fields: fields)) == "m a=5i,b=9223372036854775807i 1\n")
        #expect(try line(point(fields: fields), options: .init(unsignedIntegers: .unsigned))
            == "m a=5u,b=18446744073709551615u 1\n")
    }

    @Test("booleans")
    func booleans() throws {
        #expect(try line(point(fields: [Field("t", .boolean(true)), Field("f", .boolean(false))]))
            == "m t=true,f=false 1\n")
    }

    @Test("timestamps: ns, negative, and InfluxDB's extremes")
    func timestamps() throws {
        #expect(try line(point(time: 0)) == "m f=1i 0\n")
        #expect(try line(point(time: -1)) == "m f=1i -1\n")
        #expect(try line(point(time: Int64.max - 1)) == "m f=1i 9223372036854775806\n")
        #expect(try line(point(time: Int64.min + 2)) == "m f=1i -9223372036854775806\n")
    }

    @Test("tags sorted by UTF-8 bytes, not by String order")
    func tagOrder() throws {
        // Swift's String considers "e\u{301}" and "\u{E9}" equal; their bytes differ.
        let tags = [Tag("\u{E9}", "2"), Tag("a", "3"), Tag("e\u{301}", "1"), Tag("Z", "4"), Tag("B", "5")]
        #expect(try line(point(tags: tags)) == "m,B=5,Z=4,a=3,e\u{301}=1,\u{E9}=2 f=1i 1\n")
    }

    @Test("empty tag values are omitted; trailing backslashes trimmed first")
    func emptyTagValues() throws {
        let tags = [Tag("a", ""), Tag("b", #"x\\"#), Tag("c", #"\\\"#), Tag("d", "y")]
        #expect(try line(point(tags: tags)) == "m,b=x,d=y f=1i 1\n")
    }

    @Test("NaN and infinities: field omitted by default and counted")
    func nonFiniteOmitted() throws {
        var encoder = LineProtocolEncoder()
        var buffer: [UInt8] = []
        let omitted = try encoder.append(
            point(fields: [Field("a", .float(.nan)), Field("b", .float(2)), Field("c", .float(-.infinity))]),
            to: &buffer)
        #expect(omitted == 2)
        #expect(String(decoding: buffer, as: UTF8.self) == "m b=2.0 1\n")
    }

    @Test("points append one line each to a reused buffer")
    func reuse() throws {
        var encoder = LineProtocolEncoder()
        var buffer: [UInt8] = []
        try encoder.append(point("a", tags: [Tag("y", "1"), Tag("x", "2")]), to: &buffer)
        try encoder.append(point("b", tags: [Tag("k", "v")]), to: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "a,x=2,y=1 f=1i 1\nb,k=v f=1i 1\n")
    }
}

@Suite("Encoder: errors")
struct EncoderErrorTests {
    @Test("empty measurement, keys; no fields")
    func empties() {
        #expect(error(point(""))?.reason == .empty)
        #expect(error(point(""))?.element == .measurement)
        #expect(error(point(tags: [Tag("", "v")]))?.element == .tagKey)
        #expect(error(point(fields: [Field("", .integer(1))]))?.element == .fieldKey)
        #expect(error(point(fields: []))?.reason == .noFields)
        #expect(error(point(fields: [Field("x", .float(.nan))]))?.reason == .noFields)
    }

    @Test("a measurement starting with # would be a comment")
    func hash() {
        #expect(error(point("#m"))?.reason == .startsWithHash)
        #expect(error(point("m#")) == nil)
    }

    @Test("control characters in names", arguments: ["\n", "\r", "\t", "\u{0C}", "\u{0}", "\u{7F}"])
    func controlCharacters(character: String) {
        let byte = character.utf8.first!
        #expect(error(point("a\(character)b"))?.reason == .controlCharacter(byte))
        #expect(error(point(tags: [Tag("k\(character)", "v")]))?.element == .tagKey)
        #expect(error(point(tags: [Tag("k", "v\(character)")]))?.element == .tagValue)
        #expect(error(point(fields: [Field("f\(character)", .integer(1))]))?.element == .fieldKey)
    }

    @Test("backslashes that line protocol cannot spell")
    func backslashes() {
        #expect(error(point(#"m\"#))?.reason == .unencodableBackslash)
        #expect(error(point(#"m\,x"#))?.reason == .unencodableBackslash)
        #expect(error(point(#"m\ x"#))?.reason == .unencodableBackslash)
        #expect(error(point(tags: [Tag(#"k\"#, "v")]))?.reason == .unencodableBackslash)
        #expect(error(point(tags: [Tag(#"k\=x"#, "v")]))?.reason == .unencodableBackslash)
        #expect(error(point(tags: [Tag("k", #"v\,w"#)]))?.reason == .unencodableBackslash)
        #expect(error(point(fields: [Field(#"f\"#, .integer(1))]))?.reason == .unencodableBackslash)
        #expect(error(point(fields: [Field(#"f\ g"#, .integer(1))]))?.reason == .unencodableBackslash)
        // InfluxDB 1.x also drops a `\` before `=` and `"` in measurements and field keys.
        #expect(error(point(#"m\=x"#))?.reason == .unencodableBackslash)
        #expect(error(point(#"m\"x"#))?.reason == .unencodableBackslash)
        #expect(error(point(fields: [Field(#"f\"g"#, .integer(1))]))?.reason == .unencodableBackslash)
        #expect(error(point(tags: [Tag("k", #"v\"w"#)]))?.reason == .unencodableBackslash)
    }

    @Test("a bad key is an error even when its tag or field is omitted")
    func omittedKeysChecked() {
        #expect(error(point(tags: [Tag("k\n", "")]))?.element == .tagKey)
        #expect(error(point(tags: [Tag("time", "")]))?.reason == .reservedKey)
        #expect(error(point(fields: [Field("a", .integer(1)), Field(#"b\"#, .float(.nan))]))?.element == .fieldKey)
    }

    @Test("duplicate tag keys, sorted or not")
    func duplicateTags() throws {
        #expect(error(point(tags: [Tag("a", "1"), Tag("a", "2")]))?.reason == .duplicateTagKey)
        #expect(error(point(tags: [Tag("b", "1"), Tag("a", "1"), Tag("b", "2")]))?.reason == .duplicateTagKey)
        // An omitted tag does not count, whether its value is empty or only `\`.
        #expect(error(point(tags: [Tag("a", ""), Tag("a", "2")])) == nil)
        #expect(try line(point(tags: [Tag("b", "1"), Tag("a", #"\\"#), Tag("a", "2")])) == "m,a=2,b=1 f=1i 1\n")
        #expect(try line(point(tags: [Tag("a", "2"), Tag("a", #"\"#)])) == "m,a=2 f=1i 1\n")
    }

    @Test("reserved keys", arguments: ["time", "_field", "_measurement"])
    func reserved(key: String) {
        #expect(error(point(tags: [Tag(key, "v")]))?.reason == .reservedKey)
        #expect(error(point(fields: [Field(key, .integer(1))]))?.reason == .reservedKey)
    }

    @Test("NaN rejected on request, naming the field")
    func nonFiniteRejected() throws {
        let failure = try #require(
            error(point("cpu", fields: [Field("ipc", .float(.infinity))]), options: .init(nonFiniteFloats: .reject)))
        #expect(failure.reason == .nonFiniteFloat)
        #expect(failure.description.contains("\"cpu\""))
        #expect(failure.description.contains("field \"ipc\""))
    }

    @Test("timestamps outside InfluxDB's range", arguments: [Int64.min, Int64.min + 1, Int64.max])
    func timestampRange(time: Int64) {
        #expect(error(point(time: time))?.reason == .timestampOutOfRange(time))
    }

    @Test("string values longer than 64 KB")
    func longString() {
        let long = String(repeating: "x", count: LineProtocolEncoder.maximumStringBytes + 1)
        #expect(error(point(fields: [Field("s", .string(long))]))?.reason == .stringTooLong(65_536))
        let fits = String(repeating: "x", count: LineProtocolEncoder.maximumStringBytes)
        #expect(error(point(fields: [Field("s", .string(fits))])) == nil)
    }

    @Test("a failed append leaves the buffer as it was")
    func atomic() throws {
        var encoder = LineProtocolEncoder()
        var buffer = Array("previous\n".utf8)
        #expect(throws: LineProtocolError.self) {
            try encoder.append(
                point("m", tags: [Tag("a", "1")], fields: [Field("ok", .integer(1)), Field("bad\n", .integer(2))]),
                to: &buffer)
        }
        #expect(String(decoding: buffer, as: UTF8.self) == "previous\n")
    }

    @Test("messages name the measurement, the element and the key")
    func messages() throws {
        let failure = try #require(error(point("perf", tags: [Tag("container\nname", "v")])))
        #expect(failure.measurement == "perf")
        #expect(failure.key == "container\nname")
        #expect(failure.description
            == #"line protocol: measurement "perf", tag key "container\nname": tag key contains the control "#
            + #"character \n, which line protocol cannot carry in names"#)
    }
}

@Suite("Encoder: long names (word-at-a-time path)")
struct EncoderLongNameTests {
    @Test("a special byte at every position of names of 1 to 40 bytes")
    func everyPosition() throws {
        var encoder = LineProtocolEncoder()
        for length in 1...40 {
            for position in 0..<length {
                for special in [" ", ",", "=", "\u{7F}", "\n", "\\x", "é"] {
                    var characters = Array(repeating: "a", count: length)
                    characters[position] = special
                    let name = characters.joined()
                    let point = Point(measurement: "m" + name, tags: [Tag("k" + name, "v" + name)],
                                      fields: [Field("f" + name, .string(name))], timestampNanoseconds: 5)
                    let expected = expectedRoundTrip(of: point, options: .init())
                    var buffer: [UInt8] = []
                    do {
                        try encoder.append(point, to: &buffer)
                    } catch {
                        #expect(expected == nil, "\(error)")
                        continue
                    }
                    let parsed = try TestLineParser.parse(buffer)
                    #expect(parsed.count == 1 && expected.map { identical(parsed[0], $0) } == true,
                            "\(String(decoding: buffer, as: UTF8.self))")
                }
            }
        }
    }
}

@Suite("Encoder: integers of every length")
struct EncoderIntegerTests {
    @Test("powers of ten and their neighbours, signed and unsigned")
    func powersOfTen() throws {
        var encoder = LineProtocolEncoder(options: .init(unsignedIntegers: .unsigned))
        var value: UInt64 = 1
        for _ in 0...19 {
            for candidate in [value - 1, value, value + 1] {
                let signed = Int64(clamping: candidate)
                let line = try encoder.line(for: Point(
                    measurement: "m", fields: [Field("u", .unsigned(candidate)), Field("i", .integer(-signed))],
                    timestampNanoseconds: signed == .max ? 0 : signed))
                #expect(line == "m u=\(candidate)u,i=\(-signed)i \(signed == .max ? 0 : signed)\n")
            }
            value = value.multipliedReportingOverflow(by: 10).partialValue
        }
        #expect(try encoder.line(for: Point(measurement: "m", fields: [Field("u", .unsigned(.max))],
                                            timestampNanoseconds: 0)) == "m u=18446744073709551615u 0\n")
    }
}
