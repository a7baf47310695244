/// A small deterministic PRNG (SplitMix64) so generated documents are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Writes random YAML documents: nested block and flow collections, every
/// scalar style (plain, quoted with escapes, literal and folded block scalars
/// with chomping and indentation indicators), typed plain scalars, strings
/// that need quoting, multi-line scalars, comments and document markers.
///
/// It does not track the value it means to write: the PyYAML oracle decides
/// what each document holds, and the reader must agree.
struct DocumentGenerator {
    private var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    // MARK: Random helpers

    private mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
    private mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    private mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    private static let words = [
        "alpha", "beta", "gamma", "redis", "stress-ng", "cache", "llc", "mba", "core", "probe", "x", "data",
        "bench", "node_1", "v2.1", "a.b.c", "path/to/file", "-dash", "under_score", "CamelCase", "sh", "échec", "日本",
    ]

    private static let typedPlain = [
        "0", "-0", "+7", "42", "-17", "1_000", "0x1F", "-0x1f", "017", "0b101", "1:30", "190:20:30", "09", "0o17",
        "1.5", "-0.25", "1.", ".5", "1_000.5", "1.0e+3", "1.5E-2", "1e3", "-.5", ".inf", "-.Inf", ".NaN", "-0.0",
        "1:30.5", "6.02e+23", "true", "False", "yes", "No", "ON", "off", "y", "n", "~", "null", "NULL", "Null", "nULL",
        "0.1", "3.14159", "12.5.6", "1e+3", "0x", "+.5", ".", "-", "123abc", "9223372036854775807",
    ]

    private static let tricky = [
        "", " lead", "trail ", "a: b", "#x", "x #y", "- x", "-", "?", ":", "yes", "No", "123", "0x1F", "1.5", "~",
        "null", "[a]", "{b}", "a, b", "@at", "`tick", "%pct", "!bang", "&amp", "*star", "|pipe", ">gt", "it's",
        "say \"hi\"", "back\\slash", "tab\there", "line\nbreak", "two\n\nbreaks", "trailing\n", "héllo", "😀 emoji",
        "---", "...", " ", "\t", "a:b", "k: v # c", "'", "\"", "\u{7F}del", "\u{1B}esc", "bell\u{07}", "\u{A0}nbsp",
        "\u{2028}ls", "multi\nline\ntext", "  two lead", "x\u{85}y",
    ]

    private mutating func word() -> String { pick(Self.words) }

    private mutating func plainString() -> String {
        (0..<int(1...3)).map { _ in word() }.joined(separator: " ")
    }

    /// A string value that may need quoting.
    private mutating func stringValue() -> String {
        chance(0.5) ? pick(Self.tricky) : plainString()
    }

    // MARK: Scalars

    private func singleQuoted(_ s: String) -> String? {
        if s.contains("\n") || s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F || (0x80...0x9F).contains($0.value) || $0.value == 0x2028 }) {
            return nil
        }
        return "'" + s.replacing("'", with: "''") + "'"
    }

    private mutating func doubleQuoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += chance(0.5) ? "\\t" : "\t"
            case "\u{07}": out += "\\a"
            case "\u{1B}": out += "\\e"
            case "\u{A0}": out += chance(0.5) ? "\\_" : "\u{A0}"
            case "\u{85}": out += "\\N"
            case "\u{2028}": out += "\\L"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                    out += "\\x" + hex(scalar.value, 2)
                } else if scalar.value > 0x7F && chance(0.3) {
                    out += scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, 8) : "\\u" + hex(scalar.value, 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private func hex(_ value: UInt32, _ width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A scalar written on one line; `flow` excludes plain scalars with flow indicators.
    private mutating func inlineScalar(flow: Bool) -> String {
        switch int(0...9) {
        case 0...2:
            return pick(Self.typedPlain)
        case 3...4:
            let text = plainString()
            return flow && text.contains(where: { ",[]{}".contains($0) }) ? doubleQuoted(text) : text
        case 5:
            // Occasionally a string that should have been quoted, written plain: both readers must agree.
            return chance(0.3) ? pick(Self.tricky).replacing("\n", with: " ") : plainString()
        case 6...7:
            let text = stringValue()
            return singleQuoted(text) ?? doubleQuoted(text)
        default:
            return doubleQuoted(stringValue())
        }
    }

    private mutating func trailingComment() -> String {
        chance(0.15) ? pick([" # comment", "   # another: one", " #", " # - [x]"]) : ""
    }

    // MARK: Flow collections

    private mutating func flowCollection(depth: Int, continuation: String) -> String {
        let count = int(0...4)
        let isMapping = chance(0.5)
        var items: [String] = []
        var keys: Set<String> = []
        for _ in 0..<count {
            let value: String
            if depth < 3 && chance(0.2) {
                value = flowCollection(depth: depth + 1, continuation: continuation)
            } else {
                value = inlineScalar(flow: true)
            }
            if isMapping {
                let key = uniqueKey(&keys)
                items.append(chance(0.1) ? key : key + ":" + pick([" ", "  "]) + value)
            } else {
                items.append(value)
            }
        }
        let separator = chance(0.15) ? ",\n" + continuation : pick([", ", ",", " , "])
        var body = items.joined(separator: separator)
        if !items.isEmpty && chance(0.1) { body += "," }
        let pad = chance(0.3) ? " " : ""
        return isMapping ? "{" + pad + body + pad + "}" : "[" + pad + body + pad + "]"
    }

    private mutating func uniqueKey(_ keys: inout Set<String>) -> String {
        while true {
            var key = "k" + word().filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            if chance(0.3) { key += String(int(0...99)) }
            if keys.insert(key).inserted {
                switch int(0...9) {
                case 0: return "'" + key + "'"
                case 1: return "\"" + key + "\""
                default: return key
                }
            }
        }
    }

    // MARK: Block collections

    private mutating func blockScalar(parentIndent: Int, step: Int) -> (header: String, lines: [String]) {
        var header = pick(["|", ">"])
        let chomping = pick(["", "", "-", "+"])
        let explicit = chance(0.25)
        let increment = explicit ? int(1...4) : step
        let indicator = explicit ? String(increment) : ""
        header += chance(0.5) ? chomping + indicator : indicator + chomping
        let contentIndent = String(repeating: " ", count: parentIndent + increment)
        var lines: [String] = []
        for i in 0..<int(1...5) {
            if chance(0.15) {
                lines.append(chance(0.5) ? "" : contentIndent)
                continue
            }
            let extra = (i > 0 || explicit) && chance(0.2) ? String(repeating: " ", count: int(1...3)) : ""
            lines.append(contentIndent + extra + plainString() + (chance(0.05) ? " " : ""))
        }
        if chance(0.3) { lines.append("") }
        return (header + trailingComment(), lines)
    }

    private mutating func mapping(indent: Int, depth: Int, step: Int, into out: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        var keys: Set<String> = []
        for _ in 0..<int(1...5) {
            if chance(0.1) { out.append(String(repeating: " ", count: int(0...indent + 2)) + "# note") }
            let key = uniqueKey(&keys) + (chance(0.05) ? " " : "")
            switch int(0...11) {
            case 0...3:
                out.append(pad + key + ": " + inlineScalar(flow: false) + trailingComment())
            case 4:
                let block = blockScalar(parentIndent: indent, step: step)
                out.append(pad + key + ": " + block.header)
                out += block.lines
            case 5:
                let continuation = String(repeating: " ", count: indent + step)
                out.append(pad + key + ": " + flowCollection(depth: depth, continuation: continuation) + trailingComment())
            case 6 where depth < 4, 7 where depth < 4:
                out.append(pad + key + ":" + trailingComment())
                mapping(indent: indent + step, depth: depth + 1, step: step, into: &out)
            case 8 where depth < 4:
                out.append(pad + key + ":" + trailingComment())
                sequence(indent: chance(0.4) ? indent : indent + step, depth: depth + 1, step: step, into: &out)
            case 9:
                // Multi-line plain or double-quoted scalar.
                let continuation = String(repeating: " ", count: indent + step + int(0...2))
                let gap = chance(0.3) ? "\n" : ""
                if chance(0.5) {
                    out.append(pad + key + ": " + plainString())
                    out.append(gap + continuation + plainString())
                } else {
                    out.append(pad + key + ": \"" + plainString())
                    out.append(gap + continuation + plainString() + "\"")
                }
            case 10:
                out.append(pad + key + ":" + trailingComment())
            default:
                out.append(pad + key + ": " + inlineScalar(flow: false))
            }
        }
    }

    private mutating func sequence(indent: Int, depth: Int, step: Int, into out: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for _ in 0..<int(1...4) {
            switch int(0...7) {
            case 0...2:
                out.append(pad + "- " + inlineScalar(flow: false) + trailingComment())
            case 3:
                out.append(pad + "- " + flowCollection(depth: depth, continuation: pad + "  "))
            case 4 where depth < 4:
                // Compact nested mapping: "- key: value" then the other keys aligned.
                var nested: [String] = []
                mapping(indent: indent + 2, depth: depth + 1, step: step, into: &nested)
                if let first = nested.firstIndex(where: { !$0.trimmingPrefixSpaces.hasPrefix("#") && !$0.isEmpty }) {
                    nested[first] = pad + "- " + String(nested[first].dropFirst(indent + 2))
                    out += nested[first...]
                } else {
                    out.append(pad + "-")
                }
            case 5 where depth < 4:
                out.append(pad + "-" + trailingComment())
                mapping(indent: indent + step, depth: depth + 1, step: step, into: &out)
            case 6 where depth < 4:
                out.append(pad + "-")
                sequence(indent: indent + step, depth: depth + 1, step: step, into: &out)
            case 7:
                let block = blockScalar(parentIndent: indent, step: max(step, 2))
                out.append(pad + "- " + block.header)
                out += block.lines
            default:
                out.append(pad + "-")
            }
        }
    }

    // MARK: Documents

    /// The next random document.
    mutating func document() -> String {
        var lines: [String] = []
        if chance(0.2) { lines.append("# generated") }
        if chance(0.2) { lines.append(pick(["---", "--- # start"])) }
        let step = int(1...4)
        switch int(0...19) {
        case 0...14: mapping(indent: 0, depth: 0, step: step, into: &lines)
        case 15...17: sequence(indent: 0, depth: 0, step: step, into: &lines)
        case 18: lines.append(flowCollection(depth: 0, continuation: "  "))
        default: lines.append(inlineScalar(flow: false))
        }
        if chance(0.1) { lines.append("...") }
        if chance(0.1) { lines.append("# trailing") }
        let newline = chance(0.05) ? "\r\n" : "\n"
        return lines.joined(separator: newline) + (chance(0.9) ? newline : "")
    }
}

extension String {
    fileprivate var trimmingPrefixSpaces: Substring { drop(while: { $0 == " " }) }
}
