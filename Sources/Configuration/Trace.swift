import FoundationEssentials
import Glibc
import YAML

/// A small deterministic generator (SplitMix64) for trace generation: the same seed gives
/// the same trace on every machine and every run.
struct TraceRandom: Sendable {
    private var state: UInt64

    init(seed: Int64) { state = UInt64(bitPattern: seed) }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal (Box–Muller, one value per call).
    mutating func normal() -> Double {
        var u1 = uniform()
        while u1 == 0 { u1 = uniform() }
        let u2 = uniform()
        return (-2 * Glibc.log(u1)).squareRoot() * Glibc.cos(2 * Double.pi * u2)
    }

    /// Uniform in 0..<count.
    mutating func index(_ count: Int) -> Int { Int(next() % UInt64(count)) }
}

extension PlanReader {
    /// The most jobs a trace may generate.
    static let maximumTraceJobs = 100_000

    // MARK: arrival:

    mutating func readArrival(_ node: YAMLNode) -> TraceSettings? {
        let path = "arrival"
        guard let entries = reader.entries(node, path, Schema.arrival, what: "arrival settings") else { return nil }
        var trace = TraceSettings(
            seed: 0, arrivalMean: 0, arrivalSigma: 0, lengthMean: 30, lengthSigma: 10, lengthMin: 1, lengthMax: 0,
            split: [], sensitivities: [], prioritySplit: [], templates: [], importedFiles: []
        )
        if let entry = entries["seed"], let seed = entry.value.intValue {
            trace.seed = seed
        } else if let entry = entries["seed"], !entry.value.isNull {
            reader.error(entry.value, "arrival.seed", "expected an integer seed, found \(NodeReader.kindName(entry.value))")
        }
        if let entry = entries["mean"], let mean = reader.number(entry.value, "arrival.mean") {
            if mean > 0 { trace.arrivalMean = mean } else { reader.error(entry.value, "arrival.mean", "mean inter-arrival time must be above 0 seconds, found \(mean)") }
        } else if entries["mean"] == nil {
            reader.error(node, "arrival.mean", "missing mean inter-arrival time (seconds)")
        }
        if let entry = entries["sigma"], let sigma = reader.number(entry.value, "arrival.sigma") {
            if sigma >= 0 { trace.arrivalSigma = sigma } else { reader.error(entry.value, "arrival.sigma", "sigma must be 0 or more, found \(sigma)") }
        }
        if let entry = entries["length"], let length = reader.entries(entry.value, "arrival.length", Schema.arrivalLength, what: "job length settings") {
            if let value = length["mean"], let mean = reader.number(value.value, "arrival.length.mean") {
                if mean > 0 { trace.lengthMean = mean } else { reader.error(value.value, "arrival.length.mean", "mean job length must be above 0 seconds, found \(mean)") }
            }
            if let value = length["sigma"], let sigma = reader.number(value.value, "arrival.length.sigma") {
                if sigma >= 0 { trace.lengthSigma = sigma } else { reader.error(value.value, "arrival.length.sigma", "sigma must be 0 or more, found \(sigma)") }
            }
            if let value = length["min"], let min = reader.number(value.value, "arrival.length.min") { trace.lengthMin = min }
            if let value = length["max"], let max = reader.number(value.value, "arrival.length.max") { trace.lengthMax = max }
            if trace.lengthMin > 0, trace.lengthMax > 0, trace.lengthMin > trace.lengthMax, let value = length["max"] {
                reader.error(value.value, "arrival.length.max", "max (\(trace.lengthMax)) is below min (\(trace.lengthMin))")
            }
        }
        if let entry = entries["split"] { trace.split = readWeights(entry.value, "arrival.split", allowed: nil) }
        if entries["sensitivities"] != nil, entries["sensetivities"] != nil {
            reader.error(entries["sensetivities"]!.key, "arrival.sensetivities", "give either 'sensitivities' or 'sensetivities', not both")
        }
        for key in ["sensitivities", "sensetivities"] {
            if let entry = entries[key] { trace.sensitivities = readWeights(entry.value, "arrival.\(key)", allowed: nil) }
        }
        if entries["priority_split"] != nil, entries["priorities"] != nil {
            reader.error(entries["priorities"]!.key, "arrival.priorities", "give either 'priority_split' or 'priorities', not both")
        }
        for key in ["priority_split", "priorities"] {
            if let entry = entries[key] { trace.prioritySplit = readWeights(entry.value, "arrival.\(key)", allowed: ["priority", "nonpriority"]) }
        }
        return trace
    }

    /// A weighted set `{random: bool, name: weight...}`; `random: true` or no weights = no constraint (empty).
    private mutating func readWeights(_ node: YAMLNode, _ path: String, allowed: [String]?) -> [(name: String, weight: Double)] {
        guard let entries = node.mapping else {
            if !node.isNull { reader.error(node, path, "expected a mapping name: weight (and optionally random: true), found \(NodeReader.kindName(node))") }
            return []
        }
        var random = false
        var weights: [(name: String, weight: Double)] = []
        for entry in entries {
            guard let name = NodeReader.keyName(entry) else { continue }
            let keyPath = NodeReader.join(path, name)
            if name == "random" {
                random = reader.boolean(entry.value, keyPath) ?? false
                continue
            }
            if let allowed, !allowed.contains(name) {
                reader.reportUnknownKey(entry.key, key: name, path: path, candidates: ["random"] + allowed)
                continue
            }
            guard let weight = reader.number(entry.value, keyPath) else { continue }
            guard weight >= 0 else {
                reader.error(entry.value, keyPath, "weight must be 0 or more, found \(weight)")
                continue
            }
            weights.append((name, weight))
        }
        if random || weights.reduce(0, { $0 + $1.weight }) == 0 { return [] }
        return weights.sorted { $0.name < $1.name }
    }

    // MARK: workloads:

    mutating func readWorkloads(_ node: YAMLNode, importedFiles: inout [String]) -> [WorkloadTemplate] {
        guard let entries = node.mapping else {
            reader.error(node, "workloads", "expected a mapping of workload templates, found \(NodeReader.kindName(node))")
            return []
        }
        var imported: [WorkloadTemplate] = []
        if let input = entries.first(where: { NodeReader.keyName($0) == "input" }) {
            for path in reader.stringList(input.value, "workloads.input") ?? [] {
                for importedFile in importFiles(path, at: input.value) {
                    importedFiles.append(importedFile)
                    for template in readImportedFile(importedFile) {
                        if let first = imported.first(where: { $0.name == template.name }) {
                            reader.log.error(
                                template.file, template.location, "workloads.\(template.name)",
                                "workload '\(template.name)' is also defined in \(first.file)"
                            )
                        } else {
                            imported.append(template)
                        }
                    }
                }
            }
        }
        var inline: [WorkloadTemplate] = []
        for entry in entries {
            guard let name = NodeReader.keyName(entry), name != "input" else { continue }
            if let template = readTemplate(name: name, entry.value) { inline.append(template) }
        }
        // Inline templates override imported ones of the same name.
        var result = imported.filter { template in !inline.contains { $0.name == template.name } }
        result += inline
        return result.sorted { $0.name < $1.name }
    }

    /// The files named by one `workloads.input` element: the file, or every `*.yml`/`*.yaml` under a directory.
    private mutating func importFiles(_ path: String, at node: YAMLNode) -> [String] {
        let resolved = Self.resolve(path, against: baseDirectory)
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            reader.error(node, "workloads.input", "'\(path)' does not exist (looked for \(resolved), relative to the configuration file)")
            return []
        }
        guard isDirectory else { return [resolved] }
        guard let subpaths = try? FileManager.default.subpathsOfDirectory(atPath: resolved) else {
            reader.error(node, "workloads.input", "cannot read directory \(resolved)")
            return []
        }
        var files: [String] = []
        for relative in subpaths {
            if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") { files.append(resolved + "/" + relative) }
        }
        if files.isEmpty { reader.warning(node, "workloads.input", "directory \(resolved) holds no *.yaml or *.yml files") }
        return files.sorted()
    }

    private mutating func readImportedFile(_ path: String) -> [WorkloadTemplate] {
        guard let data = FileManager.default.contents(atPath: path), let raw = String(data: data, encoding: .utf8) else {
            reader.log.error(path, nil, "", "cannot read workloads file (or it is not UTF-8)")
            return []
        }
        let expanded = expander.expand(raw)
        importedTexts[path] = expanded
        expanded.report(file: path, to: &expansionLog)
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(expanded.text, file: path)
        } catch {
            reader.log.error(path, error.location, "", error.message)
            return []
        }
        guard let root else { return [] }
        let savedFile = reader.file
        reader.file = path
        defer { reader.file = savedFile }
        var block = root
        if let entries = root.mapping, entries.count == 1, let only = entries.first, NodeReader.keyName(only) == "workloads" {
            block = only.value
        }
        guard let entries = block.mapping else {
            reader.error(block, "", "a workloads file holds a mapping of templates (or {workloads: {...}}), found \(NodeReader.kindName(block))")
            return []
        }
        var templates: [WorkloadTemplate] = []
        for entry in entries {
            guard let name = NodeReader.keyName(entry) else { continue }
            if name == "input" {
                reader.error(entry.key, "workloads.input", "imported workloads files cannot import further files")
                continue
            }
            if let template = readTemplate(name: name, entry.value) { templates.append(template) }
        }
        return templates
    }

    private mutating func readTemplate(name: String, _ node: YAMLNode) -> WorkloadTemplate? {
        let path = "workloads.\(name)"
        guard let entries = reader.entries(node, path, Schema.workloadTemplate, what: "workload settings") else { return nil }
        var template = WorkloadTemplate(
            name: name, image: "", command: nil, numCores: 1, critical: false, priority: false, ipc: nil, ipce: nil,
            kind: nil, sensitivity: nil, file: file, location: node.location
        )
        if let image = reader.string(entries["image"]?.value, "\(path).image"), !image.isEmpty {
            template.image = image
        } else {
            reader.error(entries["image"]?.value ?? node, "\(path).image", "workload '\(name)' needs an image")
        }
        if let command = reader.string(entries["command"]?.value, "\(path).command"), !command.isEmpty { template.command = command }
        if let entry = entries["num_cores"], let cores = reader.integer(entry.value, "\(path).num_cores") {
            if cores >= 1 { template.numCores = cores } else { reader.error(entry.value, "\(path).num_cores", "num_cores must be 1 or more, found \(cores)") }
        }
        template.critical = reader.boolean(entries["critical"]?.value, "\(path).critical") ?? false
        template.priority = reader.boolean(entries["priority"]?.value, "\(path).priority") ?? false
        if let entry = entries["ipc"], let ipc = reader.number(entry.value, "\(path).ipc") {
            if ipc > 0 { template.ipc = ipc } else { reader.error(entry.value, "\(path).ipc", "ipc target must be above 0, found \(ipc)") }
        }
        template.ipce = readIPCE(entries["ipce"]?.value, "\(path).ipce")
        template.kind = reader.string(entries["kind"]?.value, "\(path).kind")
        template.sensitivity = reader.string(entries["sensitivity"]?.value, "\(path).sensitivity")
        return template
    }

    // MARK: Generation

    /// Jobs drawn from the templates until `max_t`: inter-arrival and length from normal
    /// distributions (rounded, at least 1 s), kind / sensitivity / priority from the weighted
    /// sets, a template uniformly among those matching (constraints relaxed in the order
    /// sensitivity, kind, priority when none matches).
    mutating func generateJobs(
        _ trace: TraceSettings,
        plan: BenchmarkPlan,
        collectors: [PluginSelection],
        intervalMs: Int,
        at node: YAMLNode
    ) -> [ContainerPlan] {
        guard let horizon = plan.maxSeconds else {
            reader.error(node, "arrival", "trace mode needs benchmark.max_t > 0 (the arrival horizon); -1 is not allowed")
            return []
        }
        guard !trace.templates.isEmpty, trace.arrivalMean > 0 else {
            if trace.templates.isEmpty { reader.error(node, "workloads", "trace mode needs at least one workload template") }
            return []
        }
        var random = TraceRandom(seed: trace.seed)
        func pick(_ weights: [(name: String, weight: Double)]) -> String? {
            guard !weights.isEmpty else { return nil }
            let total = weights.reduce(0) { $0 + $1.weight }
            let r = random.uniform() * total
            var cumulative = 0.0
            for entry in weights {
                cumulative += entry.weight
                if cumulative >= r, entry.weight > 0 { return entry.name }
            }
            return weights.last { $0.weight > 0 }?.name
        }
        func draw(mean: Double, sigma: Double) -> Double { sigma > 0 ? mean + sigma * random.normal() : mean }

        var jobs: [ContainerPlan] = []
        var time = 0
        while time < horizon {
            guard jobs.count < Self.maximumTraceJobs else {
                reader.error(node, "arrival", "the trace would hold more than \(Self.maximumTraceJobs) jobs; raise arrival.mean or lower benchmark.max_t")
                return []
            }
            let kind = pick(trace.split)
            let sensitivity = pick(trace.sensitivities)
            let priority = pick(trace.prioritySplit).map { $0 == "priority" }
            var constraints: (kind: String?, sensitivity: String?, priority: Bool?) = (kind, sensitivity, priority)
            func matching() -> [WorkloadTemplate] {
                trace.templates.filter { template in
                    (constraints.kind == nil || template.kind == constraints.kind)
                        && (constraints.sensitivity == nil || template.sensitivity == constraints.sensitivity)
                        && (constraints.priority == nil || template.priority == constraints.priority)
                }
            }
            var candidates = matching()
            if candidates.isEmpty { constraints.sensitivity = nil; candidates = matching() }
            if candidates.isEmpty { constraints.kind = nil; candidates = matching() }
            if candidates.isEmpty { constraints.priority = nil; candidates = matching() }
            let template = candidates[random.index(candidates.count)]
            var length = draw(mean: trace.lengthMean, sigma: trace.lengthSigma)
            if trace.lengthMin > 0 { length = max(length, trace.lengthMin) }
            if trace.lengthMax > 0 { length = min(length, trace.lengthMax) }
            let seconds = max(1, Int(length.rounded()))
            var stop = time + seconds
            if !plan.drain { stop = min(stop, horizon) }
            let number = String(jobs.count + 1)
            let name = String(repeating: "0", count: max(0, 6 - number.count)) + number + "-job-" + template.name
            var job = Self.placeholder(collectors: collectors, file: file)
            job.key = name
            job.name = name
            job.index = -1
            job.image = template.image
            job.command = template.command
            job.numCores = template.numCores
            job.critical = template.critical
            job.priority = template.priority
            job.ipc = template.ipc
            job.ipce = template.ipce
            job.kind = template.kind
            job.sensitivity = template.sensitivity
            job.workload = template.name
            job.startSeconds = time
            job.stopSeconds = stop
            job.samplingIntervalMs = intervalMs
            job.location = node.location
            jobs.append(job)
            time += max(1, Int(draw(mean: trace.arrivalMean, sigma: trace.arrivalSigma).rounded()))
        }
        return jobs
    }
}
