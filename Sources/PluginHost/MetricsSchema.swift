import PluginABI
/// What a collector declares it emits (`metrics_schema_json`).
public struct MetricsSchema: Sendable, Equatable {
    /// One declared field.
    public struct Field: Sendable, Equatable {
        /// Field key.
        public var name: String
        /// f64, i64, u64, bool or string.
        public var type: String
        /// UCUM-style unit ("By", "By/s", "%", "ns", "1").
        public var unit: String
        /// gauge, counter or delta.
        public var kind: String
        /// Help text.
        public var description: String
    }

    /// One declared measurement.
    public struct Measurement: Sendable, Equatable {
        /// Measurement name.
        public var name: String
        /// Tag keys the plugin itself sets (host tags come on top).
        public var tags: [String]
        /// Declared fields.
        public var fields: [Field]
    }

    /// Declared measurements.
    public var measurements: [Measurement]

    private static let types: Set<String> = ["f64", "i64", "u64", "bool", "string"]
    private static let kinds: Set<String> = ["gauge", "counter", "delta"]

    /// Parses `metrics_schema_json`.
    public init(json text: String) throws(PluginContractError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            throw PluginContractError("metrics schema is not valid JSON: \(error)")
        }
        guard let list = document["measurements"]?.arrayValue else {
            throw PluginContractError("metrics schema needs a \"measurements\" array")
        }
        var measurements: [Measurement] = []
        for entry in list {
            guard let name = entry["name"]?.stringValue, !name.isEmpty else {
                throw PluginContractError("metrics schema: every measurement needs a \"name\"")
            }
            var fields: [Field] = []
            for field in entry["fields"]?.arrayValue ?? [] {
                guard let fieldName = field["name"]?.stringValue, !fieldName.isEmpty else {
                    throw PluginContractError("metrics schema: a field of '\(name)' has no \"name\"")
                }
                let type = field["type"]?.stringValue ?? ""
                guard Self.types.contains(type) else {
                    throw PluginContractError("metrics schema: field '\(name).\(fieldName)' has type '\(type)', expected one of f64, i64, u64, bool, string")
                }
                let kind = field["kind"]?.stringValue ?? "gauge"
                guard Self.kinds.contains(kind) else {
                    throw PluginContractError("metrics schema: field '\(name).\(fieldName)' has kind '\(kind)', expected gauge, counter or delta")
                }
                fields.append(
                    Field(
                        name: fieldName,
                        type: type,
                        unit: field["unit"]?.stringValue ?? "",
                        kind: kind,
                        description: field["description"]?.stringValue ?? ""
                    )
                )
            }
            guard !fields.isEmpty else { throw PluginContractError("metrics schema: measurement '\(name)' declares no fields") }
            measurements.append(
                Measurement(name: name, tags: (entry["tags"]?.arrayValue ?? []).compactMap(\.stringValue), fields: fields)
            )
        }
        self.measurements = measurements
    }

    /// Problems of `sample` against the schema (empty when it conforms).
    public func problems(with sample: PluginSample) -> [String] {
        guard let measurement = measurements.first(where: { $0.name == sample.measurement }) else {
            return ["measurement '\(sample.measurement)' is not declared in the metrics schema"]
        }
        var problems: [String] = []
        for tag in sample.tags where !measurement.tags.contains(tag.key) {
            problems.append("tag '\(tag.key)' of '\(sample.measurement)' is not declared in the metrics schema")
        }
        for field in sample.fields {
            guard let declared = measurement.fields.first(where: { $0.name == field.key }) else {
                problems.append("field '\(sample.measurement).\(field.key)' is not declared in the metrics schema")
                continue
            }
            if declared.type != field.value.schemaType {
                problems.append("field '\(sample.measurement).\(field.key)' is \(field.value.schemaType), declared \(declared.type)")
            }
        }
        return problems
    }
}
