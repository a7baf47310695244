import SystemSupport
import PluginABI
import YAML

/// Reads a parsed configuration into a ``BenchmarkPlan``, accepting the keys of all
/// three formats, and records every problem it meets.
struct PlanReader {
    var reader: NodeReader
    /// The configuration file's directory (for `plugins:` and `workloads.input`).
    var baseDirectory: String
    /// Injected environment (container-bench's `DOCKER_REGISTRY_*` fallback).
    var environment: [String: String]
    /// The format decided before expansion (for format-dependent defaults).
    var format: ConfigFormat
    /// Expansion options for imported workload files.
    var expander: EnvironmentExpander
    /// Imported files' expansions, by file name, for translating their locations.
    var importedTexts: [String: ExpandedText] = [:]
    /// Expansion warnings of imported files (located in the text as written already).
    var expansionLog = DiagnosticLog()
    /// Secret values met while reading.
    var masker = SecretMasker()

    var file: String { reader.file }

    // MARK: Intermediate values

    /// What a container section says about collectors.
    struct CollectorOverrides {
        /// A list form: replaces the inherited set entirely.
        var replacement: [PluginSelection]?
        /// Per-id changes: a selection enables (with its config), nil disables.
        var changes: [(id: String, selection: PluginSelection?)] = []
        /// `data.frequency` / `interval_ms`.
        var intervalMs: Int?
        var intervalLocation: SourceLocation?
    }

    // MARK: Entry point

    mutating func read(root: YAMLNode?) -> BenchmarkPlan? {
        guard let root else {
            reader.log.error(file, SourceLocation(line: 1, column: 1), "", "the file holds no configuration (expected a 'benchmark:' block and containers)")
            return nil
        }
        guard let topEntries = root.mapping else {
            reader.error(root, "", "expected a mapping with a 'benchmark:' block and containers, found \(NodeReader.kindName(root))")
            return nil
        }

        var benchmarkNode: YAMLNode?
        var arrivalNode: YAMLNode?
        var topDataNode: YAMLNode?
        var workloadsNode: YAMLNode?
        var containerEntries: [(key: String, entry: YAMLMappingEntry)] = []
        for entry in topEntries {
            guard let key = NodeReader.keyName(entry) else {
                reader.error(entry.key, "", "top-level keys must be plain words, found \(NodeReader.kindName(entry.key))")
                continue
            }
            switch key {
            case "benchmark": benchmarkNode = entry.value
            case "arrival": arrivalNode = entry.value; reader.families.insert(.containerBench)
            case "data": topDataNode = entry.value; reader.families.insert(.containerBench)
            case "workloads": workloadsNode = entry.value; reader.families.insert(.containerBench)
            default:
                if entry.value.mapping?.contains(where: { NodeReader.keyName($0) == "image" }) != true,
                    let reserved = Suggestion.closest(to: key, among: Schema.topLevel.map(\.key))
                {
                    reader.error(entry.key, key, "unknown top-level key (did you mean '\(reserved)'?); every top-level key other than benchmark, arrival, data and workloads is a container and needs an 'image'")
                    continue
                }
                containerEntries.append((key, entry))
            }
        }

        guard let benchmarkNode else {
            reader.log.error(file, root.location, "benchmark", "missing 'benchmark:' block (it needs at least a name)")
            return nil
        }
        var (plan, globalCollectors) = readBenchmark(benchmarkNode)

        // Containers.
        var topData = CollectorOverrides()
        if let topDataNode {
            topData = readDataBlock(topDataNode, path: "data")
        }
        for (key, entry) in containerEntries {
            if let container = readContainer(key: key, entry: entry, globalCollectors: globalCollectors, globalInterval: plan.samplingIntervalMs, topData: topDataNode == nil ? nil : topData) {
                plan.containers.append(container)
            }
        }

        // Trace mode.
        if arrivalNode != nil || workloadsNode != nil {
            if let arrivalNode, let workloadsNode {
                if var trace = readArrival(arrivalNode) {
                    trace.templates = readWorkloads(workloadsNode, importedFiles: &trace.importedFiles)
                    plan.trace = trace
                    let inherited = apply(topData, to: globalCollectors)
                    let interval = topData.intervalMs ?? plan.samplingIntervalMs
                    plan.containers += generateJobs(trace, plan: plan, collectors: inherited, intervalMs: interval, at: arrivalNode)
                }
            } else {
                let present = arrivalNode ?? workloadsNode!
                let missing = arrivalNode == nil ? "arrival" : "workloads"
                reader.error(present, arrivalNode == nil ? "workloads" : "arrival", "trace mode needs both 'arrival' and 'workloads'; '\(missing)' is missing")
            }
        }

        assignIndices(&plan)
        return plan
    }

    // MARK: benchmark:

    private mutating func readBenchmark(_ node: YAMLNode) -> (BenchmarkPlan, [PluginSelection]) {
        let path = "benchmark"
        let entries = reader.entries(node, path, Schema.benchmark, what: "benchmark settings") ?? [:]
        var plan = BenchmarkPlan(
            file: file, format: .native, formats: [], name: "", description: nil, idPrefix: nil, maxSeconds: nil,
            drain: false, logLevel: nil, samplingIntervalMs: 1000, pidSyncIntervalMs: 100, allowSharedCores: false,
            pluginDirectories: [], scheduler: .default(file: file),
            sink: SinkSelection(id: "file", config: .object([]), database: nil, location: nil, file: file),
            registryAuth: nil, containers: [], trace: nil
        )
        if let name = reader.string(entries["name"]?.value, "benchmark.name"), !name.trimmingWhitespace().isEmpty {
            plan.name = name
        } else if entries["name"]?.value.scalar != nil || entries["name"] == nil {
            reader.log.error(file, entries["name"]?.value.location ?? node.location, "benchmark.name", "a benchmark needs a name")
        }
        plan.description = reader.string(entries["description"]?.value, "benchmark.description")
        plan.idPrefix = reader.string(entries["id_prefix"]?.value, "benchmark.id_prefix")
        if let prefix = plan.idPrefix, let entry = entries["id_prefix"],
            prefix.isEmpty || !prefix.unicodeScalars.allSatisfy({ $0.isASCIILetterOrDigit || $0 == "-" || $0 == "_" || $0 == "." })
        {
            reader.error(entry.value, "benchmark.id_prefix", "'\(prefix)' may hold only letters, digits, '-', '_' and '.' (it becomes part of container names)")
        }
        if let entry = entries["max_t"], let value = reader.integer(entry.value, "benchmark.max_t", unit: "seconds") {
            if value == -1 {
                plan.maxSeconds = nil
            } else if value > 0 {
                plan.maxSeconds = value
            } else {
                reader.error(entry.value, "benchmark.max_t", "must be a positive number of seconds, or -1 to run until Ctrl-C (found \(value))")
            }
        }
        plan.drain = reader.boolean(entries["drain"]?.value, "benchmark.drain") ?? false
        plan.allowSharedCores = reader.boolean(entries["allow_shared_cores"]?.value, "benchmark.allow_shared_cores") ?? false
        if let entry = entries["log_level"] { plan.logLevel = readLogLevel(entry.value, "benchmark.log_level") }
        if let entry = entries["accounting"], let accounting = reader.entries(entry.value, "benchmark.accounting", Schema.accounting, what: "accounting settings"),
            let level = accounting["log_level"]
        {
            _ = readLogLevel(level.value, "benchmark.accounting.log_level")
        }
        if let entry = entries["pid_sync_interval"], let value = reader.integer(entry.value, "benchmark.pid_sync_interval", unit: "milliseconds") {
            if checkInterval(value, entry.value, "benchmark.pid_sync_interval") { plan.pidSyncIntervalMs = value }
        }
        if let entry = entries["plugins"], let directories = reader.stringList(entry.value, "benchmark.plugins") {
            plan.pluginDirectories = directories.map { Self.resolve($0, against: baseDirectory) }
        }

        // Sampling and collectors.
        var globalCollectors: [PluginSelection] = []
        var intervalSet = false
        if let entry = entries["interval_ms"], let value = reader.integer(entry.value, "benchmark.interval_ms", unit: "milliseconds") {
            if checkInterval(value, entry.value, "benchmark.interval_ms") { plan.samplingIntervalMs = value }
            intervalSet = true
        }
        var database: DatabaseConfig?
        var databaseLocation: SourceLocation?
        if let dataEntry = entries["data"], let data = reader.entries(dataEntry.value, "benchmark.data", Schema.benchmarkData, what: "data settings") {
            if let entry = data["profilefrequency"], let value = reader.integer(entry.value, "benchmark.data.profilefrequency", unit: "milliseconds") {
                if intervalSet {
                    reader.error(entry.value, "benchmark.data.profilefrequency", "the sampling period is already set by benchmark.interval_ms; give only one")
                } else if checkInterval(value, entry.value, "benchmark.data.profilefrequency") {
                    plan.samplingIntervalMs = value
                }
            }
            for (key, id) in [("rdt", "resctrl"), ("perf", "perf"), ("dockerstats", "dockerstats")] {
                guard let entry = data[key] else { continue }
                if reader.boolean(entry.value, "benchmark.data.\(key)") == true {
                    globalCollectors.append(PluginSelection(id: id, file: file, location: entry.value.location, keyPath: "benchmark.data.\(key)"))
                }
            }
            if let entry = data["db"] {
                database = readDatabase(entry.value)
                databaseLocation = entry.value.location
            }
        }
        if let entry = entries["collectors"] {
            let overrides = readCollectorSet(entry.value, path: "benchmark.collectors")
            globalCollectors = apply(overrides, to: globalCollectors)
        }

        // Scheduler, sink, registry.
        if let entry = entries["scheduler"] { plan.scheduler = readScheduler(entry.value) }
        plan.sink = readSink(entries["sink"]?.value, database: database, databaseLocation: databaseLocation)
        if let entry = entries["docker"] { plan.registryAuth = readDocker(entry.value) }
        if plan.registryAuth == nil, format == .containerBench, let host = environment["DOCKER_REGISTRY_HOST"], !host.isEmpty,
            let user = environment["DOCKER_REGISTRY_USERNAME"], let password = environment["DOCKER_REGISTRY_PASSWORD"]
        {
            masker.add(password)
            plan.registryAuth = RegistryAuth(registry: host, username: user, password: Secret(password), matchesByPrefix: true)
        }
        return (plan, globalCollectors)
    }

    static func placeholder(collectors: [PluginSelection], file: String) -> ContainerPlan {
        ContainerPlan(
            key: "", name: "", index: 0, image: "", startSeconds: 0, stopSeconds: nil, expectedSeconds: nil, cpuset: nil,
            numCores: nil, cpusetMems: nil, memoryBytes: nil, environment: [], volumes: [], ports: [], privileged: false,
            arguments: nil, command: nil, critical: false, priority: false, ipc: nil, ipce: nil, optional: false, samplingIntervalMs: 0,
            collectors: collectors, workload: nil, kind: nil, sensitivity: nil, location: nil, file: file, keyLocations: [:]
        )
    }

    /// `path` made absolute against `base` (a relative `base` stays relative to the working directory).
    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        let joined = base.hasSuffix("/") ? base + path : base + "/" + path
        return PathString.standardizing(joined)
    }

    private mutating func readLogLevel(_ node: YAMLNode, _ path: String) -> LogLevel? {
        guard let text = reader.string(node, path) else { return nil }
        let lowered = text.lowercased()
        if lowered == "warning" { return .warn }
        if let level = LogLevel(rawValue: lowered) { return level }
        var message = "unknown log level '\(text)'"
        if let suggestion = Suggestion.closest(to: lowered, among: LogLevel.allCases.map(\.rawValue)) {
            message += " (did you mean '\(suggestion)'?)"
        } else {
            message += "; expected one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))"
        }
        reader.error(node, path, message)
        return nil
    }

    /// Checks a sampling period: 1 ms to 60 s.
    @discardableResult
    mutating func checkInterval(_ value: Int, _ node: YAMLNode, _ path: String) -> Bool {
        guard (1...60_000).contains(value) else {
            reader.error(node, path, "sampling period \(value) ms is outside 1 ms to 60 s (60000 ms)")
            return false
        }
        return true
    }

    // MARK: Database, sink, registry

    private mutating func readDatabase(_ node: YAMLNode) -> DatabaseConfig? {
        let path = "benchmark.data.db"
        guard let entries = reader.entries(node, path, Schema.database, what: "database settings") else { return nil }
        func text(_ key: String) -> String? { reader.string(entries[key]?.value, "\(path).\(key)") }
        var version: DatabaseConfig.APIVersion = .v2
        if let entry = entries["version"], let value = reader.integer(entry.value, "\(path).version") {
            if let parsed = DatabaseConfig.APIVersion(rawValue: value) {
                version = parsed
            } else {
                reader.error(entry.value, "\(path).version", "InfluxDB API version must be 1 or 2, found \(value)")
            }
        }
        let host = text("host"), name = text("name"), user = text("user")
        var org = text("org")
        var password = text("password")
        if let token = text("token") {
            if password != nil {
                reader.error(entries["token"]!.value, "\(path).token", "give either 'password' or 'token' (both are the InfluxDB token), not both")
            }
            password = token
        }
        if let password { masker.add(password) }
        // Completeness: an empty or missing value is reported at the block (or at the value).
        func require(_ key: String, _ value: String?, _ why: String) {
            if let value, !value.trimmingWhitespace().isEmpty { return }
            let at = entries[key]?.value ?? node
            reader.error(at, "\(path).\(key)", (value == nil ? "missing" : "empty") + " \(why)")
        }
        require("host", host, "InfluxDB URL (e.g. http://127.0.0.1:8086)")
        require("name", name, version == .v2 ? "bucket name" : "database name")
        if format == .rdt4nn, org == nil { org = "rdt4nn" }
        if format == .containerBench {
            require("user", user, "user (container-bench requires all five db keys)")
            require("password", password, "token (container-bench requires all five db keys)")
            require("org", org, "organisation (container-bench requires all five db keys)")
        } else if version == .v2 {
            require(entries["token"] != nil ? "token" : "password", password, "API token (InfluxDB 2 needs a token; for 1.x set version: 1)")
            require("org", org, "organisation (InfluxDB 2 needs one; for 1.x set version: 1)")
        } else if (user == nil) != (password == nil) {
            reader.error(node, path, "InfluxDB 1.x credentials need both 'user' and 'password' (or neither)")
        }
        if let host, !host.isEmpty, !host.contains("${"), !(host.hasPrefix("http://") || host.hasPrefix("https://")) {
            reader.error(entries["host"]!.value, "\(path).host", "'\(host)' is not a URL; write it as http://host:8086 or https://host:8086")
        }
        return DatabaseConfig(
            host: host ?? "", name: name ?? "", user: user, password: password.map(Secret.init), org: org, apiVersion: version
        )
    }

    private mutating func readSink(_ node: YAMLNode?, database: DatabaseConfig?, databaseLocation: SourceLocation?) -> SinkSelection {
        var sink = SinkSelection(
            id: database == nil ? "file" : "influx", config: .object([]), database: database, location: databaseLocation, file: file
        )
        guard let node, !node.isNull else { return sink }
        sink.location = node.location
        if node.scalar != nil {
            if let id = reader.string(node, "benchmark.sink") { sink.id = id }
        } else if let entries = reader.entries(node, "benchmark.sink", Schema.sink, what: "sink settings") {
            if let id = reader.string(entries["id"]?.value, "benchmark.sink.id") {
                sink.id = id
            } else {
                reader.error(node, "benchmark.sink.id", "missing sink plugin id (e.g. id: file)")
            }
            if let config = entries["config"] {
                if config.value.mapping != nil || config.value.isNull {
                    sink.config = config.value.isNull ? .object([]) : reader.json(config.value, "benchmark.sink.config")
                } else {
                    reader.error(config.value, "benchmark.sink.config", "expected a mapping of plugin settings, found \(NodeReader.kindName(config.value))")
                }
            }
        }
        if sink.id == "influx", database == nil, sink.config.objectValue?.isEmpty != false {
            reader.error(node, "benchmark.sink", "the influx sink needs a database: add benchmark.data.db (host, name, org, password)")
        }
        if sink.id != "influx", database != nil {
            reader.log.warning(file, node.location, "benchmark.sink", "benchmark.data.db is configured but the sink is '\(sink.id)'; the database is not written to")
        }
        return sink
    }

    private mutating func readDocker(_ node: YAMLNode) -> RegistryAuth? {
        guard let entries = reader.entries(node, "benchmark.docker", Schema.docker, what: "docker settings") else { return nil }
        if entries["auth"] != nil, entries["registry"] != nil {
            reader.error(node, "benchmark.docker", "give either 'auth' (rdt4nn) or 'registry' (container-bench), not both")
        }
        if let auth = entries["auth"], let fields = reader.entries(auth.value, "benchmark.docker.auth", Schema.dockerAuth, what: "registry credentials") {
            let registry = reader.string(fields["registry"]?.value, "benchmark.docker.auth.registry")
            let user = reader.string(fields["username"]?.value, "benchmark.docker.auth.username") ?? ""
            let password = reader.string(fields["password"]?.value, "benchmark.docker.auth.password") ?? ""
            masker.add(password)
            guard !user.isEmpty, !password.isEmpty else {
                if !user.isEmpty || !password.isEmpty {
                    reader.error(auth.value, "benchmark.docker.auth", "registry credentials need both 'username' and 'password'")
                }
                return nil
            }
            if registry?.isEmpty ?? true {
                reader.warning(auth.value, "benchmark.docker.auth.registry", "no registry given: the credentials are sent only to Docker Hub (the original sent them with every pull)")
            }
            return RegistryAuth(registry: registry?.isEmpty == false ? registry : nil, username: user, password: Secret(password), matchesByPrefix: false)
        }
        if let registryEntry = entries["registry"],
            let fields = reader.entries(registryEntry.value, "benchmark.docker.registry", Schema.dockerRegistry, what: "registry credentials")
        {
            let host = reader.string(fields["host"]?.value, "benchmark.docker.registry.host") ?? environment["DOCKER_REGISTRY_HOST"] ?? ""
            let user = reader.string(fields["username"]?.value, "benchmark.docker.registry.username") ?? environment["DOCKER_REGISTRY_USERNAME"] ?? ""
            let password = reader.string(fields["password"]?.value, "benchmark.docker.registry.password") ?? environment["DOCKER_REGISTRY_PASSWORD"] ?? ""
            masker.add(password)
            if host.isEmpty && user.isEmpty && password.isEmpty { return nil }
            guard !host.isEmpty, !user.isEmpty, !password.isEmpty else {
                reader.error(registryEntry.value, "benchmark.docker.registry", "registry credentials need 'host', 'username' and 'password'")
                return nil
            }
            return RegistryAuth(registry: host, username: user, password: Secret(password), matchesByPrefix: true)
        }
        return nil
    }

    // MARK: Scheduler

    private mutating func readScheduler(_ node: YAMLNode) -> SchedulerSelection {
        let path = "benchmark.scheduler"
        var selection = SchedulerSelection.default(file: file)
        selection.location = node.location
        if node.scalar != nil {
            if let id = reader.string(node, path) { selection.id = id }
            return selection
        }
        guard let entries = reader.entries(node, path, Schema.scheduler, what: "scheduler settings") else { return selection }
        if let id = reader.string(entries["implementation"]?.value, "\(path).implementation") {
            if id.trimmingWhitespace().isEmpty {
                reader.error(entries["implementation"]!.value, "\(path).implementation", "empty scheduler name (omit the key for 'default')")
            } else {
                selection.id = id
            }
        }
        selection.rdt = reader.boolean(entries["rdt"]?.value, "\(path).rdt") ?? false
        if let level = entries["log_level"] { _ = readLogLevel(level.value, "\(path).log_level") }
        var config: [(key: String, value: JSONValue)] = []
        for (key, _) in Schema.scheduler {
            guard let entry = entries[key] else { continue }
            switch key {
            case "implementation", "rdt", "config": continue
            case "prober":
                if reader.entries(entry.value, "\(path).prober", Schema.prober, what: "prober settings") != nil {
                    selection.prober = reader.json(entry.value, "\(path).prober")
                }
            case "allocator":
                if reader.entries(entry.value, "\(path).allocator", Schema.allocator, what: "allocator settings") != nil {
                    selection.allocator = reader.json(entry.value, "\(path).allocator")
                }
            default:
                config.append((key, reader.json(entry.value, "\(path).\(key)")))
            }
        }
        if let block = entries["config"] {
            if block.value.mapping != nil {
                for member in reader.json(block.value, "\(path).config").objectValue ?? [] {
                    if config.contains(where: { $0.key == member.key }) {
                        reader.error(block.value, "\(path).config.\(member.key)", "'\(member.key)' is also set directly under benchmark.scheduler; give it once")
                    } else {
                        config.append(member)
                    }
                }
            } else if !block.value.isNull {
                reader.error(block.value, "\(path).config", "expected a mapping of scheduler plugin settings, found \(NodeReader.kindName(block.value))")
            }
        }
        selection.config = .object(config)
        return selection
    }

    // MARK: Collectors

    /// A native collector set: a list of ids, or a mapping id → true | false | {config}.
    mutating func readCollectorSet(_ node: YAMLNode, path: String) -> CollectorOverrides {
        var overrides = CollectorOverrides()
        if node.isNull { return overrides }
        if let items = node.sequence {
            var list: [PluginSelection] = []
            for (offset, item) in items.enumerated() {
                guard let id = reader.string(item, "\(path)[\(offset)]") else { continue }
                if checkPluginID(id, item, "\(path)[\(offset)]"), !list.contains(where: { $0.id == id }) {
                    list.append(PluginSelection(id: id, file: file, location: item.location, keyPath: "\(path)[\(offset)]"))
                }
            }
            overrides.replacement = list
            return overrides
        }
        if node.scalar != nil, let id = reader.string(node, path) {
            if checkPluginID(id, node, path) { overrides.replacement = [PluginSelection(id: id, file: file, location: node.location, keyPath: path)] }
            return overrides
        }
        guard let entries = node.mapping else {
            reader.error(node, path, "expected a list of collector ids or a mapping id: true | false | {settings}, found \(NodeReader.kindName(node))")
            return overrides
        }
        for entry in entries {
            guard let id = NodeReader.keyName(entry), checkPluginID(id, entry.key, path) else { continue }
            let keyPath = NodeReader.join(path, id)
            let value = entry.value
            if value.mapping != nil {
                overrides.changes.append((id, PluginSelection(id: id, config: reader.json(value, keyPath), file: file, location: value.location, keyPath: keyPath)))
            } else if value.isNull {
                overrides.changes.append((id, PluginSelection(id: id, file: file, location: entry.key.location, keyPath: keyPath)))
            } else if let enabled = reader.boolean(value, keyPath) {
                overrides.changes.append((id, enabled ? PluginSelection(id: id, file: file, location: value.location, keyPath: keyPath) : nil))
            }
        }
        return overrides
    }

    private mutating func checkPluginID(_ id: String, _ node: YAMLNode, _ path: String) -> Bool {
        let ok = !id.isEmpty && id.unicodeScalars.allSatisfy { $0.isASCIILetterOrDigit || "-_.".unicodeScalars.contains($0) }
        if !ok { reader.error(node, path, "'\(id)' is not a plugin id (letters, digits, '-', '_', '.')") }
        return ok
    }

    /// A container-bench `data:` block: `frequency` and `perf`/`docker`/`rdt` as bool or flag maps.
    mutating func readDataBlock(_ node: YAMLNode, path: String) -> CollectorOverrides {
        var overrides = CollectorOverrides()
        guard let entries = reader.entries(node, path, Schema.containerData, what: "sampling settings") else { return overrides }
        if let entry = entries["frequency"], let value = reader.integer(entry.value, "\(path).frequency", unit: "milliseconds") {
            if checkInterval(value, entry.value, "\(path).frequency") {
                overrides.intervalMs = value
                overrides.intervalLocation = entry.value.location
            }
        }
        for (key, id, flags) in [("perf", "perf", Schema.perfFlags), ("docker", "dockerstats", Schema.dockerFlags), ("rdt", "resctrl", Schema.rdtFlags)] {
            guard let entry = entries[key] else { continue }
            let keyPath = "\(path).\(key)"
            let value = entry.value
            if let mapping = value.mapping {
                var enabled: [String] = []
                for flagEntry in mapping {
                    guard let flag = NodeReader.keyName(flagEntry) else { continue }
                    guard flags.contains(flag) else {
                        reader.reportUnknownKey(flagEntry.key, key: flag, path: keyPath, candidates: flags)
                        continue
                    }
                    if reader.boolean(flagEntry.value, NodeReader.join(keyPath, flag)) ?? true { enabled.append(flag) }
                }
                // container-bench: any map, even an empty one, enables the collector.
                overrides.changes.append((id, PluginSelection(id: id, flags: enabled, file: file, location: value.location, keyPath: keyPath)))
            } else if value.isNull {
                continue
            } else if let on = reader.boolean(value, keyPath) {
                overrides.changes.append((id, on ? PluginSelection(id: id, file: file, location: value.location, keyPath: keyPath) : nil))
            }
        }
        return overrides
    }

    /// Applies per-container changes to an inherited collector set.
    func apply(_ overrides: CollectorOverrides, to inherited: [PluginSelection]) -> [PluginSelection] {
        var result = overrides.replacement ?? inherited
        for change in overrides.changes {
            if let selection = change.selection {
                if let existing = result.firstIndex(where: { $0.id == change.id }) {
                    result[existing] = selection
                } else {
                    result.append(selection)
                }
            } else {
                result.removeAll { $0.id == change.id }
            }
        }
        return result
    }

    // MARK: Containers

    private mutating func readContainer(
        key: String,
        entry: YAMLMappingEntry,
        globalCollectors: [PluginSelection],
        globalInterval: Int,
        topData: CollectorOverrides?
    ) -> ContainerPlan? {
        let node = entry.value
        guard node.mapping != nil else {
            reader.error(node, key, "container '\(key)' must be a mapping of settings with at least an 'image', found \(NodeReader.kindName(node))")
            return nil
        }
        guard let entries = reader.entries(node, key, Schema.container, what: "container settings") else { return nil }
        func path(_ sub: String) -> String { NodeReader.join(key, sub) }
        var container = Self.placeholder(collectors: [], file: file)
        container.key = key
        container.name = key
        container.index = -1
        container.location = entry.key.location
        for (name, value) in entries { container.keyLocations[name] = value.value.location }

        func conflict(_ a: String, _ b: String, _ what: String) -> Bool {
            guard let second = entries[b], entries[a] != nil else { return false }
            reader.error(second.key, path(b), "give either '\(a)' or '\(b)' for \(what), not both")
            return true
        }

        if let image = reader.string(entries["image"]?.value, path("image")), !image.trimmingWhitespace().isEmpty {
            container.image = image
        } else if entries["image"] == nil || entries["image"]?.value.scalar != nil {
            reader.log.error(file, entries["image"]?.value.location ?? entry.key.location, path("image"), "container '\(key)' needs an image")
        }
        if let name = reader.string(entries["name"]?.value, path("name")) {
            container.name = name
            container.keyLocations["name"] = entries["name"]!.value.location
        } else {
            container.keyLocations["name"] = entry.key.location
        }
        if let entry = entries["index"], let index = reader.integer(entry.value, path("index")) {
            if index < 0 {
                reader.error(entry.value, path("index"), "index must be 0 or more, found \(index)")
            } else {
                container.index = index
            }
        }

        // Timeline.
        _ = conflict("start", "start_t", "the start time")
        _ = conflict("stop", "stop_t", "the stop time")
        for startKey in ["start", "start_t"] {
            guard let entry = entries[startKey], let start = reader.integer(entry.value, path(startKey), unit: "seconds") else { continue }
            if start < 0 {
                reader.error(entry.value, path(startKey), "start must be 0 or more seconds, found \(start)")
            } else {
                container.startSeconds = start
            }
            container.keyLocations["start"] = entry.value.location
        }
        if let entry = entries["stop"], let stop = reader.integer(entry.value, path("stop"), unit: "seconds") {
            if stop == -1 {
                container.stopSeconds = nil
            } else if stop < 0 {
                reader.error(entry.value, path("stop"), "stop must be a number of seconds, or -1 to run until the end, found \(stop)")
            } else {
                container.stopSeconds = stop
            }
            container.keyLocations["stop"] = entry.value.location
        }
        if let entry = entries["stop_t"], let stop = reader.integer(entry.value, path("stop_t"), unit: "seconds") {
            if stop < 0 {
                reader.error(entry.value, path("stop_t"), "stop_t must be 0 or more seconds, found \(stop)")
            } else {
                container.stopSeconds = stop
            }
            container.keyLocations["stop"] = entry.value.location
        }
        if let entry = entries["expected_t"], let expected = reader.integer(entry.value, path("expected_t"), unit: "seconds") {
            if expected <= 0 {
                reader.error(entry.value, path("expected_t"), "expected_t must be a positive number of seconds, found \(expected)")
            } else {
                container.expectedSeconds = expected
            }
        }

        // Placement and limits.
        if !conflict("core", "cpus", "the cpus") {
            for cpuKey in ["core", "cpus"] {
                guard let entry = entries[cpuKey] else { continue }
                container.cpuset = readCPUSet(entry.value, path(cpuKey), what: "cpu")
                container.keyLocations["cpus"] = entry.value.location
                container.keyLocations["cpusKey"] = entry.key.location
                container.keyLocations[cpuKey == "core" ? "core" : "cpus"] = entry.value.location
            }
        }
        if let entry = entries["num_cores"], let cores = reader.integer(entry.value, path("num_cores")) {
            if cores < 1 {
                reader.error(entry.value, path("num_cores"), "num_cores must be 1 or more, found \(cores) (container-bench silently used 1)")
            } else {
                container.numCores = cores
                if let cpuset = container.cpuset, cpuset.count != cores {
                    reader.warning(entry.value, path("num_cores"), "num_cores \(cores) is ignored: the container is pinned to \(cpuset.count) cpu(s) by '\(entries["core"] != nil ? "core" : "cpus")' (\(cpuset))")
                }
            }
        }
        if let entry = entries["cpuset_mems"] { container.cpusetMems = readCPUSet(entry.value, path("cpuset_mems"), what: "memory node") }
        if let entry = entries["memory"] {
            let value = entry.value
            if let bytes = value.intValue {
                container.memoryBytes = bytes
            } else if let text = value.stringValue, let bytes = ByteSize.parse(text) {
                container.memoryBytes = bytes
            } else if !value.isNull {
                reader.error(value, path("memory"), "expected a size like 512m, 2g or a byte count, found \(NodeReader.kindName(value))")
            }
            if let bytes = container.memoryBytes, bytes < 6 << 20 {
                reader.error(value, path("memory"), "memory limit \(ByteSize.format(bytes)) is below Docker's minimum of 6 MiB")
                container.memoryBytes = nil
            }
        }

        // Environment, volumes, ports.
        if !conflict("env", "environment", "the environment") {
            for envKey in ["env", "environment"] {
                guard let entry = entries[envKey] else { continue }
                container.environment = readEnvironment(entry.value, path(envKey))
            }
        }
        if let entry = entries["volumes"], let volumes = reader.stringList(entry.value, path("volumes")) {
            for (offset, volume) in volumes.enumerated() {
                let parts = volume.split(separator: ":", omittingEmptySubsequences: false)
                if parts.count < 2 || parts.count > 3 || parts[0].isEmpty || !parts[1].hasPrefix("/") {
                    let at = entry.value.sequence?[offset] ?? entry.value
                    reader.error(at, "\(path("volumes"))[\(offset)]", "'\(volume)' is not a bind mount \"source:/container/path[:ro]\"")
                } else {
                    container.volumes.append(volume)
                }
            }
        }
        var portTexts: [(String, YAMLNode, String)] = []
        if let entry = entries["port"], let text = reader.string(entry.value, path("port")) { portTexts.append((text, entry.value, path("port"))) }
        if let entry = entries["ports"], let list = reader.stringList(entry.value, path("ports")) {
            for (offset, text) in list.enumerated() {
                portTexts.append((text, entry.value.sequence?[offset] ?? entry.value, "\(path("ports"))[\(offset)]"))
            }
        }
        for (text, node, keyPath) in portTexts where !text.isEmpty {
            switch PortMapping.parse(text) {
            case .success(let mapping): container.ports.append(mapping)
            case .failure(let problem): reader.error(node, keyPath, problem.message)
            }
        }

        // Behaviour and QoS.
        container.privileged = reader.boolean(entries["privileged"]?.value, path("privileged")) ?? false
        container.optional = reader.boolean(entries["optional"]?.value, path("optional")) ?? false
        container.critical = reader.boolean(entries["critical"]?.value, path("critical")) ?? false
        container.priority = reader.boolean(entries["priority"]?.value, path("priority")) ?? false
        if let command = reader.string(entries["command"]?.value, path("command")), !command.isEmpty { container.command = command }
        if let entry = entries["args"] {
            if entry.value.scalar != nil, let text = reader.string(entry.value, path("args")) {
                container.arguments = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            } else {
                container.arguments = reader.stringList(entry.value, path("args"))
            }
        }
        container.ipc = readIPC(entries["ipc"]?.value, path("ipc"))
        container.ipce = readIPCE(entries["ipce"]?.value, path("ipce"))

        // Sampling and collectors.
        var collectors = globalCollectors
        var interval = globalInterval
        var fromData = topData
        if let entry = entries["data"] { fromData = readDataBlock(entry.value, path: path("data")) }
        if let fromData {
            collectors = apply(fromData, to: collectors)
            if let value = fromData.intervalMs {
                interval = value
                container.keyLocations["interval"] = fromData.intervalLocation
            }
        }
        if let entry = entries["interval_ms"], let value = reader.integer(entry.value, path("interval_ms"), unit: "milliseconds") {
            if entries["data"].flatMap({ $0.value["frequency"] }) != nil {
                reader.error(entry.key, path("interval_ms"), "the sampling period is already set by data.frequency; give only one")
            } else if checkInterval(value, entry.value, path("interval_ms")) {
                interval = value
                container.keyLocations["interval"] = entry.value.location
            }
        }
        if let entry = entries["collectors"] {
            collectors = apply(readCollectorSet(entry.value, path: path("collectors")), to: collectors)
        }
        container.samplingIntervalMs = interval
        container.collectors = collectors
        return container
    }

    private mutating func readIPC(_ node: YAMLNode?, _ path: String) -> Double? {
        guard let node, let value = reader.number(node, path) else { return nil }
        guard value > 0 else {
            reader.error(node, path, "ipc target must be above 0, found \(value)")
            return nil
        }
        return value
    }

    /// IPC efficiency in percent; container-bench fractions (0 < x ≤ 1) are read as ×100 with a warning.
    mutating func readIPCE(_ node: YAMLNode?, _ path: String) -> Double? {
        guard let node, let value = reader.number(node, path) else { return nil }
        guard value > 0, value <= 100 else {
            reader.error(node, path, "ipce is a percentage above 0 and at most 100, found \(value)")
            return nil
        }
        if value <= 1 {
            let percent = value * 100
            let shown = percent == percent.rounded() ? String(Int(percent)) : String(percent)
            reader.warning(node, path, "ipce \(value) read as \(shown) % (container-bench's dynamic schedulers read values ≤ 1 as fractions); write \(shown) to silence this")
            return percent
        }
        return value
    }

    private mutating func readCPUSet(_ node: YAMLNode, _ path: String, what: String) -> CPUSet? {
        if node.isNull { return nil }
        if let value = node.intValue {
            guard value >= 0, let int = Int(exactly: value) else {
                reader.error(node, path, "\(what) number must be 0 or more, found \(value)")
                return nil
            }
            return CPUSet([int])
        }
        guard let text = node.stringValue ?? node.scalar?.text, node.scalar != nil else {
            reader.error(node, path, "expected a \(what) list like \"0-3,8\", found \(NodeReader.kindName(node))")
            return nil
        }
        do {
            return try CPUSet(parsing: text)
        } catch {
            reader.error(node, path, "\(error.message) (write a \(what) list like \"0-3,8\")")
            return nil
        }
    }

    private mutating func readEnvironment(_ node: YAMLNode, _ path: String) -> [EnvironmentVariable] {
        var result: [EnvironmentVariable] = []
        func add(_ name: String, _ value: String, _ at: YAMLNode) {
            guard !name.isEmpty, !name.contains("=") else {
                reader.error(at, path, "'\(name)' is not an environment variable name")
                return
            }
            let variable = EnvironmentVariable(name: name, value: value)
            if variable.isSecret { masker.add(value) }
            result.append(variable)
        }
        if node.isNull { return [] }
        if let items = node.sequence {
            for (offset, item) in items.enumerated() {
                guard let text = reader.string(item, "\(path)[\(offset)]") else { continue }
                guard let equals = text.firstIndex(of: "=") else {
                    reader.error(item, "\(path)[\(offset)]", "'\(text)' is not NAME=value")
                    continue
                }
                add(String(text[..<equals]), String(text[text.index(after: equals)...]), item)
            }
            return result
        }
        guard let entries = node.mapping else {
            reader.error(node, path, "expected a mapping NAME: value, found \(NodeReader.kindName(node))")
            return []
        }
        for entry in entries {
            guard let name = NodeReader.keyName(entry) else { continue }
            let keyPath = NodeReader.join(path, name)
            if entry.value.isNull {
                add(name, "", entry.key)
            } else if let scalar = entry.value.scalar {
                add(name, scalar.text, entry.key)
            } else {
                reader.error(entry.value, keyPath, "an environment value must be a string, found \(NodeReader.kindName(entry.value))")
            }
        }
        return result
    }

    // MARK: Indices

    /// Explicit `index:` values are honoured; the others get the lowest free index in file order
    /// (0…N−1 when no container gives one, container-bench's numbering).
    private mutating func assignIndices(_ plan: inout BenchmarkPlan) {
        var used = Set(plan.containers.map(\.index).filter { $0 >= 0 })
        var seen: [Int: String] = [:]
        for container in plan.containers where container.index >= 0 {
            if let first = seen[container.index] {
                reader.log.warning(
                    file, container.keyLocations["index"], NodeReader.join(container.key, "index"),
                    "index \(container.index) is also used by '\(first)'; their samples share container_index \(container.index)"
                )
            } else {
                seen[container.index] = container.key
            }
        }
        var next = 0
        for position in plan.containers.indices where plan.containers[position].index < 0 {
            while used.contains(next) { next += 1 }
            plan.containers[position].index = next
            used.insert(next)
        }
    }
}
