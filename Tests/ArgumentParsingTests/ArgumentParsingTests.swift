import Testing

@testable import ArgumentParsing

private struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tool",
        abstract: "A tool.",
        subcommands: [Greet.self]
    )
    init(arguments: ParsedArguments) {}
}

private struct Greet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "greet",
        abstract: "Say hello.",
        arguments: [
            .option("name", short: "n", valueName: "who", help: "Whom to greet.", repeatable: true),
            .option("times", help: "How often.", default: "1"),
            .flag("loud", short: "l", help: "Shout."),
            .positional("files", help: "Files.", repeatable: true, required: false),
        ]
    )
    let arguments: ParsedArguments
    init(arguments: ParsedArguments) throws(UsageError) {
        _ = try arguments.integer("times", in: 1...3, default: 1)
        self.arguments = arguments
    }
}

struct ArgumentParsingTests {
    @Test func parsesOptionsFlagsAndPositionals() throws {
        let selection = try CommandLineParser.select(root: Tool.self, arguments: ["greet", "-n", "a", "--name=b", "x.yaml", "--loud", "--", "-dash.yaml"])
        #expect(selection.path == ["tool", "greet"])
        #expect(selection.parsed.values("name") == ["a", "b"])
        #expect(selection.parsed.flag("loud"))
        #expect(selection.parsed.values("files") == ["x.yaml", "-dash.yaml"])
        #expect(!selection.wantsHelp)
    }

    @Test func reportsUsageErrors() throws {
        #expect(throws: UsageError("unknown option '--nmae'", commandPath: "tool greet")) {
            try CommandLineParser.select(root: Tool.self, arguments: ["greet", "--nmae", "x"])
        }
        #expect(throws: UsageError("missing value for '--times'", commandPath: "tool greet")) {
            try CommandLineParser.select(root: Tool.self, arguments: ["greet", "--times"])
        }
        #expect(throws: UsageError("'--times' given more than once", commandPath: "tool greet")) {
            try CommandLineParser.select(root: Tool.self, arguments: ["greet", "--times", "1", "--times", "2"])
        }
        #expect(throws: UsageError("'--loud' takes no value", commandPath: "tool greet")) {
            try CommandLineParser.select(root: Tool.self, arguments: ["greet", "--loud=yes"])
        }
        #expect(throws: UsageError("unknown command 'wave' for 'tool'", commandPath: "tool")) {
            try CommandLineParser.select(root: Tool.self, arguments: ["wave"])
        }
        let selection = try CommandLineParser.select(root: Tool.self, arguments: ["greet", "--times", "9"])
        #expect(throws: UsageError("'--times' takes a whole number from 1 to 3, not '9'")) { try selection.instantiate() }
    }

    @Test func helpIsGeneratedFromTheDeclarations() throws {
        let selection = try CommandLineParser.select(root: Tool.self, arguments: ["greet", "--help"])
        #expect(selection.wantsHelp)
        let help = HelpFormatter.help(for: Greet.self, path: ["tool", "greet"])
        #expect(
            help == """
                OVERVIEW: Say hello.

                USAGE: tool greet [--name <who>] ... [--times <value>] [--loud] [<files> ...]

                ARGUMENTS:
                  <files> ...               Files.

                OPTIONS:
                  -n, --name <who>          Whom to greet. (repeatable)
                  --times <value>           How often. (default: 1)
                  -l, --loud                Shout.
                  -h, --help                Show help information.

                """
        )
        #expect(try CommandLineParser.select(root: Tool.self, arguments: []).wantsHelp)
    }

    @Test func exitCodesFollowTheConventions() {
        #expect(ExitCode.success.rawValue == 0)
        #expect(ExitCode.failure.rawValue == 1)
        #expect(ExitCode.usageError.rawValue == 64)
    }
}
