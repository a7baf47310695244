import ArgumentParsing
import Configuration
import DockerEngine
import FoundationEssentials
import PluginABI
import PluginHost

/// `rdt4nn validate FILE...`: loads and checks benchmark configurations without running them.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check benchmark YAML files without running them.",
        discussion: """
            Prints one summary line per valid file, or every error found (file:line:col,
            key path, message). Exits 1 if any file fails. Plugin configuration blocks
            are checked against the schemas of the plugins found in --plugins and in the
            file's benchmark.plugins directories.
            """,
        arguments: [
            pluginsOption,
            .flag("json", help: "Print the resolved plan (secrets masked) as JSON."),
            .flag("lenient", help: "Report unknown keys as warnings instead of errors."),
            .flag("host-independent", help: "Report cpus and memory nodes missing on this host as warnings."),
            .flag("skip-images", help: "Do not ask dockerd whether the images are present."),
            .positional("files", help: "Benchmark YAML files.", repeatable: true),
        ]
    )

    let directories: [String]
    let directoriesGiven: Bool
    let files: [String]
    let json: Bool
    let lenient: Bool
    let hostIndependent: Bool
    let skipImages: Bool

    init(arguments: ParsedArguments) {
        directories = pluginDirectories(arguments)
        directoriesGiven = !arguments.values("plugins").isEmpty
        files = arguments.values("files")
        json = arguments.flag("json")
        lenient = arguments.flag("lenient")
        hostIndependent = arguments.flag("host-independent")
        skipImages = arguments.flag("skip-images")
    }

    func run() throws -> ExitCode {
        let options = ConfigLoadOptions(
            lenient: lenient,
            hostIndependent: hostIndependent,
            environment: ProcessInfo.processInfo.environment
        )
        var failed = false
        var reports: [JSONValue] = []
        // Images are checked against dockerd when it answers; otherwise that one check is skipped, said once.
        let docker: DockerClient? = skipImages || hostIndependent ? nil : try? DockerClient()
        if docker == nil && !skipImages && !hostIndependent {
            printError("warning: dockerd is not reachable: whether the images are present was not checked")
        }
        for file in files {
            var errors: [ConfigError] = []
            var warnings: [ConfigWarning] = []
            var loaded: LoadedConfig?
            do {
                let config = try ConfigLoader.load(path: file, options: options)
                warnings = config.warnings
                let checked = checkPlugins(config.plan)
                errors += checked.errors
                warnings += checked.warnings
                if let docker {
                    errors += ConfigLoader.checkImages(config.plan) { image in (try? docker.imageExists(image)) ?? false }
                }
                loaded = config
            } catch {
                errors = error.errors
                warnings = error.warnings
            }
            if !errors.isEmpty { failed = true }
            if json {
                var members: [(key: String, value: JSONValue)] = [
                    ("file", .string(file)), ("ok", .bool(errors.isEmpty)),
                    ("errors", .array(errors.map { .string(loaded?.masked($0.description) ?? $0.description) })),
                    ("warnings", .array(warnings.map { .string(loaded?.masked($0.description) ?? $0.description) })),
                ]
                if let loaded, errors.isEmpty { members.append(("plan", loaded.planJSON)) }
                reports.append(.object(members))
                continue
            }
            for warning in warnings { printError("warning: \(loaded?.masked(warning.description) ?? warning.description)") }
            if let loaded, errors.isEmpty {
                print(loaded.summary)
            } else {
                for error in errors { printError("error: \(loaded?.masked(error.description) ?? error.description)") }
                printError("\(file): failed — \(errors.count) error\(errors.count == 1 ? "" : "s")")
            }
        }
        if json { print((reports.count == 1 ? reports[0] : .array(reports)).prettyText) }
        return failed ? .failure : .success
    }

    /// Checks plugin configuration blocks against the schemas of the plugins in `--plugins`
    /// and the plan's `benchmark.plugins`; skipped when no plugin is found at all.
    private func checkPlugins(_ plan: BenchmarkPlan) -> (errors: [ConfigError], warnings: [ConfigWarning]) {
        var warnings: [ConfigWarning] = []
        var searched = plan.pluginDirectories
        for directory in directories where !searched.contains(directory) {
            var isDirectory = false
            if directoriesGiven || (FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory) {
                searched.append(directory)
            }
        }
        let catalog: PluginCatalog
        do {
            catalog = try PluginLoader().load(directories: searched)
        } catch {
            warnings.append(ConfigWarning(file: plan.file, location: nil, keyPath: "", message: "plugin configurations not checked: \(error)"))
            return ([], warnings)
        }
        guard !catalog.plugins.isEmpty else { return ([], warnings) }
        var validators: [String: PluginConfigValidator] = [:]
        for plugin in catalog.plugins {
            let schema = plugin.configSchema
            let id = plugin.id
            validators[id] = { config in
                do throws(ConfigValidationError) {
                    _ = try schema.validate(config, pluginID: id)
                    return []
                } catch {
                    return error.problems
                }
            }
        }
        let checked = ConfigLoader.checkPluginConfigs(plan, validators: validators)
        return (checked.errors, warnings + checked.warnings)
    }
}
