import YAML

/// A problem in a benchmark configuration that stops it from running.
///
/// `description` is `"<file>:<line>:<col>: <key.path>: <message>"`; the
/// location is left out when the problem has none (an unreadable file), the
/// key path when it is empty (a YAML syntax error).
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration file (as given on the command line) or imported file.
    public var file: String
    /// Where in `file` the problem is, in the text as written (before `${VAR}` expansion).
    public var location: SourceLocation?
    /// The dotted key path, e.g. `benchmark.data.db.host` or `web.core`.
    public var keyPath: String
    /// What is wrong and, where possible, what to write instead.
    public var message: String

    /// Creates an error.
    public init(file: String, location: SourceLocation?, keyPath: String, message: String) {
        self.file = file
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    /// `"<file>:<line>:<col>: <key.path>: <message>"`.
    public var description: String {
        Self.format(file: file, location: location, keyPath: keyPath, message: message)
    }

    static func format(file: String, location: SourceLocation?, keyPath: String, message: String) -> String {
        var text = file
        if let location { text += ":\(location.line):\(location.column)" }
        text += ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        return text + message
    }
}

/// Something in a configuration worth telling the user that does not stop the run
/// (an unset `${VAR}`, an unknown key under `lenient`, a value read differently
/// from the original tools).
public struct ConfigWarning: Sendable, Hashable, CustomStringConvertible {
    /// The configuration file or imported file.
    public var file: String
    /// Where in `file`, in the text as written.
    public var location: SourceLocation?
    /// The dotted key path (may be empty).
    public var keyPath: String
    /// What was noticed.
    public var message: String

    /// Creates a warning.
    public init(file: String, location: SourceLocation?, keyPath: String, message: String) {
        self.file = file
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    /// `"<file>:<line>:<col>: <key.path>: <message>"`.
    public var description: String {
        ConfigError.format(file: file, location: location, keyPath: keyPath, message: message)
    }
}

/// Every error found in one configuration (loading never stops at the first),
/// together with the warnings collected on the way.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The errors, in file order.
    public var errors: [ConfigError]
    /// The warnings, in file order.
    public var warnings: [ConfigWarning]

    /// Creates the collection.
    public init(errors: [ConfigError], warnings: [ConfigWarning] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    /// One error per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics while a configuration is read and checked.
struct DiagnosticLog: Sendable {
    var errors: [ConfigError] = []
    var warnings: [ConfigWarning] = []

    mutating func error(_ file: String, _ location: SourceLocation?, _ keyPath: String, _ message: String) {
        errors.append(ConfigError(file: file, location: location, keyPath: keyPath, message: message))
    }

    mutating func warning(_ file: String, _ location: SourceLocation?, _ keyPath: String, _ message: String) {
        warnings.append(ConfigWarning(file: file, location: location, keyPath: keyPath, message: message))
    }

    /// Diagnostics grouped by file (`primary` first, then in order of appearance) and sorted
    /// by line and column within a file, keeping insertion order for ties.
    func sorted(primary: String) -> (errors: [ConfigError], warnings: [ConfigWarning]) {
        var ranks: [String: Int] = [primary: 0]
        for file in errors.map(\.file) + warnings.map(\.file) where ranks[file] == nil { ranks[file] = ranks.count }
        func key(_ file: String, _ location: SourceLocation?, _ offset: Int) -> [Int] {
            [ranks[file] ?? 0, location?.line ?? 0, location?.column ?? 0, offset]
        }
        let errors = self.errors.enumerated()
            .sorted { key($0.element.file, $0.element.location, $0.offset).lexicographicallyPrecedes(key($1.element.file, $1.element.location, $1.offset)) }
            .map(\.element)
        let warnings = self.warnings.enumerated()
            .sorted { key($0.element.file, $0.element.location, $0.offset).lexicographicallyPrecedes(key($1.element.file, $1.element.location, $1.offset)) }
            .map(\.element)
        return (errors, warnings)
    }
}

/// Suggestions for misspelt keys and names.
enum Suggestion {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        // A known key with a suffix added (`stalls_l3_miss_percent` for `stalls_l3_miss`).
        if let stem = candidates.filter({ $0.count >= 4 && lowered.hasPrefix($0.lowercased()) }).max(by: { $0.count < $1.count }) {
            return stem
        }
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let limit = max(2, word.count / 3)
        return best.1 <= limit && best.1 < word.count ? best.0 : nil
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, table[i - 2][j - 2] + 1)
                }
                table[i][j] = value
            }
        }
        return table[a.count][b.count]
    }
}
