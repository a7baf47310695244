import YAML

/// A canonical text form of a loaded document, produced identically by the
/// Swift side (here) and the PyYAML side (`PyYAMLOracle.script`): JSON with
/// ASCII-only strings, mapping entries sorted by their encoded key (keys may
/// be any scalar, so they are encoded values, not always JSON strings), floats
/// as Python's `repr` (which Swift's `description` matches) and non-finite
/// floats as `NaN`, `Infinity`, `-Infinity`.
enum Canonical {
    static func encode(_ node: YAMLNode?) -> String {
        guard let node else { return "null" }
        return encode(node.plainValue)
    }

    static func encode(_ value: YAMLPlainValue) -> String {
        switch value {
        case .scalar(let scalar):
            return encode(scalar)
        case .sequence(let items):
            return "[" + items.map(encode).joined(separator: ",") + "]"
        case .mapping(let pairs):
            let encoded = pairs.map { (encode($0.key), encode($0.value)) }.sorted { $0.0 < $1.0 }
            return "{" + encoded.map { $0.0 + ":" + $0.1 }.joined(separator: ",") + "}"
        }
    }

    static func encode(_ value: YAMLValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .float(let number):
            if number.isNaN { return "NaN" }
            if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
            return number.description
        case .string(let text): return jsonString(text)
        }
    }

    /// `json.dumps(text, ensure_ascii=True)`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        func hex4(_ unit: UInt16) -> String {
            let digits = String(unit, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value >= 0x7F {
                    for unit in String(scalar).utf16 { out += hex4(unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
