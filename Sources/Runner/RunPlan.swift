import DockerEngine
import Pipeline
import PluginABI

/// Everything the runner needs to run one benchmark, resolved from the
/// configuration: absolute offsets, placements to ask for, plugins to use.
public struct RunPlan: Sendable {
    /// When pulls happen.
    public enum PullPolicy: String, Sendable, CaseIterable {
        /// Pull every image, even present ones.
        case always
        /// Pull images that are not present (the default).
        case missing
        /// Never pull; a missing image fails the run before anything starts.
        case never
    }

    /// How the run ends.
    public enum End: Sendable, Equatable {
        /// At this offset from the start (max_t).
        case at(Int64)
        /// Only on SIGINT/SIGTERM (rdt4nn's `max_t: -1`).
        case untilInterrupted
        /// Drain: no container is started after `admissionEnd`; the run ends when the
        /// started ones have finished (or on a signal).
        case drain(admissionEnd: Int64)
    }

    /// A plugin instance and its configuration block.
    public struct PluginUse: Sendable, Equatable {
        /// Plugin id.
        public var id: String
        /// Configuration (validated against the plugin's schema by the host).
        public var config: JSONValue
        /// Creates a use.
        public init(id: String, config: JSONValue = .object([])) {
            self.id = id
            self.config = config
        }
    }

    /// A sink and how the host buffers for it.
    public struct SinkUse: Sendable {
        /// The plugin.
        public var plugin: PluginUse
        /// Buffering, batching, overflow (the spool path is filled in by the runner).
        public var policy: SinkPolicy
        /// Creates a sink use.
        public init(plugin: PluginUse, policy: SinkPolicy = SinkPolicy()) {
            self.plugin = plugin
            self.policy = policy
        }
    }

    /// One container on the timeline.
    public struct Container: Sendable, Equatable {
        public var name: String
        public var index: Int
        public var image: String
        /// Overrides of the image's `Cmd` / `Entrypoint`.
        public var command: [String]?
        public var entrypoint: [String]?
        /// A shell command run with `docker exec sh -c` after start; when it ends, the container is stopped.
        public var execCommand: String?
        /// `KEY=value` entries (the runner adds BENCHMARK_ID, CONTAINER_INDEX, CONTAINER_NAME).
        public var environment: [String]
        public var volumes: [String]
        public var portBindings: [String: [PortBinding]]
        public var privileged: Bool
        public var memoryBytes: Int64?
        public var nanoCPUs: Int64?
        /// Configured cpuset, or nil to let the scheduler choose `cpusRequested` CPUs.
        public var cpuset: String?
        public var cpusetMems: String?
        public var cpusRequested: Int
        /// Start and planned stop, ns after the run's start (stop nil = end of run).
        public var startOffsetNs: Int64
        public var stopOffsetNs: Int64?
        /// A container that fails to start does not fail the run.
        public var optional: Bool
        /// Collectors sampling it and the sampling period.
        public var collectors: [PluginUse]
        public var samplingIntervalNs: Int64

        /// Creates a container with the common defaults.
        public init(
            name: String, index: Int, image: String, command: [String]? = nil, entrypoint: [String]? = nil,
            execCommand: String? = nil, environment: [String] = [], volumes: [String] = [],
            portBindings: [String: [PortBinding]] = [:], privileged: Bool = false, memoryBytes: Int64? = nil,
            nanoCPUs: Int64? = nil, cpuset: String? = nil, cpusetMems: String? = nil, cpusRequested: Int = 1,
            startOffsetNs: Int64 = 0, stopOffsetNs: Int64? = nil, optional: Bool = false,
            collectors: [PluginUse] = [], samplingIntervalNs: Int64 = 1_000_000_000
        ) {
            self.name = name
            self.index = index
            self.image = image
            self.command = command
            self.entrypoint = entrypoint
            self.execCommand = execCommand
            self.environment = environment
            self.volumes = volumes
            self.portBindings = portBindings
            self.privileged = privileged
            self.memoryBytes = memoryBytes
            self.nanoCPUs = nanoCPUs
            self.cpuset = cpuset
            self.cpusetMems = cpusetMems
            self.cpusRequested = cpusRequested
            self.startOffsetNs = startOffsetNs
            self.stopOffsetNs = stopOffsetNs
            self.optional = optional
            self.collectors = collectors
            self.samplingIntervalNs = samplingIntervalNs
        }
    }

    /// Benchmark name (prefix of the id).
    public var name: String
    /// How the run ends.
    public var end: End
    /// Containers in configuration order.
    public var containers: [Container]
    /// The scheduler.
    public var scheduler: PluginUse
    /// Sinks (at least one).
    public var sinks: [SinkUse]
    /// Host-wide collectors (procstat, pressure...) and their period.
    public var hostCollectors: [PluginUse]
    public var hostSamplingIntervalNs: Int64
    /// Pull policy.
    public var pull: PullPolicy
    /// Where `results/` goes.
    public var resultsRoot: String
    /// The configuration as run (secrets masked) and its file name.
    public var configText: String
    public var configFileName: String
    /// Graceful stop timeout per container.
    public var stopTimeoutSeconds: Int

    /// Creates a plan.
    public init(
        name: String, end: End, containers: [Container], scheduler: PluginUse = PluginUse(id: "default"),
        sinks: [SinkUse] = [SinkUse(plugin: PluginUse(id: "file"))], hostCollectors: [PluginUse] = [],
        hostSamplingIntervalNs: Int64 = 1_000_000_000, pull: PullPolicy = .missing, resultsRoot: String = "results",
        configText: String = "", configFileName: String = "config.yaml", stopTimeoutSeconds: Int = 10
    ) {
        self.name = name
        self.end = end
        self.containers = containers
        self.scheduler = scheduler
        self.sinks = sinks
        self.hostCollectors = hostCollectors
        self.hostSamplingIntervalNs = hostSamplingIntervalNs
        self.pull = pull
        self.resultsRoot = resultsRoot
        self.configText = configText
        self.configFileName = configFileName
        self.stopTimeoutSeconds = stopTimeoutSeconds
    }
}
