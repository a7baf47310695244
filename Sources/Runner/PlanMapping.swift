import Configuration
import DockerEngine
import Pipeline
import PluginABI

/// Options of `rdt4nn run` that are not in the configuration file.
public struct RunOptions: Sendable {
    /// `--pull`.
    public var pull: RunPlan.PullPolicy
    /// `--scheduler ID`: replaces the configuration's scheduler (no rebuild, no edit).
    public var schedulerOverride: String?
    /// `--results DIR`.
    public var resultsRoot: String
    /// Host-wide collectors to add (`--host-collector ID`).
    public var hostCollectors: [String]

    /// Creates options.
    public init(pull: RunPlan.PullPolicy = .missing, schedulerOverride: String? = nil, resultsRoot: String = "results", hostCollectors: [String] = []) {
        self.pull = pull
        self.schedulerOverride = schedulerOverride
        self.resultsRoot = resultsRoot
        self.hostCollectors = hostCollectors
    }
}

extension RunPlan {
    /// The run plan for a loaded configuration.
    public init(_ config: LoadedConfig, options: RunOptions) {
        let plan = config.plan
        let second: Int64 = 1_000_000_000
        let end: End
        if let maxSeconds = plan.maxSeconds {
            end = plan.drain ? .drain(admissionEnd: Int64(maxSeconds) * second) : .at(Int64(maxSeconds) * second)
        } else {
            end = .untilInterrupted
        }
        let containers = plan.containers.map { container in
            Container(
                name: container.name,
                index: container.index,
                image: container.image,
                command: container.arguments,
                execCommand: container.command,
                environment: container.environment.map { "\($0.name)=\($0.value)" },
                volumes: container.volumes,
                portBindings: Dictionary(
                    container.ports.map { ("\($0.containerPort)/\($0.proto)", [PortBinding(hostIP: $0.hostIP, hostPort: String($0.hostPort))]) },
                    uniquingKeysWith: { $0 + $1 }),
                privileged: container.privileged,
                memoryBytes: container.memoryBytes,
                cpuset: container.cpuset?.description,
                cpusetMems: container.cpusetMems?.description,
                cpusRequested: max(1, container.numCores ?? 1),
                startOffsetNs: Int64(container.startSeconds) * second,
                stopOffsetNs: container.stopSeconds.map { Int64($0) * second },
                optional: container.optional,
                collectors: container.collectors.map { PluginUse(id: $0.id, config: Self.collectorConfig($0)) },
                samplingIntervalNs: Int64(container.samplingIntervalMs) * 1_000_000
            )
        }
        var schedulerConfig = plan.scheduler.config
        if plan.allowSharedCores, plan.scheduler.id == "default", schedulerConfig["allow_shared_cores"] == nil {
            schedulerConfig = schedulerConfig.merging(["allow_shared_cores": .bool(true)])
        }
        let scheduler = options.schedulerOverride.map { PluginUse(id: $0) } ?? PluginUse(id: plan.scheduler.id, config: schedulerConfig)
        self.init(
            name: plan.idPrefix ?? plan.name,
            end: end,
            containers: containers,
            scheduler: scheduler,
            sinks: [SinkUse(plugin: PluginUse(id: plan.sink.id, config: Self.sinkConfig(plan.sink)))],
            hostCollectors: options.hostCollectors.map { PluginUse(id: $0) },
            hostSamplingIntervalNs: Int64(plan.samplingIntervalMs) * 1_000_000,
            pull: options.pull,
            resultsRoot: options.resultsRoot,
            configText: config.maskedConfigText,
            configFileName: "config.yaml"
        )
    }

    /// Derived values the original computed itself; perf derives them from its counters.
    static let derivedPerfFlags: Set<String> = [
        "cache_miss_rate", "instructions_per_cycle", "stalled_cycles_percent", "ipc_efficancy", "theoretical_ipc",
        "branch_miss_rate", "stalls_l3_miss_percent",
    ]

    /// A collector's configuration; container-bench's perf flag maps
    /// (`perf: {instructions: true, stalls_total: true}`) become the perf
    /// plugin's `events` (the software events plus every flag that names a
    /// counter, including the ones the original ignored).
    static func collectorConfig(_ selection: PluginSelection) -> JSONValue {
        guard selection.id == "perf", !selection.flags.isEmpty, selection.config["events"] == nil else { return selection.config }
        let counters = selection.flags.filter { !derivedPerfFlags.contains($0) }
        let events = ["task-clock", "context-switches", "cpu-migrations", "page-faults"] + counters
        return selection.config.merging(["events": .array(events.map { .string($0) })])
    }

    /// The sink's configuration: its native block, plus the database block
    /// of either original format mapped onto the influx sink's keys.
    static func sinkConfig(_ sink: SinkSelection) -> JSONValue {
        var config = sink.config
        guard let database = sink.database, sink.id == "influx" else { return config }
        var values: [String: JSONValue] = [
            "url": .string(database.host),
            "version": .integer(Int64(database.apiVersion.rawValue)),
        ]
        switch database.apiVersion {
        case .v1:
            values["database"] = .string(database.name)
            if let user = database.user { values["username"] = .string(user) }
            if let password = database.password { values["password"] = .string(password.revealed) }
        case .v2:
            values["bucket"] = .string(database.name)
            if let org = database.org { values["org"] = .string(org) }
            if let token = database.password { values["token"] = .string(token.revealed) }
        }
        for (key, value) in values where config[key] == nil {
            config = config.merging([key: value])
        }
        return config
    }
}
