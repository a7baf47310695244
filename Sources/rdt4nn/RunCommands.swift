import ArgumentParsing
import Configuration
import DockerEngine
import FoundationEssentials
import Glibc
import PluginHost
import Runner

/// `rdt4nn run CONFIG`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a benchmark described in a YAML file.",
        discussion: """
            Prepares (images, placements, containers created but not started), executes the
            timeline on one monotonic clock while the collectors sample every container, and
            always cleans up: every container of the run is removed and every sample flushed,
            also on Ctrl-C (press it twice to skip graceful stops). Results go to
            results/<benchmark_id>/.
            """,
        arguments: [
            pluginsOption,
            .option("pull", valueName: "policy", help: "When to pull images: always, missing or never.", default: "missing"),
            .option("scheduler", valueName: "id", help: "Use this scheduler plugin instead of the configuration's."),
            .option("results", valueName: "dir", help: "Where results directories go.", default: "results"),
            .option("host-collector", valueName: "id", help: "Also run this host-wide collector (e.g. procstat).", repeatable: true),
            .option("docker-socket", valueName: "path", help: "Docker's socket (default: DOCKER_HOST or /var/run/docker.sock)."),
            .flag("lenient", help: "Unknown configuration keys are warnings, not errors."),
            .flag("quiet", short: "q", help: "Only warnings and errors."),
            .flag("verbose", short: "v", help: "Also debug messages."),
            .positional("config", help: "The benchmark YAML file."),
        ]
    )

    let directories: [String]
    let explicitDirectories: Bool
    let configPath: String
    let options: RunOptions
    let lenient: Bool
    let verbosity: Console.Verbosity
    let socket: String?

    init(arguments: ParsedArguments) throws(UsageError) {
        directories = pluginDirectories(arguments)
        explicitDirectories = !arguments.values("plugins").isEmpty
        configPath = arguments.value("config") ?? ""
        let pullText = arguments.value("pull") ?? "missing"
        guard let pull = RunPlan.PullPolicy(rawValue: pullText) else {
            throw UsageError("'--pull' takes always, missing or never, not '\(pullText)'", commandPath: "rdt4nn run")
        }
        options = RunOptions(
            pull: pull, schedulerOverride: arguments.value("scheduler"), resultsRoot: arguments.value("results") ?? "results",
            hostCollectors: arguments.values("host-collector"))
        lenient = arguments.flag("lenient")
        if arguments.flag("quiet") && arguments.flag("verbose") {
            throw UsageError("'--quiet' and '--verbose' exclude each other", commandPath: "rdt4nn run")
        }
        verbosity = arguments.flag("quiet") ? .quiet : arguments.flag("verbose") ? .verbose : .normal
        socket = arguments.value("docker-socket")
    }

    func run() throws -> ExitCode {
        let console = Console(verbosity: verbosity)
        let loaded: LoadedConfig
        do {
            loaded = try ConfigLoader.load(
                path: configPath, options: ConfigLoadOptions(lenient: lenient, environment: ProcessInfo.processInfo.environment))
        } catch {
            for warning in error.warnings { console.warning("\(warning)") }
            for problem in error.errors { console.error("\(problem)") }
            return .failure
        }
        for warning in loaded.warnings { console.warning("\(warning)") }

        // Plugins: --plugins (or ./plugins), plus the configuration's own directories.
        var searched = explicitDirectories || loaded.plan.pluginDirectories.isEmpty ? directories : []
        searched += loaded.plan.pluginDirectories
        let catalog = try PluginLoader().load(directories: searched.filter { FileManager.default.fileExists(atPath: $0) || explicitDirectories })
        for refusal in catalog.refusals { console.warning("\(refusal)") }

        // Registry credentials: the configuration's (sent only to their registry), then the environment's.
        let environment = ProcessInfo.processInfo.environment
        var credentials = RegistryCredential.fromEnvironment(environment).map { [$0] } ?? []
        if let auth = loaded.plan.registryAuth {
            credentials.insert(
                RegistryCredential(registry: auth.registry ?? "docker.io", username: auth.username, password: auth.password.revealed), at: 0)
        }
        let docker: DockerClient
        do {
            docker = try DockerClient(configuration: DockerClient.Configuration(socketPath: socket, registryCredentials: credentials))
        } catch {
            console.error("cannot reach dockerd: \(error.message); start it (scripts/start-dockerd.sh) or point --docker-socket / DOCKER_HOST=unix://… at it")
            return .failure
        }
        raiseFileDescriptorLimit(console: console)
        let interruption = Interruption()
        interruption.install()
        let plan = RunPlan(loaded, options: options)
        let report = BenchmarkRunner(plan: plan, catalog: catalog, docker: docker, console: console, interruption: interruption).run()

        console.info("results: \(report.resultsPath)")
        if report.leftoverContainers > 0 {
            console.error("\(report.leftoverContainers) container(s) could not be removed; run 'rdt4nn cleanup --benchmark \(report.benchmarkID)'")
        }
        if report.interruptedBy != nil { return ExitCode(rawValue: 130) }
        return report.succeeded ? .success : .failure
    }

    /// perf opens one fd per event and CPU for every container: raise the
    /// soft RLIMIT_NOFILE to the hard limit here, in the host (plugins may
    /// not change process-wide limits).
    private func raiseFileDescriptorLimit(console: Console) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let previous = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            console.debug("raised the open-file limit from \(previous) to \(limit.rlim_max)")
        }
    }
}
