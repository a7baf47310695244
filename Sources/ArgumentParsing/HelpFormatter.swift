/// Generates `--help` text from a command's configuration.
public enum HelpFormatter {
    /// The full help of `command`, reached through `path` (`["rdt4nn", "plugins"]`).
    public static func help(for command: any ParsableCommand.Type, path: [String]) -> String {
        let configuration = command.configuration
        var text = "OVERVIEW: \(configuration.abstract)\n"
        if !configuration.discussion.isEmpty {
            text += "\n\(configuration.discussion)\n"
        }
        text += "\nUSAGE: \(usage(for: command, path: path))\n"

        let positionals = configuration.arguments.filter { $0.kind == .positional }
        if !positionals.isEmpty {
            text += "\nARGUMENTS:\n"
            for argument in positionals {
                text += row("<\(argument.name)>" + (argument.isRepeatable ? " ..." : ""), argument.help)
            }
        }
        text += "\nOPTIONS:\n"
        for argument in configuration.arguments where argument.kind != .positional {
            var label = argument.shortName.map { "-\($0), " } ?? ""
            label += "--\(argument.name)"
            if case .option(let valueName) = argument.kind { label += " <\(valueName)>" }
            var help = argument.help
            if let defaultDescription = argument.defaultDescription { help += " (default: \(defaultDescription))" }
            if argument.isRepeatable { help += " (repeatable)" }
            text += row(label, help)
        }
        text += row("-h, --help", "Show help information.")

        let visible = configuration.subcommands.filter { !$0.configuration.isHidden }
        if !visible.isEmpty {
            text += "\nSUBCOMMANDS:\n"
            for sub in visible {
                text += row(sub.configuration.commandName, sub.configuration.abstract)
            }
            text += "\n  See '\(path.joined(separator: " ")) help <subcommand>' for detailed help.\n"
        }
        return text
    }

    /// The one-line usage synopsis.
    public static func usage(for command: any ParsableCommand.Type, path: [String]) -> String {
        let configuration = command.configuration
        var parts = [path.joined(separator: " ")]
        if !configuration.subcommands.isEmpty { parts.append("<subcommand>") }
        for argument in configuration.arguments {
            switch argument.kind {
            case .flag:
                parts.append("[--\(argument.name)]")
            case .option(let valueName):
                let item = "--\(argument.name) <\(valueName)>"
                parts.append(argument.isRequired ? item : "[\(item)]" + (argument.isRepeatable ? " ..." : ""))
            case .positional:
                let item = "<\(argument.name)>" + (argument.isRepeatable ? " ..." : "")
                parts.append(argument.isRequired ? item : "[\(item)]")
            }
        }
        return parts.joined(separator: " ")
    }

    private static func row(_ label: String, _ help: String) -> String {
        let width = 28
        let padded = "  " + label
        if padded.count >= width {
            return padded + "\n" + String(repeating: " ", count: width) + help + "\n"
        }
        return padded + String(repeating: " ", count: width - padded.count) + help + "\n"
    }
}
