import FoundationEssentials
import SystemSupport
import PluginABI
import YAML

/// Checks one plugin's configuration block against the plugin's declared schema and
/// returns its problems (empty when it fits).  The CLI builds these from loaded plugins
/// (`ConfigSchema.validate`); tests pass small closures.
public typealias PluginConfigValidator = @Sendable (JSONValue) -> [String]

/// How a configuration is loaded.
public struct ConfigLoadOptions: Sendable {
    /// Unknown keys are warnings instead of errors (`--lenient`).
    public var lenient: Bool
    /// Cpus and memory nodes missing on this host are warnings (`--host-independent`).
    public var hostIndependent: Bool
    /// The variables `${VAR}` expands to (the CLI passes the process environment).
    public var environment: [String: String]
    /// The host's online cpus; nil = read `/sys/devices/system/cpu/online`.
    public var onlineCPUs: CPUSet?
    /// The host's online memory nodes; nil = read `/sys/devices/system/node/online`.
    public var onlineMemoryNodes: CPUSet?
    /// When set, every plugin configuration block is checked with the validator of its plugin id.
    public var pluginValidators: [String: PluginConfigValidator]?

    /// Creates options; by default strict, for this host, with an empty environment.
    public init(
        lenient: Bool = false,
        hostIndependent: Bool = false,
        environment: [String: String] = [:],
        onlineCPUs: CPUSet? = nil,
        onlineMemoryNodes: CPUSet? = nil,
        pluginValidators: [String: PluginConfigValidator]? = nil
    ) {
        self.lenient = lenient
        self.hostIndependent = hostIndependent
        self.environment = environment
        self.onlineCPUs = onlineCPUs
        self.onlineMemoryNodes = onlineMemoryNodes
        self.pluginValidators = pluginValidators
    }
}

/// A configuration that loaded and validated.
public struct LoadedConfig: Sendable {
    /// The validated plan.
    public var plan: BenchmarkPlan
    /// Warnings (unset variables, lenient unknown keys, reinterpreted values), in file order.
    public var warnings: [ConfigWarning]
    /// The configuration as run: the text after `${VAR}` expansion with every secret
    /// replaced by `***` (for the results directory and metadata).
    public var maskedConfigText: String
    /// Secret values, for masking anything else printed about this run.
    var masker: SecretMasker

    /// The resolved plan as JSON, secrets masked (`rdt4nn validate --json`).
    public var planJSON: JSONValue { masker.mask(PlanJSON.json(plan)) }

    /// `text` with every secret of this configuration replaced by `***`.
    public func masked(_ text: String) -> String { masker.mask(text) }

    /// One line: `<file>: ok — format rdt4nn, 3 containers, 60 s, collectors perf+dockerstats, scheduler default, sink file`.
    public var summary: String { PlanJSON.summary(plan, warnings: warnings.count) }
}

/// Loads, expands, parses and validates benchmark configurations.
public enum ConfigLoader {
    /// Loads the configuration at `path`.
    /// - Throws: ``ConfigErrors`` with every error found (and the warnings).
    public static func load(path: String, options: ConfigLoadOptions = ConfigLoadOptions()) throws(ConfigErrors) -> LoadedConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file"
            throw ConfigErrors(errors: [ConfigError(file: path, location: nil, keyPath: "", message: reason)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(errors: [ConfigError(file: path, location: nil, keyPath: "", message: "the file is not UTF-8 text")])
        }
        let directory = PathString.deletingLastComponent(path)
        return try load(text: text, file: path, baseDirectory: directory.isEmpty ? "." : directory, options: options)
    }

    /// Loads configuration `text`; `file` names it in messages, `baseDirectory` resolves
    /// `plugins:` and `workloads.input`.
    /// - Throws: ``ConfigErrors`` with every error found (and the warnings).
    public static func load(
        text: String,
        file: String,
        baseDirectory: String,
        options: ConfigLoadOptions = ConfigLoadOptions()
    ) throws(ConfigErrors) -> LoadedConfig {
        // 1. Which format: decided on the text as written (only `$VAR` expansion depends on it).
        let preliminary = try? YAMLReader.parse(text, file: file)
        let format = FormatDetector.format(of: FormatDetector.families(preliminary ?? nil))
        let expander = EnvironmentExpander(environment: options.environment, bareDollar: format == .rdt4nn)
        let expanded = expander.expand(text)

        var log = DiagnosticLog()
        // Expansion diagnostics are located in the text as written already.
        var expansionLog = DiagnosticLog()
        expanded.report(file: file, to: &expansionLog)

        // 2. Parse the expanded text.
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(expanded.text, file: file)
        } catch {
            log.error(file, expanded.originalLocation(of: error.location), "", error.message)
            log.warnings += expansionLog.warnings
            let sorted = log.sorted(primary: file)
            throw ConfigErrors(errors: sorted.errors, warnings: sorted.warnings)
        }

        // 3. Read the plan.
        var reader = PlanReader(
            reader: NodeReader(file: file, lenient: options.lenient),
            baseDirectory: baseDirectory,
            environment: options.environment,
            format: format,
            expander: EnvironmentExpander(environment: options.environment, bareDollar: false)
        )
        let plan = reader.read(root: root)
        log.errors += reader.reader.log.errors
        log.warnings += reader.reader.log.warnings

        // 4. Whole-plan rules.
        var result = plan
        if var checked = plan {
            checked.formats = reader.reader.families
            checked.format = FormatDetector.format(of: reader.reader.families)
            let benchmarkEntry = root?.entry(forKey: "benchmark")
            let validator = PlanValidator(
                online: options.onlineCPUs ?? HostTopology.onlineCPUs(),
                onlineNodes: options.onlineMemoryNodes ?? HostTopology.onlineMemoryNodes(),
                hostIndependent: options.hostIndependent
            )
            validator.validate(
                &checked, log: &log,
                maxTLocation: benchmarkEntry?.value["max_t"]?.location,
                benchmarkLocation: benchmarkEntry?.key.location
            )
            result = checked
        }

        // 5. Point every message at the text as written.
        let texts = reader.importedTexts.merging([file: expanded]) { $1 }
        func original(_ file: String, _ location: SourceLocation?) -> SourceLocation? {
            guard let location, let text = texts[file] else { return location }
            return text.originalLocation(of: location)
        }
        log.errors = log.errors.map { var e = $0; e.location = original(e.file, e.location); return e }
        log.warnings = log.warnings.map { var w = $0; w.location = original(w.file, w.location); return w }
        if var translated = result {
            translated.translateLocations(original)
            result = translated
        }
        log.warnings += expansionLog.warnings + reader.expansionLog.warnings

        // 6. Plugin configuration blocks, when plugins are known.
        if let validators = options.pluginValidators, let plan = result {
            let checked = checkPluginConfigs(plan, validators: validators)
            log.errors += checked.errors
            log.warnings += checked.warnings
        }

        let sorted = log.sorted(primary: file)
        guard sorted.errors.isEmpty, let plan = result else {
            throw ConfigErrors(errors: sorted.errors, warnings: sorted.warnings)
        }
        var masker = reader.masker
        let maskedText = ConfigTextMasker.mask(text: expanded.text, root: root, masker: &masker)
        return LoadedConfig(plan: plan, warnings: sorted.warnings, maskedConfigText: maskedText, masker: masker)
    }

    /// Checks every plugin configuration block (collectors, scheduler, sink) with the validator
    /// of its plugin.  A plugin without a validator (not loaded) is a warning: the run reports
    /// "plugin not found" when it starts, so `validate` can still check the rest.
    public static func checkPluginConfigs(
        _ plan: BenchmarkPlan,
        validators: [String: PluginConfigValidator]
    ) -> (errors: [ConfigError], warnings: [ConfigWarning]) {
        var errors: [ConfigError] = []
        var warnings: [ConfigWarning] = []
        var checked = Set<String>()
        var missingReported = Set<String>()
        func check(_ kind: String, id: String, config: JSONValue, file: String, location: SourceLocation?, keyPath: String) {
            guard let validator = validators[id] else {
                if missingReported.insert(id).inserted {
                    warnings.append(ConfigWarning(file: file, location: location, keyPath: keyPath, message: "\(kind) plugin not found: \(id) (not among the loaded plugins; the run will stop with this error unless it is installed)"))
                }
                return
            }
            guard checked.insert("\(id)|\(keyPath)").inserted else { return }
            for problem in validator(config) {
                errors.append(ConfigError(file: file, location: location, keyPath: keyPath, message: "plugin '\(id)': \(problem)"))
            }
        }
        for container in plan.containers {
            for collector in container.collectors {
                check("collector", id: collector.id, config: collector.config, file: collector.file.isEmpty ? plan.file : collector.file, location: collector.location, keyPath: collector.keyPath)
            }
        }
        check("scheduler", id: plan.scheduler.id, config: plan.scheduler.config, file: plan.file, location: plan.scheduler.location, keyPath: "benchmark.scheduler")
        check("sink", id: plan.sink.id, config: plan.sink.config, file: plan.file, location: plan.sink.location, keyPath: "benchmark.sink")
        return (errors, warnings)
    }

    /// Checks that every image of the plan is present, with `isPresent` answering for one
    /// image reference (the CLI asks Docker; tests pass a set).  One error per missing image,
    /// at the first container using it.
    public static func checkImages(_ plan: BenchmarkPlan, isPresent: (String) -> Bool) -> [ConfigError] {
        var seen = Set<String>()
        var errors: [ConfigError] = []
        for container in plan.containers where seen.insert(container.image).inserted {
            if !isPresent(container.image) {
                errors.append(
                    ConfigError(
                        file: container.file, location: container.keyLocations["image"] ?? container.location,
                        keyPath: NodeReader.join(container.key, "image"),
                        message: "image '\(container.image)' is not present on this Docker host (pull it first)"
                    )
                )
            }
        }
        return errors
    }
}

/// Decides the format from the key families a file uses.
enum FormatDetector {
    static func format(of families: Set<ConfigFormat>) -> ConfigFormat {
        if families.contains(.native) { return .native }
        let rdt = families.contains(.rdt4nn), cb = families.contains(.containerBench)
        if rdt && !cb { return .rdt4nn }
        if cb && !rdt { return .containerBench }
        return .native
    }

    /// The families of the keys in `root`, without reporting anything.
    static func families(_ root: YAMLNode?) -> Set<ConfigFormat> {
        var found = Set<ConfigFormat>()
        guard let entries = root?.mapping else { return found }
        func note(_ node: YAMLNode?, _ table: KeyTable) {
            for entry in node?.mapping ?? [] {
                if let key = NodeReader.keyName(entry), let family = table.first(where: { $0.key == key })?.family.format {
                    found.insert(family)
                }
            }
        }
        for entry in entries {
            guard let key = NodeReader.keyName(entry) else { continue }
            switch key {
            case "benchmark":
                let benchmark = entry.value
                note(benchmark, Schema.benchmark)
                note(benchmark["data"], Schema.benchmarkData)
                note(benchmark["docker"], Schema.docker)
                note(benchmark["data"]?["db"], Schema.database)
                note(benchmark["scheduler"], Schema.scheduler)
            case "arrival", "data", "workloads":
                found.insert(.containerBench)
            default:
                note(entry.value, Schema.container)
            }
        }
        return found
    }
}

extension BenchmarkPlan {
    /// Maps every stored location through `map` (expanded text → text as written).
    mutating func translateLocations(_ map: (String, SourceLocation?) -> SourceLocation?) {
        scheduler.location = map(file, scheduler.location)
        sink.location = map(file, sink.location)
        for index in containers.indices {
            let containerFile = containers[index].file
            containers[index].location = map(containerFile, containers[index].location)
            containers[index].keyLocations = containers[index].keyLocations.compactMapValues { map(containerFile, $0) }
            for collector in containers[index].collectors.indices {
                let selection = containers[index].collectors[collector]
                containers[index].collectors[collector].location = map(selection.file, selection.location)
            }
        }
        if var trace {
            for index in trace.templates.indices {
                trace.templates[index].location = map(trace.templates[index].file, trace.templates[index].location)
            }
            self.trace = trace
        }
    }
}
