import ArgumentParsing
import RDT4NNPluginSDK

/// The product version of the host (the ABI has its own version).
let hostVersion = "0.1.0"

/// `rdt4nn`: runs busy-neighbour benchmarks with plugin collectors, schedulers and sinks.
struct RootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rdt4nn",
        abstract: "Run container benchmarks, sample every container, store every sample.",
        discussion: """
            rdt4nn loads collectors, schedulers and sinks from plugin shared objects
            (see 'rdt4nn plugins list') and runs benchmarks described in YAML.
            """,
        subcommands: [
            RunCommand.self, ValidateCommand.self, PluginsCommand.self, UploadCommand.self, CleanupCommand.self, VersionCommand.self,
        ]
    )

    init(arguments: ParsedArguments) {}
}

/// `rdt4nn version`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the host version and the plugin ABI version."
    )

    init(arguments: ParsedArguments) {}

    func run() throws -> ExitCode {
        print("rdt4nn \(hostVersion)")
        print("plugin ABI \(RDT4NN_ABI_MAJOR).\(RDT4NN_ABI_MINOR) (SDK \(RDT4NN_SDK_VERSION))")
        return .success
    }
}

/// The `--plugins` option shared by several commands.
let pluginsOption = ArgumentSpec.option(
    "plugins",
    valueName: "dir",
    help: "Load plugins from this directory.",
    repeatable: true,
    default: "./plugins"
)

/// Directories from `--plugins`, or `./plugins`.
func pluginDirectories(_ arguments: ParsedArguments) -> [String] {
    let given = arguments.values("plugins")
    return given.isEmpty ? ["./plugins"] : given
}
