/// Why a ``Point`` could not be encoded. The encoder leaves the output buffer
/// exactly as it was before the failed call.
public struct LineProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which part of the point is at fault.
    public enum Element: String, Sendable, Equatable {
        /// The measurement name.
        case measurement
        /// A tag key.
        case tagKey = "tag key"
        /// A tag value.
        case tagValue = "tag value"
        /// A field key.
        case fieldKey = "field key"
        /// A field value.
        case fieldValue = "field value"
        /// The timestamp.
        case timestamp
        /// The point as a whole.
        case point
    }

    /// What is wrong.
    public enum Reason: Sendable, Equatable {
        /// The measurement, a tag key or a field key is empty.
        case empty
        /// The measurement starts with `#` (the line would be a comment).
        case startsWithHash
        /// A name contains an ASCII control character (`\n`, `\r`, `\t`, …);
        /// the associated value is the byte.
        case controlCharacter(UInt8)
        /// A name has a `\` at its end or right before `,` `=` space or `"`;
        /// no line-protocol spelling reads back as it.
        case unencodableBackslash
        /// The key is reserved by InfluxDB (`time`, `_field`, `_measurement`).
        case reservedKey
        /// Two tags have the same key.
        case duplicateTagKey
        /// The float is NaN or ±infinity and the options say to reject it.
        case nonFiniteFloat
        /// The string value is longer than ``LineProtocolEncoder/maximumStringBytes``;
        /// the associated value is its length in UTF-8 bytes.
        case stringTooLong(Int)
        /// The timestamp lies outside InfluxDB's range
        /// (``LineProtocolEncoder/timestampRange``).
        case timestampOutOfRange(Int64)
        /// No field is left to write (none given, or all omitted as non-finite).
        case noFields
    }

    /// What is wrong.
    public let reason: Reason
    /// Which part of the point is at fault.
    public let element: Element
    /// The point's measurement name, as given.
    public let measurement: String
    /// The tag or field key concerned, as given, if any.
    public let key: String?

    /// Creates an error.
    public init(_ reason: Reason, element: Element, measurement: String, key: String? = nil) {
        self.reason = reason
        self.element = element
        self.measurement = measurement
        self.key = key
    }

    /// A message that names the measurement, the key and the problem.
    public var description: String {
        var where_ = "measurement \(Self.quoted(measurement))"
        if let key {
            where_ += ", \(element == .tagValue ? "tag" : element == .fieldValue ? "field" : element.rawValue) "
            where_ += Self.quoted(key)
        }
        let what: String
        switch reason {
        case .empty:
            what = "\(element.rawValue) is empty"
        case .startsWithHash:
            what = "measurement starts with '#', which would make the line a comment"
        case .controlCharacter(let byte):
            what = "\(element.rawValue) contains the control character \(Self.byteName(byte)), "
                + "which line protocol cannot carry in names"
        case .unencodableBackslash:
            what = "\(element.rawValue) has a '\\' at its end or before ',', '=', space or '\"', "
                + "which line protocol cannot encode"
        case .reservedKey:
            what = "\(element.rawValue) is reserved by InfluxDB (time, _field, _measurement)"
        case .duplicateTagKey:
            what = "tag key appears more than once"
        case .nonFiniteFloat:
            what = "float value is NaN or infinite, which line protocol cannot represent"
        case .stringTooLong(let length):
            what = "string value has \(length) bytes, more than InfluxDB's "
                + "\(LineProtocolEncoder.maximumStringBytes)"
        case .timestampOutOfRange(let value):
            what = "timestamp \(value) ns is outside InfluxDB's range "
                + "\(LineProtocolEncoder.timestampRange.lowerBound)...\(LineProtocolEncoder.timestampRange.upperBound)"
        case .noFields:
            what = "point has no field left to write"
        }
        return "line protocol: \(where_): \(what)"
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func byteName(_ byte: UInt8) -> String {
        switch byte {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x0C: return "\\f"
        default: return "0x" + String(byte, radix: 16)
        }
    }
}
