import PluginABI
/// The subset of JSON Schema plugins use to declare their configuration:
/// an object with typed `properties`, `required`, `default`, `enum`,
/// `minimum`/`maximum`, array `items`, `description`; unknown keys are errors.
public struct ConfigSchema: Sendable, Equatable {
    /// One declared configuration key.
    public struct Property: Sendable, Equatable {
        /// The key.
        public var name: String
        /// JSON type: string, integer, number, boolean, array or object.
        public var type: String
        /// Help text.
        public var description: String
        /// Default value, if any.
        public var defaultValue: JSONValue?
        /// Allowed values, if restricted.
        public var allowedValues: [JSONValue]?
        /// Numeric bounds.
        public var minimum: Double?
        public var maximum: Double?
        /// Element type of arrays.
        public var itemType: String?
        /// Whether the key must be present.
        public var isRequired: Bool
    }

    /// Declared keys in declaration order.
    public var properties: [Property]

    /// A schema that accepts only an empty configuration.
    public static let empty = ConfigSchema(properties: [])

    private static let knownTypes: Set<String> = ["string", "integer", "number", "boolean", "array", "object"]

    /// Parses a plugin's `config_schema_json`.
    /// - Throws: a message saying what is wrong with the schema.
    public init(json text: String) throws(PluginContractError) {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            throw PluginContractError("config schema is not valid JSON: \(error)")
        }
        guard document["type"]?.stringValue == "object" else {
            throw PluginContractError("config schema must be {\"type\": \"object\", ...}")
        }
        let required = Set((document["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        var properties: [Property] = []
        for (name, spec) in document["properties"]?.objectValue ?? [] {
            guard let type = spec["type"]?.stringValue, Self.knownTypes.contains(type) else {
                throw PluginContractError("config schema property '\(name)' needs a \"type\" of \(Self.knownTypes.sorted().joined(separator: ", "))")
            }
            properties.append(
                Property(
                    name: name,
                    type: type,
                    description: spec["description"]?.stringValue ?? "",
                    defaultValue: spec["default"],
                    allowedValues: spec["enum"]?.arrayValue,
                    minimum: spec["minimum"]?.doubleValue,
                    maximum: spec["maximum"]?.doubleValue,
                    itemType: spec["items"]?["type"]?.stringValue,
                    isRequired: required.contains(name)
                )
            )
        }
        for name in required where !properties.contains(where: { $0.name == name }) {
            throw PluginContractError("config schema requires '\(name)' but does not declare it")
        }
        self.properties = properties
    }

    init(properties: [Property]) { self.properties = properties }

    /// Checks `config` and returns it with defaults filled in.
    /// - Parameter pluginID: named in messages.
    /// - Throws: ``ConfigValidationError`` listing every problem.
    public func validate(_ config: JSONValue, pluginID: String) throws(ConfigValidationError) -> JSONValue {
        guard let members = config.objectValue else {
            throw ConfigValidationError(pluginID: pluginID, problems: ["the configuration must be a mapping, not \(config.typeName)"])
        }
        var problems: [String] = []
        var result: [(key: String, value: JSONValue)] = []
        for (key, value) in members {
            guard let property = properties.first(where: { $0.name == key }) else {
                var problem = "unknown key '\(key)'"
                if let suggestion = Self.closest(to: key, among: properties.map(\.name)) {
                    problem += " (did you mean '\(suggestion)'?)"
                } else if properties.isEmpty {
                    problem += " (this plugin takes no configuration)"
                }
                problems.append(problem)
                continue
            }
            if case .null = value {
                if let defaultValue = property.defaultValue { result.append((key, defaultValue)) }
                continue
            }
            if let problem = property.check(value) {
                problems.append("key '\(key)': \(problem)")
                continue
            }
            result.append((key, value))
        }
        for property in properties where !members.contains(where: { $0.key == property.name }) {
            if let defaultValue = property.defaultValue {
                result.append((property.name, defaultValue))
            } else if property.isRequired {
                problems.append("missing required key '\(property.name)' (\(property.type))")
            }
        }
        guard problems.isEmpty else { throw ConfigValidationError(pluginID: pluginID, problems: problems) }
        return .object(result)
    }

    /// The candidate within edit distance 2 of `word`, if any.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 4) else { return nil }
        return best.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension ConfigSchema.Property {
    /// A description of why `value` does not fit, or nil.
    func check(_ value: JSONValue) -> String? {
        if let problem = Self.typeProblem(value, expected: type) { return problem }
        if let allowedValues, !allowedValues.contains(value) {
            return "must be one of \(allowedValues.map(\.jsonText).joined(separator: ", ")), not \(value.jsonText)"
        }
        if let number = value.doubleValue {
            if let minimum, number < minimum { return "must be at least \(JSONValue.number(minimum).jsonText), not \(value.jsonText)" }
            if let maximum, number > maximum { return "must be at most \(JSONValue.number(maximum).jsonText), not \(value.jsonText)" }
        }
        if let itemType, let elements = value.arrayValue {
            for (index, element) in elements.enumerated() {
                if let problem = Self.typeProblem(element, expected: itemType) { return "element \(index): \(problem)" }
            }
        }
        return nil
    }

    static func typeProblem(_ value: JSONValue, expected: String) -> String? {
        let fits: Bool =
            switch (expected, value) {
            case ("string", .string), ("boolean", .bool), ("integer", .integer), ("array", .array), ("object", .object): true
            case ("number", .integer), ("number", .number): true
            default: false
            }
        return fits ? nil : "expected \(expected), found \(value.typeName) \(value.jsonText)"
    }
}

/// A plugin configuration that does not fit the plugin's declared schema.
public struct ConfigValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The plugin whose configuration is wrong.
    public var pluginID: String
    /// Every problem found, one sentence each.
    public var problems: [String]
    public var description: String {
        problems.map { "plugin '\(pluginID)': \($0)" }.joined(separator: "\n")
    }
}

/// A plugin broke the ABI contract (bad descriptor, bad schema, bad call).
public struct PluginContractError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
