import ArgumentParsing
import PluginHost

/// `rdt4nn run CONFIG`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a benchmark described in a YAML file.",
        arguments: [
            pluginsOption,
            .positional("config", help: "The benchmark YAML file."),
        ]
    )

    let directories: [String]
    let config: String

    init(arguments: ParsedArguments) {
        directories = pluginDirectories(arguments)
        config = arguments.value("config") ?? ""
    }

    func run() throws -> ExitCode {
        let catalog = try PluginLoader().load(directories: directories)
        for refusal in catalog.refusals { printError("warning: \(refusal)") }
        printError("error: cannot run \(config): reading benchmark configurations is not implemented yet; \(catalog.plugins.count) plugin(s) loaded, nothing was run")
        return .failure
    }
}

/// `rdt4nn validate FILE...`.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check benchmark YAML files without running them.",
        arguments: [
            pluginsOption,
            .positional("files", help: "Benchmark YAML files.", repeatable: true),
        ]
    )

    let files: [String]

    init(arguments: ParsedArguments) {
        files = arguments.values("files")
    }

    func run() throws -> ExitCode {
        for file in files {
            printError("error: \(file): validating benchmark configurations is not implemented yet; nothing was checked")
        }
        return .failure
    }
}
