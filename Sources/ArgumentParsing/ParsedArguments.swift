/// A command-line mistake: reported with exit code 64 and a pointer to help.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong, e.g. "missing value for '--plugins'".
    public var message: String
    /// The command words (`rdt4nn plugins list`) for the help hint.
    public var commandPath: String

    /// Creates a usage error.
    public init(_ message: String, commandPath: String = "rdt4nn") {
        self.message = message
        self.commandPath = commandPath
    }

    public var description: String { message }
}

/// The values found on the command line for one command.
public struct ParsedArguments: Sendable, Equatable {
    /// Option values by long name, in the order given.
    public private(set) var options: [String: [String]] = [:]
    /// Flags that were given.
    public private(set) var flags: Set<String> = []
    /// Positional values by name.
    public private(set) var positionals: [String: [String]] = [:]

    /// An empty result.
    public init() {}

    /// The last value of option `name`, if given.
    public func value(_ name: String) -> String? { options[name]?.last ?? positionals[name]?.first }

    /// All values of a repeatable option or positional.
    public func values(_ name: String) -> [String] { options[name] ?? positionals[name] ?? [] }

    /// Whether flag `name` was given.
    public func flag(_ name: String) -> Bool { flags.contains(name) }

    /// The value of option `name` as an integer within `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws(UsageError) -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError("'--\(name)' takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return number
    }

    mutating func addOption(_ name: String, _ value: String) { options[name, default: []].append(value) }
    mutating func addFlag(_ name: String) { flags.insert(name) }
    mutating func addPositional(_ name: String, _ value: String) { positionals[name, default: []].append(value) }
}

/// Splits words into options, flags and positionals according to specs.
enum ArgumentScanner {
    static func parse(_ words: [String], specs: [ArgumentSpec], commandPath: String) throws(UsageError) -> ParsedArguments {
        var result = ParsedArguments()
        let positionals = specs.filter { $0.kind == .positional }
        var positionalIndex = 0
        var index = 0
        var onlyPositionals = false

        func spec(long: String) -> ArgumentSpec? { specs.first { $0.kind != .positional && $0.name == long } }
        func spec(short: Character) -> ArgumentSpec? { specs.first { $0.kind != .positional && $0.shortName == short } }

        while index < words.count {
            let word = words[index]
            index += 1
            if !onlyPositionals && word == "--" {
                onlyPositionals = true
                continue
            }
            if !onlyPositionals && word.hasPrefix("-") && word.count > 1 {
                var name: Substring
                var inlineValue: String?
                let found: ArgumentSpec?
                if word.hasPrefix("--") {
                    name = word.dropFirst(2)
                    if let equals = name.firstIndex(of: "=") {
                        inlineValue = String(name[name.index(after: equals)...])
                        name = name[..<equals]
                    }
                    found = spec(long: String(name))
                } else {
                    guard word.count == 2, let letter = word.dropFirst().first else {
                        throw UsageError("unknown option '\(word)'", commandPath: commandPath)
                    }
                    found = spec(short: letter)
                }
                guard let option = found else {
                    throw UsageError("unknown option '\(word)'", commandPath: commandPath)
                }
                switch option.kind {
                case .flag:
                    if inlineValue != nil {
                        throw UsageError("'--\(option.name)' takes no value", commandPath: commandPath)
                    }
                    result.addFlag(option.name)
                case .option:
                    let value: String
                    if let inlineValue {
                        value = inlineValue
                    } else {
                        guard index < words.count else {
                            throw UsageError("missing value for '--\(option.name)'", commandPath: commandPath)
                        }
                        value = words[index]
                        index += 1
                    }
                    if !option.isRepeatable && result.options[option.name] != nil {
                        throw UsageError("'--\(option.name)' given more than once", commandPath: commandPath)
                    }
                    result.addOption(option.name, value)
                case .positional:
                    break
                }
                continue
            }
            guard positionalIndex < positionals.count else {
                throw UsageError("unexpected argument '\(word)'", commandPath: commandPath)
            }
            let positional = positionals[positionalIndex]
            result.addPositional(positional.name, word)
            if !positional.isRepeatable { positionalIndex += 1 }
        }
        for spec in specs where spec.isRequired {
            let present = spec.kind == .positional ? result.positionals[spec.name] != nil : result.options[spec.name] != nil
            if !present {
                let shown = spec.kind == .positional ? "<\(spec.name)>" : "'--\(spec.name)'"
                throw UsageError("missing \(shown)", commandPath: commandPath)
            }
        }
        return result
    }
}
