#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A command of a command-line tool: one type per (sub)command.
///
/// A conforming type declares its ``configuration`` (name, help, arguments)
/// and builds itself from ``ParsedArguments``; ``run()`` does the work.
public protocol ParsableCommand: Sendable {
    /// Name, help and arguments of this command.
    static var configuration: CommandConfiguration { get }

    /// Builds the command from parsed arguments.
    /// - Throws: ``UsageError`` when a value is malformed.
    init(arguments: ParsedArguments) throws(UsageError)

    /// Runs the command.
    /// - Returns: the process exit code.
    func run() throws -> ExitCode
}

extension ParsableCommand {
    /// Default for commands that only group subcommands.
    public func run() throws -> ExitCode { .success }
}

/// A process exit status.
public struct ExitCode: RawRepresentable, Sendable, Hashable, Error {
    /// The numeric status.
    public var rawValue: Int32
    /// Creates an exit code.
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// 0: success.
    public static let success = ExitCode(rawValue: 0)
    /// 1: the command failed.
    public static let failure = ExitCode(rawValue: 1)
    /// 64 (`EX_USAGE`): the command line was wrong.
    public static let usageError = ExitCode(rawValue: 64)
}

/// The result of parsing: which command was selected and its arguments.
public struct CommandLineParser {
    /// Parses `arguments` (without the program name) for `root` and runs the
    /// selected command, printing help or usage errors as needed.
    /// - Returns: the exit code to end the process with.
    public static func main(root: any ParsableCommand.Type, arguments: [String]) -> ExitCode {
        let selection: Selection
        do {
            selection = try select(root: root, arguments: arguments)
        } catch {
            printError("error: \(error.message)")
            printError("See '\(error.commandPath) --help'.")
            return .usageError
        }
        if selection.wantsHelp {
            print(HelpFormatter.help(for: selection.command, path: selection.path), terminator: "")
            return .success
        }
        do {
            return try selection.instantiate().run()
        } catch let error as UsageError {
            printError("error: \(error.message)")
            printError("See '\(selection.path.joined(separator: " ")) --help'.")
            return .usageError
        } catch let code as ExitCode {
            return code
        } catch {
            printError("error: \(error)")
            return .failure
        }
    }

    /// What `select` found: the command type, its path and its arguments.
    public struct Selection {
        /// The selected command type.
        public var command: any ParsableCommand.Type
        /// Command names from the root to the selected command.
        public var path: [String]
        /// The parsed arguments of the selected command.
        public var parsed: ParsedArguments
        /// Whether `--help` or `-h` was given.
        public var wantsHelp: Bool

        /// Creates the command value.
        public func instantiate() throws(UsageError) -> any ParsableCommand {
            try command.init(arguments: parsed)
        }
    }

    /// Walks subcommands and parses the remaining words for the selected one.
    public static func select(
        root: any ParsableCommand.Type,
        arguments: [String]
    ) throws(UsageError) -> Selection {
        var command = root
        var path = [root.configuration.commandName]
        var remaining = arguments[...]
        while let word = remaining.first, !command.configuration.subcommands.isEmpty {
            if word == "--help" || word == "-h" || word == "help" {
                return Selection(command: command, path: path, parsed: ParsedArguments(), wantsHelp: true)
            }
            guard let sub = command.configuration.subcommands.first(where: { $0.configuration.commandName == word })
            else {
                if word.hasPrefix("-") { break }
                throw UsageError(
                    "unknown command '\(word)' for '\(path.joined(separator: " "))'",
                    commandPath: path.joined(separator: " ")
                )
            }
            command = sub
            path.append(word)
            remaining = remaining.dropFirst()
        }
        let words = Array(remaining)
        if words.contains("--help") || words.contains("-h") {
            return Selection(command: command, path: path, parsed: ParsedArguments(), wantsHelp: true)
        }
        if !command.configuration.subcommands.isEmpty && command.configuration.arguments.isEmpty {
            if words.isEmpty {
                return Selection(command: command, path: path, parsed: ParsedArguments(), wantsHelp: true)
            }
        }
        let parsed = try ArgumentScanner.parse(
            words,
            specs: command.configuration.arguments,
            commandPath: path.joined(separator: " ")
        )
        return Selection(command: command, path: path, parsed: parsed, wantsHelp: false)
    }
}

/// Prints a line to standard error.
public func printError(_ message: String) {
    var line = message
    line.append("\n")
    _ = line.withCString { fputs($0, stderr) }
}
