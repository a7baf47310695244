import PluginABI
import YAML

/// Which family of keys a configuration was written in.
public enum ConfigFormat: String, Sendable, Hashable, CaseIterable {
    /// rdt4nn's own keys (and files that use only keys all formats share).
    case native
    /// The original rdt4nn driver's keys (`data.profilefrequency`, `start`, `stop`, `env`...).
    case rdt4nn
    /// container-bench's keys (per-container `data.frequency`, `start_t`, `environment`...).
    case containerBench = "container-bench"
}

/// A secret string (database token, registry password).  It prints as `***`
/// everywhere; the value is reachable only through ``revealed``.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value itself, for the code that must send it (a sink, a registry pull).
    public let revealed: String

    /// Wraps a value.
    public init(_ value: String) { self.revealed = value }

    /// Whether the secret is the empty string.
    public var isEmpty: Bool { revealed.isEmpty }

    /// `***`.
    public var description: String { "***" }
    /// `***`.
    public var debugDescription: String { "***" }
}

/// Log verbosity, as both original tools spelled it.
public enum LogLevel: String, Sendable, Hashable, CaseIterable {
    case trace, debug, info, warn, error, fatal, panic
}

/// A plugin chosen by the configuration with the configuration block it gets.
public struct PluginSelection: Sendable, Equatable {
    /// The plugin id (`perf`, `dockerstats`, `resctrl`, `influx`, `default`...).
    public var id: String
    /// The plugin's configuration block (a JSON object, possibly empty); it is
    /// checked against the plugin's declared schema once plugins are loaded
    /// (``ConfigLoader/checkPluginConfigs(_:validators:)``).
    public var config: JSONValue
    /// container-bench flag names given for this collector (`data.perf: {instructions: true}`),
    /// in file order; empty when the collector was enabled with `true` or a native block.
    public var flags: [String]
    /// The file the block came from.
    public var file: String
    /// Where the block is (nil when the selection is a default).
    public var location: SourceLocation?
    /// The key path of the block, for messages.
    public var keyPath: String

    /// Creates a selection.
    public init(
        id: String,
        config: JSONValue = .object([]),
        flags: [String] = [],
        file: String = "",
        location: SourceLocation? = nil,
        keyPath: String = ""
    ) {
        self.id = id
        self.config = config
        self.flags = flags
        self.file = file
        self.location = location
        self.keyPath = keyPath
    }
}

/// The scheduler plugin and everything configured for it.
public struct SchedulerSelection: Sendable, Equatable {
    /// The scheduler id, verbatim (`default`, `rdt`, `adaptive`, `dynamic-v3`...).  An id
    /// without a loaded plugin is a run-time "scheduler plugin not found" error.
    public var id: String
    /// `scheduler.rdt`: whether the scheduler may use RDT allocation.
    public var rdt: Bool
    /// Every other scheduler key (container-bench tuning keys and the native
    /// `config:` block merged), as the plugin receives it.
    public var config: JSONValue
    /// container-bench `scheduler.prober` block, verbatim.
    public var prober: JSONValue?
    /// container-bench `scheduler.allocator` block, verbatim.
    public var allocator: JSONValue?
    /// Where the scheduler was configured (nil for the default).
    public var location: SourceLocation?
    /// The file it came from.
    public var file: String

    /// The default scheduler (CPU placement only).
    public static func `default`(file: String) -> SchedulerSelection {
        SchedulerSelection(id: "default", rdt: false, config: .object([]), prober: nil, allocator: nil, location: nil, file: file)
    }
}

/// An InfluxDB database as both original formats describe it (`data.db`).
public struct DatabaseConfig: Sendable, Equatable {
    /// Which InfluxDB write API the block is meant for.
    public enum APIVersion: Int, Sendable, Hashable {
        /// `/write` with database, user, password.
        case v1 = 1
        /// `/api/v2/write` with org, bucket and a token.
        case v2 = 2
    }

    /// Base URL, e.g. `http://127.0.0.1:8086`.
    public var host: String
    /// The database (v1) or bucket (v2).
    public var name: String
    /// User name (v1 basic auth; the originals only logged it).
    public var user: String?
    /// Password (v1) or API token (v2).
    public var password: Secret?
    /// Organisation (v2).
    public var org: String?
    /// The API the block is written for: v2 for both original formats, `version:` in native files.
    public var apiVersion: APIVersion
}

/// The sink plugin that stores samples.
public struct SinkSelection: Sendable, Equatable {
    /// `file` (the default), `influx` (when a database block exists) or another sink plugin id.
    public var id: String
    /// The native `sink.config` block.
    public var config: JSONValue
    /// The database for the `influx` sink.
    public var database: DatabaseConfig?
    /// Where the sink or database was configured.
    public var location: SourceLocation?
    /// The file it came from.
    public var file: String
}

/// Registry credentials for image pulls.
public struct RegistryAuth: Sendable, Equatable {
    /// The registry host the credentials are for (`registry.example.org`); nil means Docker Hub.
    public var registry: String?
    /// User name.
    public var username: String
    /// Password or token.
    public var password: Secret
    /// Whether the images to which these credentials apply are those whose name starts
    /// with ``registry`` (container-bench) rather than those whose registry host equals it.
    public var matchesByPrefix: Bool
}

/// One environment variable of a container.
public struct EnvironmentVariable: Sendable, Hashable {
    /// The name.
    public var name: String
    /// The value.
    public var value: String

    /// Whether the name looks like it holds a secret (`*PASSWORD*`, `*TOKEN*`, `*SECRET*`),
    /// in which case the value is masked in every printed form.
    public var isSecret: Bool { SecretKeys.isSecretEnvironmentName(name) }

    /// Creates a variable.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One container of the benchmark, with every default filled in.
public struct ContainerPlan: Sendable, Equatable {
    /// The YAML key the container was declared under (for trace jobs, the job name).
    public var key: String
    /// The container name (`name:`, else the key); unique within the plan.
    public var name: String
    /// `container_index` of its samples: `index:` when given, else the position in the file.
    public var index: Int
    /// The image reference.
    public var image: String
    /// Seconds after the run starts at which the container starts.
    public var startSeconds: Int
    /// Seconds after the run starts at which it is stopped; nil = at the end of the run.
    public var stopSeconds: Int?
    /// container-bench `expected_t`: how long the job is expected to run.
    public var expectedSeconds: Int?
    /// CPUs the container is pinned to (`core` / `cpus`); nil = placed by the scheduler.
    public var cpuset: CPUSet?
    /// How many cores the scheduler should give it when ``cpuset`` is nil.
    public var numCores: Int?
    /// Memory nodes (`cpuset_mems`).
    public var cpusetMems: CPUSet?
    /// Memory limit in bytes.
    public var memoryBytes: Int64?
    /// Environment variables in file order (the runner adds `BENCHMARK_ID`, `CONTAINER_INDEX`, `CONTAINER_NAME`).
    public var environment: [EnvironmentVariable]
    /// Bind mounts `src:dst[:mode]`.
    public var volumes: [String]
    /// Published ports.
    public var ports: [PortMapping]
    /// Whether the container runs privileged.
    public var privileged: Bool
    /// Arguments for the image's entrypoint (Docker `Cmd`); nil = the image's own `Cmd`.
    public var arguments: [String]?
    /// A shell command run with `docker exec sh -c` after start; its end stops the container.
    public var command: String?
    /// Scheduler hints.
    public var critical: Bool
    /// Scheduler hint: a priority job.
    public var priority: Bool
    /// QoS target: instructions per cycle.
    public var ipc: Double?
    /// QoS target: IPC efficiency in percent (0 < ipce ≤ 100); container-bench's fractions (≤ 1) are read as ×100.
    public var ipce: Double?
    /// A container that fails to start does not fail the run.
    public var optional: Bool
    /// Sampling period for this container, milliseconds.
    public var samplingIntervalMs: Int
    /// Collectors sampling this container, each with its configuration block.
    public var collectors: [PluginSelection]
    /// Trace jobs: the workload template it was made from, its kind and sensitivity.
    public var workload: String?
    /// Trace jobs: the template's `kind`.
    public var kind: String?
    /// Trace jobs: the template's `sensitivity`.
    public var sensitivity: String?
    /// Where the container is declared, for messages.
    public var location: SourceLocation?
    /// The file it is declared in.
    public var file: String
    /// Locations of some keys (`core`, `start`, `stop`...) for messages of later checks.
    public var keyLocations: [String: SourceLocation]
}

/// A workload template of container-bench's trace mode.
public struct WorkloadTemplate: Sendable, Equatable {
    /// The template name.
    public var name: String
    /// Image.
    public var image: String
    /// Command run after start.
    public var command: String?
    /// Cores to give each job.
    public var numCores: Int
    /// Scheduler hints.
    public var critical: Bool
    /// Scheduler hint.
    public var priority: Bool
    /// QoS targets.
    public var ipc: Double?
    /// QoS target (percent).
    public var ipce: Double?
    /// Workload kind (matched against `arrival.split`).
    public var kind: String?
    /// Sensitivity (matched against `arrival.sensitivities`).
    public var sensitivity: String?
    /// The file the template came from (the config or an imported file).
    public var file: String
    /// Where it is declared.
    public var location: SourceLocation?
}

/// container-bench's generated-trace settings.
public struct TraceSettings: Sendable, Equatable {
    /// PRNG seed.
    public var seed: Int64
    /// Mean and standard deviation of the inter-arrival time, seconds.
    public var arrivalMean: Double
    /// Standard deviation of the inter-arrival time.
    public var arrivalSigma: Double
    /// Job length distribution, seconds.
    public var lengthMean: Double
    /// Standard deviation of the job length.
    public var lengthSigma: Double
    /// Lower clamp of the job length (0 = none).
    public var lengthMin: Double
    /// Upper clamp of the job length (0 = none).
    public var lengthMax: Double
    /// Weighted kinds (`arrival.split`), empty = no constraint.
    public var split: [(name: String, weight: Double)]
    /// Weighted sensitivities, empty = no constraint.
    public var sensitivities: [(name: String, weight: Double)]
    /// Weighted `priority` / `nonpriority`, empty = no constraint.
    public var prioritySplit: [(name: String, weight: Double)]
    /// The templates jobs are drawn from, by name.
    public var templates: [WorkloadTemplate]
    /// Files imported through `workloads.input`.
    public var importedFiles: [String]

    /// Compares everything, weights in order.
    public static func == (lhs: TraceSettings, rhs: TraceSettings) -> Bool {
        func same(_ a: [(name: String, weight: Double)], _ b: [(name: String, weight: Double)]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.name == $1.name && $0.weight == $1.weight }
        }
        return lhs.seed == rhs.seed && lhs.arrivalMean == rhs.arrivalMean && lhs.arrivalSigma == rhs.arrivalSigma
            && lhs.lengthMean == rhs.lengthMean && lhs.lengthSigma == rhs.lengthSigma && lhs.lengthMin == rhs.lengthMin
            && lhs.lengthMax == rhs.lengthMax && same(lhs.split, rhs.split) && same(lhs.sensitivities, rhs.sensitivities)
            && same(lhs.prioritySplit, rhs.prioritySplit) && lhs.templates == rhs.templates
            && lhs.importedFiles == rhs.importedFiles
    }
}

/// A validated benchmark: everything the runner needs, with defaults filled in.
public struct BenchmarkPlan: Sendable, Equatable {
    /// The configuration file as given.
    public var file: String
    /// The key family the file is written in; ``formats`` lists all families seen.
    public var format: ConfigFormat
    /// Every key family used in the file (a native file may use original keys).
    public var formats: Set<ConfigFormat>
    /// `benchmark.name`.
    public var name: String
    /// `benchmark.description`.
    public var description: String?
    /// `benchmark.id_prefix`: prepended to generated benchmark ids (native).
    public var idPrefix: String?
    /// Run length in seconds counted from the start of the run; nil = until Ctrl-C (rdt4nn's `max_t: -1`).
    public var maxSeconds: Int?
    /// container-bench `drain`: at `maxSeconds` stop admitting jobs and let running ones finish.
    public var drain: Bool
    /// `benchmark.log_level`; nil = the command line decides.
    public var logLevel: LogLevel?
    /// The global sampling period in milliseconds (containers may override it).
    public var samplingIntervalMs: Int
    /// container-bench `pid_sync_interval`, milliseconds.
    public var pidSyncIntervalMs: Int
    /// Whether containers running at the same time may share pinned CPUs.
    public var allowSharedCores: Bool
    /// Plugin directories from `benchmark.plugins`, resolved against the config file's directory.
    public var pluginDirectories: [String]
    /// The scheduler.
    public var scheduler: SchedulerSelection
    /// The sink.
    public var sink: SinkSelection
    /// Registry credentials for pulls.
    public var registryAuth: RegistryAuth?
    /// The containers, in file order (trace jobs in arrival order).
    public var containers: [ContainerPlan]
    /// The trace settings when containers were generated from `arrival` + `workloads`.
    public var trace: TraceSettings?

    /// The collector ids used by any container, in first-use order.
    public var collectorIDs: [String] {
        var seen: [String] = []
        for container in containers {
            for collector in container.collectors where !seen.contains(collector.id) { seen.append(collector.id) }
        }
        return seen
    }
}
