import PluginABI
import YAML

/// Typed access to YAML nodes that records a located error instead of failing.
struct NodeReader: Sendable {
    /// The file named in diagnostics (the configuration, or an imported workloads file).
    var file: String
    /// Whether unknown keys are warnings instead of errors.
    var lenient: Bool
    /// Diagnostics so far (locations are in the expanded text; the loader translates them).
    var log = DiagnosticLog()
    /// The key families seen (for format detection).
    var families: Set<ConfigFormat> = []

    /// `parent.key`, or `key` at the top.
    static func join(_ parent: String, _ key: String) -> String { parent.isEmpty ? key : "\(parent).\(key)" }

    /// The key text of an entry (keys are taken as written: `on:` is the key "on").
    static func keyName(_ entry: YAMLMappingEntry) -> String? { entry.key.scalar?.text }

    static func kindName(_ node: YAMLNode) -> String {
        switch node.kind {
        case .scalar(let scalar):
            switch scalar.value {
            case .null: return "nothing"
            case .bool(let value): return "boolean \(value)"
            case .int(let value): return "integer \(value)"
            case .float: return "number \(scalar.text)"
            case .string(let text): return "string '\(text)'"
            }
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    mutating func error(_ node: YAMLNode, _ path: String, _ message: String) {
        log.error(file, node.location, path, message)
    }

    mutating func warning(_ node: YAMLNode, _ path: String, _ message: String) {
        log.warning(file, node.location, path, message)
    }

    /// The known entries of a mapping node by key; unknown keys are reported with a suggestion.
    /// Returns nil (and reports) when `node` is not a mapping.
    mutating func entries(_ node: YAMLNode, _ path: String, _ table: KeyTable, what: String) -> [String: YAMLMappingEntry]? {
        guard let mapping = node.mapping else {
            if node.isNull { return [:] }
            error(node, path, "expected a mapping of \(what), found \(Self.kindName(node))")
            return nil
        }
        var result: [String: YAMLMappingEntry] = [:]
        for entry in mapping {
            guard let key = Self.keyName(entry) else {
                error(entry.key, path, "keys must be plain words, found \(Self.kindName(entry.key))")
                continue
            }
            if let known = table.first(where: { $0.key == key }) {
                result[key] = entry
                if let format = known.family.format { families.insert(format) }
            } else {
                reportUnknownKey(entry.key, key: key, path: path, candidates: table.map(\.key))
            }
        }
        return result
    }

    /// Reports an unknown key: an error, or a warning under `lenient`.
    mutating func reportUnknownKey(_ keyNode: YAMLNode, key: String, path: String, candidates: [String]) {
        var message = "unknown key"
        if let suggestion = Suggestion.closest(to: key, among: candidates) {
            message += " (did you mean '\(suggestion)'?)"
        } else if candidates.count <= 25 {
            message += " (expected one of: \(candidates.joined(separator: ", ")))"
        }
        let keyPath = Self.join(path, key)
        if lenient {
            log.warning(file, keyNode.location, keyPath, message + "; ignored (lenient)")
        } else {
            log.error(file, keyNode.location, keyPath, message)
        }
    }

    // MARK: Scalars

    /// A string: any non-null scalar's text (`image: 7` is the string "7").
    mutating func string(_ node: YAMLNode?, _ path: String) -> String? {
        guard let node, !node.isNull else { return nil }
        guard let scalar = node.scalar else {
            error(node, path, "expected a string, found \(Self.kindName(node))")
            return nil
        }
        return scalar.text
    }

    /// An integer (`10`, not `10.5` or `"10"`).
    mutating func integer(_ node: YAMLNode?, _ path: String, unit: String = "") -> Int? {
        guard let node, !node.isNull else { return nil }
        if let value = node.intValue, let int = Int(exactly: value) { return int }
        error(node, path, "expected an integer\(unit.isEmpty ? "" : " (\(unit))"), found \(Self.kindName(node))")
        return nil
    }

    /// A number (integer or float).
    mutating func number(_ node: YAMLNode?, _ path: String) -> Double? {
        guard let node, !node.isNull else { return nil }
        if let value = node.doubleValue, value.isFinite { return value }
        error(node, path, "expected a number, found \(Self.kindName(node))")
        return nil
    }

    /// A boolean (`true/false`, `yes/no`, `on/off`).
    mutating func boolean(_ node: YAMLNode?, _ path: String) -> Bool? {
        guard let node, !node.isNull else { return nil }
        if let value = node.boolValue { return value }
        error(node, path, "expected true or false, found \(Self.kindName(node))")
        return nil
    }

    /// A list of strings; a single string is a list of one.
    mutating func stringList(_ node: YAMLNode?, _ path: String) -> [String]? {
        guard let node, !node.isNull else { return nil }
        if node.scalar != nil { return string(node, path).map { [$0] } }
        guard let items = node.sequence else {
            error(node, path, "expected a list of strings, found \(Self.kindName(node))")
            return nil
        }
        var result: [String] = []
        for (offset, item) in items.enumerated() {
            if let text = string(item, "\(path)[\(offset)]") { result.append(text) }
        }
        return result
    }

    /// The node as JSON (keys as written); non-finite floats become an error.
    mutating func json(_ node: YAMLNode, _ path: String) -> JSONValue {
        switch node.kind {
        case .scalar(let scalar):
            switch scalar.value {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .integer(value)
            case .float(let value):
                guard value.isFinite else {
                    error(node, path, "'\(scalar.text)' cannot be passed to a plugin (JSON has no infinity or NaN)")
                    return .null
                }
                return .number(value)
            case .string(let text): return .string(text)
            }
        case .sequence(let items):
            return .array(items.enumerated().map { json($0.element, "\(path)[\($0.offset)]") })
        case .mapping(let entries):
            return .object(entries.map { entry in
                let key = Self.keyName(entry) ?? ""
                return (key, json(entry.value, Self.join(path, key)))
            })
        }
    }
}
