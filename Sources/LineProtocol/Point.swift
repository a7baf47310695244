/// The value of one field of a ``Point``.
///
/// Each case maps to one InfluxDB field type. InfluxDB fixes a field's type per
/// shard (1.x) or series (2.x), so a given field key must always carry the same
/// case.
public enum FieldValue: Sendable, Equatable {
    /// An IEEE-754 double, written in its shortest round-trip decimal form
    /// (`1.37`, `1e-05`, `-0.0`). NaN and ±infinity cannot be written; see
    /// ``LineProtocolEncoder/Options/nonFiniteFloats``.
    case float(Double)
    /// A signed 64-bit integer, written with an `i` suffix (`42i`).
    case integer(Int64)
    /// An unsigned 64-bit integer. InfluxDB 1.x has no unsigned type, so by
    /// default this is written as an `i` integer clamped to `Int64.max`; see
    /// ``LineProtocolEncoder/Options/unsignedIntegers``.
    case unsigned(UInt64)
    /// A boolean, written as `t` or `f`.
    case boolean(Bool)
    /// A string, written in double quotes with `"` and `\` escaped.
    case string(String)
}

/// One tag: a key and a value, both indexed by InfluxDB.
public struct Tag: Sendable, Equatable {
    /// The tag key. Must not be empty.
    public var key: String
    /// The tag value. An empty value means "no such tag": the encoder omits it.
    public var value: String

    /// Creates a tag.
    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// One field: a key and a typed value.
public struct Field: Sendable, Equatable {
    /// The field key. Must not be empty.
    public var key: String
    /// The field value.
    public var value: FieldValue

    /// Creates a field.
    public init(_ key: String, _ value: FieldValue) {
        self.key = key
        self.value = value
    }
}

/// One sample: `measurement, tags, fields, timestamp_ns`.
///
/// Tags may be in any order; the encoder writes them sorted by key (UTF-8 byte
/// order). Fields are written in the order given.
public struct Point: Sendable, Equatable {
    /// The measurement name, e.g. `perf`.
    public var measurement: String
    /// The tags, in any order. Keys must be unique.
    public var tags: [Tag]
    /// The fields, at least one. Keys should be unique (InfluxDB keeps the
    /// last value of a duplicated key).
    public var fields: [Field]
    /// Nanoseconds since the Unix epoch (UTC).
    public var timestampNanoseconds: Int64

    /// Creates a point.
    public init(measurement: String, tags: [Tag] = [], fields: [Field], timestampNanoseconds: Int64) {
        self.measurement = measurement
        self.tags = tags
        self.fields = fields
        self.timestampNanoseconds = timestampNanoseconds
    }
}
