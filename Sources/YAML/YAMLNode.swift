/// A position in a YAML source text: 1-based line and column (columns count
/// Unicode scalars, as PyYAML's marks do).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The 1-based line number.
    public var line: Int
    /// The 1-based column number, in Unicode scalars from the start of the line.
    public var column: Int

    /// Creates a location from a 1-based line and column.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `"<line>:<column>"`.
    public var description: String { "\(line):\(column)" }
}

/// How a scalar was written in the source.
public enum YAMLScalarStyle: Sendable, Hashable {
    /// Unquoted (`image: redis`); also used for an absent value (`key:`).
    case plain
    /// `'single quoted'`.
    case singleQuoted
    /// `"double quoted"` (with backslash escapes).
    case doubleQuoted
    /// A `|` literal block scalar.
    case literal
    /// A `>` folded block scalar.
    case folded
}

/// The typed value of a scalar after YAML 1.1 resolution (PyYAML `SafeLoader` rules).
public enum YAMLValue: Sendable, Hashable {
    /// `~`, `null`, `Null`, `NULL` or nothing at all.
    case null
    /// `true/false`, `yes/no`, `on/off` in lower, Title or UPPER case.
    case bool(Bool)
    /// Decimal, `0x` hex, `0b` binary, leading-`0` octal or sexagesimal (`1:30`), with `_` separators.
    case int(Int64)
    /// A float as PyYAML's resolver recognizes it (a `.` is required; `.inf`, `.nan`).
    case float(Double)
    /// Any other scalar, and every quoted or block scalar.
    case string(String)
}

/// A scalar node: its text, how it was written and what it resolves to.
public struct YAMLScalar: Sendable, Hashable {
    /// The scalar's content after unquoting, unescaping and line folding, before typing.
    public var text: String
    /// How the scalar was written.
    public var style: YAMLScalarStyle
    /// The resolved value: plain scalars are typed, all other styles are strings.
    public var value: YAMLValue

    /// Creates a scalar; `value` is normally computed by the reader.
    public init(text: String, style: YAMLScalarStyle, value: YAMLValue) {
        self.text = text
        self.style = style
        self.value = value
    }
}

/// One `key: value` pair of a mapping.
public struct YAMLMappingEntry: Sendable {
    /// The key node (always a scalar in documents the reader accepts).
    public var key: YAMLNode
    /// The value node.
    public var value: YAMLNode

    /// Creates an entry.
    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A node of a YAML document with the location where it starts.
public struct YAMLNode: Sendable {
    /// What the node holds.
    public indirect enum Kind: Sendable {
        /// A scalar.
        case scalar(YAMLScalar)
        /// A block (`- x`) or flow (`[x]`) sequence.
        case sequence([YAMLNode])
        /// A block or flow mapping; entries keep document order, keys are unique.
        case mapping([YAMLMappingEntry])
    }

    /// Where the node starts in the source (for an empty value, where it would be).
    public var location: SourceLocation
    /// The node's content.
    public var kind: Kind

    /// Creates a node.
    public init(location: SourceLocation, kind: Kind) {
        self.location = location
        self.kind = kind
    }

    /// The scalar, if this node is one.
    public var scalar: YAMLScalar? {
        if case .scalar(let scalar) = kind { return scalar }
        return nil
    }

    /// The elements, if this node is a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = kind { return items }
        return nil
    }

    /// The entries in document order, if this node is a mapping.
    public var mapping: [YAMLMappingEntry]? {
        if case .mapping(let entries) = kind { return entries }
        return nil
    }

    /// The value for the string key `key` if this node is a mapping.
    ///
    /// Matches keys whose resolved value is the string `key`, so a plain key
    /// `yes` (a boolean in YAML 1.1) is not found as `"yes"`.
    public subscript(key: String) -> YAMLNode? {
        entry(forKey: key)?.value
    }

    /// The whole entry (key node included, for its location) for the string key `key`.
    public func entry(forKey key: String) -> YAMLMappingEntry? {
        guard case .mapping(let entries) = kind else { return nil }
        return entries.first { $0.key.scalar?.value == .string(key) }
    }

    /// The string value of a scalar resolved as a string; nil otherwise.
    public var stringValue: String? {
        if case .string(let text) = scalar?.value { return text }
        return nil
    }

    /// The integer value of a scalar resolved as an integer; nil otherwise.
    public var intValue: Int64? {
        if case .int(let value) = scalar?.value { return value }
        return nil
    }

    /// The value of a scalar resolved as a boolean; nil otherwise.
    public var boolValue: Bool? {
        if case .bool(let value) = scalar?.value { return value }
        return nil
    }

    /// The value of a scalar resolved as a float or an integer (converted); nil otherwise.
    public var doubleValue: Double? {
        switch scalar?.value {
        case .float(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// Whether this node is a scalar resolved as null (`~`, `null`, or no value at all).
    public var isNull: Bool {
        scalar?.value == .null
    }

    /// The node as a plain value tree without styles or locations.
    public var plainValue: YAMLPlainValue {
        switch kind {
        case .scalar(let scalar):
            return .scalar(scalar.value)
        case .sequence(let items):
            return .sequence(items.map(\.plainValue))
        case .mapping(let entries):
            return .mapping(entries.map { YAMLPlainValue.Pair(key: $0.key.plainValue, value: $0.value.plainValue) })
        }
    }
}

/// A YAML value tree without styles or locations, comparable with `==`.
///
/// Mappings compare in document order; floats compare with IEEE `==`
/// (so a NaN never equals itself).
public indirect enum YAMLPlainValue: Sendable, Equatable {
    /// One mapping entry.
    public struct Pair: Sendable, Equatable {
        /// The key.
        public var key: YAMLPlainValue
        /// The value.
        public var value: YAMLPlainValue

        /// Creates a pair.
        public init(key: YAMLPlainValue, value: YAMLPlainValue) {
            self.key = key
            self.value = value
        }
    }

    /// A resolved scalar.
    case scalar(YAMLValue)
    /// A sequence.
    case sequence([YAMLPlainValue])
    /// A mapping in document order.
    case mapping([Pair])
}
