/// Label carrying the benchmark id on every container rdt4nn creates.
public let benchmarkLabel = "rdt4nn.benchmark"
/// Label carrying the container's name within the benchmark (as in the config).
public let containerLabel = "rdt4nn.container"

/// A host port a container port is published on (`PortBindings` entry).
public struct PortBinding: Sendable, Hashable, Codable {
    /// The host address, e.g. `127.0.0.1`; `nil`/empty for all addresses.
    public var hostIP: String?
    /// The host port, as a string (Docker's format); empty for a random port.
    public var hostPort: String

    /// Creates a binding.
    public init(hostIP: String? = nil, hostPort: String) {
        self.hostIP = hostIP
        self.hostPort = hostPort
    }

    enum CodingKeys: String, CodingKey {
        case hostIP = "HostIp"
        case hostPort = "HostPort"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let ip = try c.decodeIfPresent(String.self, forKey: .hostIP)
        hostIP = (ip?.isEmpty ?? true) ? nil : ip
        hostPort = try c.decodeIfPresent(String.self, forKey: .hostPort) ?? ""
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(hostIP ?? "", forKey: .hostIP)
        try c.encode(hostPort, forKey: .hostPort)
    }
}

/// The resource and isolation settings rdt4nn applies (`HostConfig` in the Engine API).
/// `nil` / empty means "Docker's default"; decoding an inspected container maps Docker's
/// "unset" values (`""`, `0`, `null`) back to `nil` / empty.
public struct HostConfig: Sendable, Hashable, Codable {
    /// CPUs the container may run on, e.g. `"0-3"` or `"0,2"`.
    public var cpusetCpus: String?
    /// NUMA nodes the container may allocate memory on, e.g. `"0"`.
    public var cpusetMems: String?
    /// Memory limit in bytes (Docker requires at least 6 MiB).
    public var memory: Int64?
    /// CPU quota in units of 1e-9 CPUs (1_500_000_000 = 1.5 CPUs).
    public var nanoCpus: Int64?
    /// Run privileged.
    public var privileged: Bool
    /// Bind mounts, `host:container[:ro|rw]`, host paths absolute.
    public var binds: [String]
    /// Published ports: `"8080/tcp"` → host bindings. The ports are also exposed on create.
    public var portBindings: [String: [PortBinding]]
    /// `bridge`, `host`, `none`, `container:<id>` or a network name.
    public var networkMode: String?

    /// Creates a host configuration.
    public init(
        cpusetCpus: String? = nil,
        cpusetMems: String? = nil,
        memory: Int64? = nil,
        nanoCpus: Int64? = nil,
        privileged: Bool = false,
        binds: [String] = [],
        portBindings: [String: [PortBinding]] = [:],
        networkMode: String? = nil
    ) {
        self.cpusetCpus = cpusetCpus
        self.cpusetMems = cpusetMems
        self.memory = memory
        self.nanoCpus = nanoCpus
        self.privileged = privileged
        self.binds = binds
        self.portBindings = portBindings
        self.networkMode = networkMode
    }

    enum CodingKeys: String, CodingKey {
        case cpusetCpus = "CpusetCpus"
        case cpusetMems = "CpusetMems"
        case memory = "Memory"
        case nanoCpus = "NanoCpus"
        case privileged = "Privileged"
        case binds = "Binds"
        case portBindings = "PortBindings"
        case networkMode = "NetworkMode"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func nonEmpty(_ key: CodingKeys) throws -> String? {
            let value = try c.decodeIfPresent(String.self, forKey: key)
            return (value?.isEmpty ?? true) ? nil : value
        }
        func nonZero(_ key: CodingKeys) throws -> Int64? {
            let value = try c.decodeIfPresent(Int64.self, forKey: key)
            return value == 0 ? nil : value
        }
        cpusetCpus = try nonEmpty(.cpusetCpus)
        cpusetMems = try nonEmpty(.cpusetMems)
        memory = try nonZero(.memory)
        nanoCpus = try nonZero(.nanoCpus)
        privileged = try c.decodeIfPresent(Bool.self, forKey: .privileged) ?? false
        binds = try c.decodeIfPresent([String].self, forKey: .binds) ?? []
        portBindings = try c.decodeIfPresent([String: [PortBinding]?].self, forKey: .portBindings)?
            .mapValues { $0 ?? [] } ?? [:]
        networkMode = try nonEmpty(.networkMode)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(cpusetCpus, forKey: .cpusetCpus)
        try c.encodeIfPresent(cpusetMems, forKey: .cpusetMems)
        try c.encodeIfPresent(memory, forKey: .memory)
        try c.encodeIfPresent(nanoCpus, forKey: .nanoCpus)
        if privileged { try c.encode(true, forKey: .privileged) }
        if !binds.isEmpty { try c.encode(binds, forKey: .binds) }
        if !portBindings.isEmpty { try c.encode(portBindings, forKey: .portBindings) }
        try c.encodeIfPresent(networkMode, forKey: .networkMode)
    }
}

/// Everything needed to create one container.
public struct ContainerSpec: Sendable, Hashable {
    /// The Docker container name (`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`).
    public var name: String
    /// The image reference.
    public var image: String
    /// `Cmd`; `nil` keeps the image's.
    public var command: [String]?
    /// `Entrypoint`; `nil` keeps the image's.
    public var entrypoint: [String]?
    /// Environment, `KEY=value` entries.
    public var environment: [String]
    /// Labels (the benchmark initialiser adds ``benchmarkLabel`` and ``containerLabel``).
    public var labels: [String: String]
    /// Working directory inside the container; `nil` keeps the image's.
    public var workingDirectory: String?
    /// Allocate a TTY (logs are then not multiplexed).
    public var tty: Bool
    /// Resource and isolation settings.
    public var hostConfig: HostConfig

    /// Creates a spec for an arbitrary container name.
    public init(
        name: String,
        image: String,
        command: [String]? = nil,
        entrypoint: [String]? = nil,
        environment: [String] = [],
        labels: [String: String] = [:],
        workingDirectory: String? = nil,
        tty: Bool = false,
        hostConfig: HostConfig = HostConfig()
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.entrypoint = entrypoint
        self.environment = environment
        self.labels = labels
        self.workingDirectory = workingDirectory
        self.tty = tty
        self.hostConfig = hostConfig
    }

    /// Creates a spec for a benchmark container: the Docker name is
    /// ``dockerName(benchmarkID:container:)`` and the labels `rdt4nn.benchmark=<id>` and
    /// `rdt4nn.container=<container>` are added to `labels`.
    public init(
        benchmarkID: String,
        container: String,
        image: String,
        command: [String]? = nil,
        entrypoint: [String]? = nil,
        environment: [String] = [],
        labels: [String: String] = [:],
        hostConfig: HostConfig = HostConfig()
    ) {
        var allLabels = labels
        allLabels[benchmarkLabel] = benchmarkID
        allLabels[containerLabel] = container
        self.init(
            name: Self.dockerName(benchmarkID: benchmarkID, container: container), image: image,
            command: command, entrypoint: entrypoint, environment: environment, labels: allLabels,
            hostConfig: hostConfig)
    }

    /// `bench-<benchmarkID>-<container>`, with characters Docker refuses in names replaced by `_`.
    public static func dockerName(benchmarkID: String, container: String) -> String {
        let raw = "bench-\(benchmarkID)-\(container)"
        return String(
            raw.map { c -> Character in
                c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "." || c == "-") ? c : "_"
            })
    }
}

/// The body of `POST /containers/create`.
struct ContainerCreateBody: Encodable {
    var spec: ContainerSpec

    enum CodingKeys: String, CodingKey {
        case image = "Image", cmd = "Cmd", entrypoint = "Entrypoint", env = "Env", labels = "Labels"
        case workingDir = "WorkingDir", tty = "Tty", exposedPorts = "ExposedPorts", hostConfig = "HostConfig"
    }

    struct Empty: Encodable {}

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(spec.image, forKey: .image)
        try c.encodeIfPresent(spec.command, forKey: .cmd)
        try c.encodeIfPresent(spec.entrypoint, forKey: .entrypoint)
        if !spec.environment.isEmpty { try c.encode(spec.environment, forKey: .env) }
        if !spec.labels.isEmpty { try c.encode(spec.labels, forKey: .labels) }
        try c.encodeIfPresent(spec.workingDirectory, forKey: .workingDir)
        if spec.tty { try c.encode(true, forKey: .tty) }
        if !spec.hostConfig.portBindings.isEmpty {
            let exposed = Dictionary(uniqueKeysWithValues: spec.hostConfig.portBindings.keys.map { ($0, Empty()) })
            try c.encode(exposed, forKey: .exposedPorts)
        }
        try c.encode(spec.hostConfig, forKey: .hostConfig)
    }
}
