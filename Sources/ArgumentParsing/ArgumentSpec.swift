/// One argument a command accepts: an option with a value, a flag, or a
/// positional argument.  Help text is generated from these declarations.
public struct ArgumentSpec: Sendable, Equatable {
    /// What kind of argument this is.
    public enum Kind: Sendable, Equatable {
        /// `--name VALUE` or `--name=VALUE`.
        case option(valueName: String)
        /// `--name`, no value.
        case flag
        /// A bare word in order.
        case positional
    }

    /// The long name without dashes (`plugins`), or the positional's name.
    public var name: String
    /// An optional one-letter short name (`q` for `-q`).
    public var shortName: Character?
    /// The kind of argument.
    public var kind: Kind
    /// One-line help.
    public var help: String
    /// Whether the argument may appear several times (options) or take
    /// several words (a positional, which must then be the last one).
    public var isRepeatable: Bool
    /// Whether the argument must be given.
    public var isRequired: Bool
    /// The default shown in help, if any.
    public var defaultDescription: String?

    /// `--name VALUE`.
    public static func option(
        _ name: String,
        short: Character? = nil,
        valueName: String = "value",
        help: String,
        repeatable: Bool = false,
        required: Bool = false,
        default defaultDescription: String? = nil
    ) -> ArgumentSpec {
        ArgumentSpec(
            name: name,
            shortName: short,
            kind: .option(valueName: valueName),
            help: help,
            isRepeatable: repeatable,
            isRequired: required,
            defaultDescription: defaultDescription
        )
    }

    /// `--name`.
    public static func flag(_ name: String, short: Character? = nil, help: String) -> ArgumentSpec {
        ArgumentSpec(
            name: name,
            shortName: short,
            kind: .flag,
            help: help,
            isRepeatable: false,
            isRequired: false,
            defaultDescription: nil
        )
    }

    /// A positional argument.
    public static func positional(
        _ name: String,
        help: String,
        repeatable: Bool = false,
        required: Bool = true
    ) -> ArgumentSpec {
        ArgumentSpec(
            name: name,
            shortName: nil,
            kind: .positional,
            help: help,
            isRepeatable: repeatable,
            isRequired: required,
            defaultDescription: nil
        )
    }
}

/// Static description of a command: its name, help and arguments.
public struct CommandConfiguration: Sendable {
    /// The word that selects the command (`list` in `rdt4nn plugins list`).
    public var commandName: String
    /// One-line summary shown in the parent's subcommand list.
    public var abstract: String
    /// Longer text shown under the usage line.
    public var discussion: String
    /// The arguments, in the order help lists them.
    public var arguments: [ArgumentSpec]
    /// Child commands; a command with subcommands dispatches to them.
    public var subcommands: [any ParsableCommand.Type]
    /// Hidden commands are accepted but not listed in help.
    public var isHidden: Bool

    /// Creates a configuration.
    public init(
        commandName: String,
        abstract: String,
        discussion: String = "",
        arguments: [ArgumentSpec] = [],
        subcommands: [any ParsableCommand.Type] = [],
        isHidden: Bool = false
    ) {
        self.commandName = commandName
        self.abstract = abstract
        self.discussion = discussion
        self.arguments = arguments
        self.subcommands = subcommands
        self.isHidden = isHidden
    }
}
