import PluginABI
import YAML

/// Which keys and variable names hold secrets.
enum SecretKeys {
    /// Mapping keys whose values are secrets anywhere in a configuration.
    static func isSecretKey(_ key: String) -> Bool {
        let lowered = key.lowercased()
        for word in ["password", "token", "secret", "api_key", "apikey"] {
            if lowered == word || lowered.hasSuffix("_" + word) || lowered.hasSuffix("-" + word) { return true }
        }
        return false
    }

    /// Environment variable names whose values are masked.
    static func isSecretEnvironmentName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["PASSWORD", "PASSWD", "TOKEN", "SECRET", "API_KEY", "APIKEY"].contains { upper.contains($0) }
    }

    /// The mask printed instead of a secret.
    static let mask = "***"
}

/// Replaces secret values in text and JSON.
struct SecretMasker: Sendable {
    /// Secret values; occurrences anywhere in printed text are replaced (values shorter
    /// than 4 characters are masked only where a secret key holds them, to avoid
    /// masking every `1` in a file).
    var values: Set<String> = []

    /// Records a secret value; an unexpanded reference (`${TOKEN}`, `$TOKEN`) is not a secret.
    mutating func add(_ value: String) {
        guard !value.isEmpty, !Self.isReference(value) else { return }
        values.insert(value)
    }

    private static func isReference(_ value: String) -> Bool {
        var body = Substring(value)
        guard body.hasPrefix("$") else { return false }
        body = body.dropFirst()
        if body.hasPrefix("{") {
            guard body.hasSuffix("}") else { return false }
            body = body.dropFirst().dropLast()
        }
        return !body.isEmpty && body.unicodeScalars.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }

    func mask(_ text: String) -> String {
        var result = text
        for value in values.sorted(by: { $0.count > $1.count }) where value.count >= 4 {
            result = result.replacing(value, with: SecretKeys.mask)
        }
        return result
    }

    /// `json` with every secret-keyed member replaced by `"***"` and secret values masked in strings.
    func mask(_ json: JSONValue) -> JSONValue {
        switch json {
        case .string(let text): return .string(mask(text))
        case .array(let elements): return .array(elements.map(mask))
        case .object(let members):
            return .object(
                members.map { member in
                    if SecretKeys.isSecretKey(member.key), case .null = member.value { return member }
                    if SecretKeys.isSecretKey(member.key) { return (member.key, .string(SecretKeys.mask)) }
                    return (member.key, mask(member.value))
                }
            )
        default: return json
        }
    }
}

/// Produces the "config as run": the expanded text with every secret value replaced by `***`.
enum ConfigTextMasker {
    /// Masks the scalar values of secret keys (found in `root`, parsed from `text`) and then
    /// every other occurrence of a secret value.
    static func mask(text: String, root: YAMLNode?, masker: inout SecretMasker) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        var targets: [(key: YAMLNode, value: YAMLNode)] = []
        func collect(_ node: YAMLNode, inEnvironment: Bool) {
            switch node.kind {
            case .scalar: return
            case .sequence(let items): items.forEach { collect($0, inEnvironment: false) }
            case .mapping(let entries):
                for entry in entries {
                    let key = entry.key.scalar?.text ?? ""
                    let secret = inEnvironment ? SecretKeys.isSecretEnvironmentName(key) : SecretKeys.isSecretKey(key)
                    if secret, let scalar = entry.value.scalar, scalar.value != .null {
                        targets.append((entry.key, entry.value))
                        masker.add(scalar.text)
                    } else {
                        collect(entry.value, inEnvironment: key == "env" || key == "environment")
                    }
                }
            }
        }
        if let root { collect(root, inEnvironment: false) }
        // Replace from the last target backwards so earlier columns stay valid.
        for target in targets.sorted(by: { ($0.value.location.line, $0.value.location.column) > ($1.value.location.line, $1.value.location.column) }) {
            replaceScalar(target.value, keyColumn: target.key.location.column, in: &lines)
        }
        let joined = lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
        return masker.mask(joined)
    }

    private static func replaceScalar(_ node: YAMLNode, keyColumn: Int, in lines: inout [[Unicode.Scalar]]) {
        guard let scalar = node.scalar else { return }
        let lineIndex = node.location.line - 1
        let start = node.location.column - 1
        guard lineIndex < lines.count, start <= lines[lineIndex].count else { return }
        let mask = Array(SecretKeys.mask.unicodeScalars)
        switch scalar.style {
        case .doubleQuoted, .singleQuoted:
            let quote: Unicode.Scalar = scalar.style == .doubleQuoted ? "\"" : "'"
            var line = lineIndex
            var column = start + 1
            while line < lines.count {
                let chars = lines[line]
                while column < chars.count {
                    if quote == "\"", chars[column] == "\\" {
                        column += 2
                        continue
                    }
                    if chars[column] == quote {
                        if quote == "'", column + 1 < chars.count, chars[column + 1] == "'" {
                            column += 2
                            continue
                        }
                        // Found the closing quote at (line, column).
                        let tail = Array(chars[(column + 1)...])
                        let head = Array(lines[lineIndex][..<start])
                        lines[lineIndex] = head + [quote] + mask + [quote] + tail
                        if line > lineIndex { lines.removeSubrange((lineIndex + 1)...line) }
                        return
                    }
                    column += 1
                }
                line += 1
                column = 0
            }
        case .plain:
            let length = scalar.text.unicodeScalars.count
            var chars = lines[lineIndex]
            if !scalar.text.contains("\n"), start + length <= chars.count,
                Array(chars[start..<start + length]) == Array(scalar.text.unicodeScalars)
            {
                chars.replaceSubrange(start..<start + length, with: mask)
                lines[lineIndex] = chars
            } else {
                lines[lineIndex] = Array(chars[..<start]) + mask
                removeContinuation(after: lineIndex, deeperThan: keyColumn - 1, in: &lines)
            }
        case .literal, .folded:
            lines[lineIndex] = Array(lines[lineIndex][..<start]) + mask
            removeContinuation(after: lineIndex, deeperThan: keyColumn - 1, in: &lines)
        }
    }

    /// Removes the lines after `index` that are blank or indented more than `indent` (a value's continuation).
    private static func removeContinuation(after index: Int, deeperThan indent: Int, in lines: inout [[Unicode.Scalar]]) {
        var end = index + 1
        while end < lines.count {
            let line = lines[end]
            let leading = line.prefix { $0 == " " }.count
            let blank = line.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" }
            if !blank && leading <= indent { break }
            end += 1
        }
        // Keep trailing blank lines (they belong to the layout, not the value).
        while end > index + 1, lines[end - 1].allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { end -= 1 }
        if end > index + 1 { lines.removeSubrange((index + 1)..<end) }
    }
}
