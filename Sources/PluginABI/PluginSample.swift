import RDT4NNPluginSDK

/// A typed field value copied out of a plugin's `rdt4nn_field`.
public enum PluginFieldValue: Sendable, Equatable {
    case float(Double)
    case integer(Int64)
    case unsigned(UInt64)
    case boolean(Bool)
    case string(String)

    /// The metrics-schema type name (f64, i64, u64, bool, string).
    public var schemaType: String {
        switch self {
        case .float: "f64"
        case .integer: "i64"
        case .unsigned: "u64"
        case .boolean: "bool"
        case .string: "string"
        }
    }
}

/// One sample, owned by the host (copied from the plugin's batch).
public struct PluginSample: Sendable, Equatable {
    /// Measurement name.
    public var measurement: String
    /// Tags: the batch's common tags followed by the sample's own.
    public var tags: [(key: String, value: String)]
    /// Fields in emitted order.
    public var fields: [(key: String, value: PluginFieldValue)]
    /// Realtime ns; 0 means "the tick's timestamp".
    public var timestampNanoseconds: Int64

    /// Creates a sample.
    public init(
        measurement: String,
        tags: [(key: String, value: String)] = [],
        fields: [(key: String, value: PluginFieldValue)],
        timestampNanoseconds: Int64 = 0
    ) {
        self.measurement = measurement
        self.tags = tags
        self.fields = fields
        self.timestampNanoseconds = timestampNanoseconds
    }

    public static func == (lhs: PluginSample, rhs: PluginSample) -> Bool {
        lhs.measurement == rhs.measurement && lhs.timestampNanoseconds == rhs.timestampNanoseconds
            && lhs.tags.elementsEqual(rhs.tags, by: { $0 == $1 })
            && lhs.fields.elementsEqual(rhs.fields, by: { $0.key == $1.key && $0.value == $1.value })
    }
}

