import LineProtocol

/// SplitMix64: a tiny seeded generator, so every fuzz run is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random points with hostile names and values.
struct RandomPoints {
    /// Characters that line protocol treats specially, plus unicode.
    static let nasty: [String] = [
        " ", ",", "=", "\"", "\\", "\\", "#", "'", "é", "e\u{301}", "日", "🙂", "/", ":", ".", "-", "{", "}",
    ]
    /// Characters no name may contain.
    static let illegal: [String] = ["\n", "\r", "\t", "\u{0C}", "\u{0}", "\u{7F}"]
    static let plain = Array("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_").map(String.init)

    var generator: SeededGenerator
    /// Chance that a name character is one of ``illegal`` (makes the point invalid).
    var illegalChance: Double

    init(seed: UInt64, illegalChance: Double) {
        generator = SeededGenerator(seed: seed)
        self.illegalChance = illegalChance
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &generator) < probability
    }

    /// A name of `length` characters; by default mostly 1...8, sometimes up
    /// to 40 (long enough for the encoder's word-at-a-time path).
    mutating func name(length: ClosedRange<Int>? = nil, prefix: String = "") -> String {
        var text = prefix
        let range = length ?? (chance(0.25) ? 9...40 : 1...8)
        for _ in 0..<Int.random(in: range, using: &generator) {
            if chance(illegalChance) {
                text += RandomPoints.illegal.randomElement(using: &generator)!
            } else if chance(0.35) {
                text += RandomPoints.nasty.randomElement(using: &generator)!
            } else {
                text += RandomPoints.plain.randomElement(using: &generator)!
            }
        }
        return text
    }

    mutating func stringValue() -> String {
        var text = ""
        let pool = RandomPoints.plain + RandomPoints.nasty + ["\n", "\r", "\t", "\u{0C}", "\u{1}"]
        for _ in 0..<Int.random(in: 0...16, using: &generator) {
            text += pool.randomElement(using: &generator)!
        }
        return text
    }

    mutating func float() -> Double {
        switch Int.random(in: 0..<8, using: &generator) {
        case 0: return [0.0, -0.0, 1.0, 0.1, .nan, .infinity, -.infinity, .leastNonzeroMagnitude,
                        .greatestFiniteMagnitude, .ulpOfOne].randomElement(using: &generator)!
        case 1, 2: return Double(bitPattern: generator.next())
        case 3: return Double(Int.random(in: -1000...1000, using: &generator)) / 8
        default: return Double.random(in: -1e6...1e6, using: &generator)
        }
    }

    mutating func integer() -> Int64 {
        chance(0.2) ? [Int64.min, Int64.max, 0, -1].randomElement(using: &generator)! : Int64(bitPattern: generator.next())
    }

    mutating func unsigned() -> UInt64 {
        chance(0.2) ? [UInt64.max, UInt64(Int64.max), UInt64(Int64.max) + 1, 0].randomElement(using: &generator)!
            : generator.next() >> UInt64.random(in: 0...63, using: &generator)
    }

    /// A value of the kind given by `type` (0 float, 1 integer, 2 unsigned,
    /// 3 boolean, 4 string).
    mutating func value(ofType type: Int) -> FieldValue {
        switch type {
        case 0: return .float(float())
        case 1: return .integer(integer())
        case 2: return .unsigned(unsigned())
        case 3: return .boolean(chance(0.5))
        default: return .string(stringValue())
        }
    }

    mutating func tagValue() -> String {
        if chance(0.1) { return "" }
        if chance(0.1) { return name() + "\\" }
        return name()
    }

    mutating func point() -> Point {
        var tags: [Tag] = []
        for _ in 0..<Int.random(in: 0...6, using: &generator) {
            tags.append(Tag(name(), tagValue()))
        }
        var fields: [Field] = []
        for _ in 0..<Int.random(in: 0...6, using: &generator) {
            fields.append(Field(name(), value(ofType: Int.random(in: 0...4, using: &generator))))
        }
        let time = chance(0.05)
            ? [Int64.min, Int64.max, Int64.min + 2, Int64.max - 1].randomElement(using: &generator)!
            : Int64(bitPattern: generator.next())
        return Point(measurement: name(length: 0...8), tags: tags, fields: fields, timestampNanoseconds: time)
    }
}

/// What a point should read back as after encoding, worked out from the
/// documented rules with plain `String` operations — independently of the
/// encoder's byte-level code. nil means the encoder must reject the point.
func expectedRoundTrip(of point: Point, options: LineProtocolEncoder.Options) -> Point? {
    func hasControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
    /// A `\` must not end a name or precede a character the name escapes.
    func hasBadBackslash(_ text: String, escaped: Set<Character>) -> Bool {
        let characters = Array(text.utf8)
        for (index, byte) in characters.enumerated() where byte == 0x5C {
            if index + 1 == characters.count { return true }
            if escaped.contains(Character(Unicode.Scalar(characters[index + 1]))) { return true }
        }
        return false
    }
    // InfluxDB drops a `\` before any of these, in every kind of name.
    let keyEscaped: Set<Character> = [",", "=", " ", "\""]
    func validKey(_ key: String) -> Bool {
        !key.isEmpty && !["time", "_field", "_measurement"].contains(where: { Array($0.utf8) == Array(key.utf8) })
            && !hasControl(key) && !hasBadBackslash(key, escaped: keyEscaped)
    }

    guard LineProtocolEncoder.timestampRange.contains(point.timestampNanoseconds) else { return nil }
    let measurement = point.measurement
    guard !measurement.isEmpty, measurement.utf8.first != 0x23, !hasControl(measurement),
        !hasBadBackslash(measurement, escaped: keyEscaped)
    else { return nil }

    var tags: [Tag] = []
    for tag in point.tags {
        var value = tag.value
        while value.utf8.last == 0x5C { value = String(decoding: value.utf8.dropLast(), as: UTF8.self) }
        guard validKey(tag.key) else { return nil }
        if value.isEmpty { continue }
        guard !hasControl(value), !hasBadBackslash(value, escaped: keyEscaped) else { return nil }
        guard !tags.contains(where: { Array($0.key.utf8) == Array(tag.key.utf8) }) else { return nil }
        tags.append(Tag(tag.key, value))
    }
    tags.sort { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }

    var fields: [Field] = []
    for field in point.fields {
        guard validKey(field.key) else { return nil }
        switch field.value {
        case .float(let value) where !value.isFinite:
            if options.nonFiniteFloats == .reject { return nil }
        case .unsigned(let value) where options.unsignedIntegers == .clampedToInteger:
            fields.append(Field(field.key, .integer(Int64(clamping: value))))
        case .string(let value):
            guard value.utf8.count <= LineProtocolEncoder.maximumStringBytes else { return nil }
            var stored = ""
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\n": stored += "\\n"
                case "\r": stored += "\\r"
                case "\t": stored += "\\t"
                case "\u{0C}": stored += "\\f"
                default: stored.unicodeScalars.append(scalar)
                }
            }
            fields.append(Field(field.key, .string(stored)))
        default:
            fields.append(field)
        }
    }
    guard !fields.isEmpty else { return nil }
    return Point(measurement: measurement, tags: tags, fields: fields, timestampNanoseconds: point.timestampNanoseconds)
}

/// Equality that tells `-0.0` from `0.0` and compares strings by bytes.
func identical(_ a: Point, _ b: Point) -> Bool {
    func same(_ x: String, _ y: String) -> Bool { Array(x.utf8) == Array(y.utf8) }
    func same(_ x: FieldValue, _ y: FieldValue) -> Bool {
        switch (x, y) {
        case (.float(let l), .float(let r)): return l.bitPattern == r.bitPattern
        case (.string(let l), .string(let r)): return same(l, r)
        default: return x == y
        }
    }
    return same(a.measurement, b.measurement) && a.timestampNanoseconds == b.timestampNanoseconds
        && a.tags.count == b.tags.count && a.fields.count == b.fields.count
        && zip(a.tags, b.tags).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
        && zip(a.fields, b.fields).allSatisfy { same($0.key, $1.key) && same($0.value, $1.value) }
}
