import LineProtocol
import RDT4NNPluginSDK

/// Encodes the samples of a borrowed C batch (`rdt4nn_sample`) as line
/// protocol straight from their C strings, with no Swift `String` per point:
/// what every line-protocol sink needs on its hot path.
///
/// Keeps its scratch storage between calls; use one per sink instance.
public struct CSampleEncoder {
    /// The encoder and its options.
    public var encoder: LineProtocolEncoder
    private var tags: [CStringPoint.Tag] = []
    private var fields: [CStringPoint.Field] = []

    /// Creates an encoder.
    public init(options: LineProtocolEncoder.Options = LineProtocolEncoder.Options()) {
        encoder = LineProtocolEncoder(options: options)
    }

    /// Appends the line of `sample` to `buffer`; on error nothing is appended.
    /// - Returns: the number of fields left out (NaN or infinite floats).
    /// - Throws: ``LineProtocolError`` naming the measurement and key.
    @discardableResult
    public mutating func append(_ sample: rdt4nn_sample, to buffer: inout [UInt8]) throws(LineProtocolError) -> Int {
        // The scratch arrays are moved out while the encoder (a stored property) is used:
        // disjoint storage, no copy-on-write copy, no allocation once grown.
        var tags: [CStringPoint.Tag] = []
        var fields: [CStringPoint.Field] = []
        swap(&tags, &self.tags)
        swap(&fields, &self.fields)
        defer {
            swap(&tags, &self.tags)
            swap(&fields, &self.fields)
        }
        tags.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        for i in 0..<Int(sample.n_tags) {
            tags.append(CStringPoint.Tag(key: sample.tags[i].key, value: sample.tags[i].value))
        }
        for i in 0..<Int(sample.n_fields) {
            let field = sample.fields[i]
            let value: CStringPoint.Value
            switch field.type {
            case RDT4NN_FIELD_F64: value = .float(field.v.f64)
            case RDT4NN_FIELD_I64: value = .integer(field.v.i64)
            case RDT4NN_FIELD_U64: value = .unsigned(field.v.u64)
            case RDT4NN_FIELD_BOOL: value = .boolean(field.v.u64 != 0)
            default:
                // A NULL string is written as "" (rare): through `Point`.
                guard let text = field.v.str else { return try encoder.append(Point(sample), to: &buffer) }
                value = .string(text)
            }
            fields.append(CStringPoint.Field(key: field.key, value: value))
        }
        return try tags.withUnsafeBufferPointer { (tagBuffer) throws(LineProtocolError) -> Int in
            try fields.withUnsafeBufferPointer { (fieldBuffer) throws(LineProtocolError) -> Int in
                let point = CStringPoint(
                    measurement: sample.measurement, tags: tagBuffer, fields: fieldBuffer, timestampNanoseconds: sample.t_real_ns)
                return try encoder.append(point, to: &buffer)
            }
        }
    }
}

extension Point {
    /// The encoder's view of a C sample (borrowed for the call; strings are copied).
    public init(_ sample: rdt4nn_sample) {
        var tags: [Tag] = []
        tags.reserveCapacity(Int(sample.n_tags))
        for i in 0..<Int(sample.n_tags) {
            tags.append(Tag(String(cString: sample.tags[i].key), String(cString: sample.tags[i].value)))
        }
        var fields: [Field] = []
        fields.reserveCapacity(Int(sample.n_fields))
        for i in 0..<Int(sample.n_fields) {
            let field = sample.fields[i]
            let key = String(cString: field.key)
            switch field.type {
            case RDT4NN_FIELD_F64: fields.append(Field(key, .float(field.v.f64)))
            case RDT4NN_FIELD_I64: fields.append(Field(key, .integer(field.v.i64)))
            case RDT4NN_FIELD_U64: fields.append(Field(key, .unsigned(field.v.u64)))
            case RDT4NN_FIELD_BOOL: fields.append(Field(key, .boolean(field.v.u64 != 0)))
            default: fields.append(Field(key, .string(field.v.str.map { String(cString: $0) } ?? "")))
            }
        }
        self.init(measurement: String(cString: sample.measurement), tags: tags, fields: fields, timestampNanoseconds: sample.t_real_ns)
    }
}
