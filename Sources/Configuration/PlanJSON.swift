import PluginABI

/// The plan as JSON and as a one-line summary.  Secrets print as `***`.
enum PlanJSON {
    static func json(_ plan: BenchmarkPlan) -> JSONValue {
        func opt(_ value: Int?) -> JSONValue { value.map { .integer(Int64($0)) } ?? .null }
        func opt(_ value: Int64?) -> JSONValue { value.map { .integer($0) } ?? .null }
        func opt(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }
        func opt(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
        func selection(_ selection: PluginSelection) -> JSONValue {
            var members: [(key: String, value: JSONValue)] = [("id", .string(selection.id)), ("config", selection.config)]
            if !selection.flags.isEmpty { members.append(("flags", .array(selection.flags.map { .string($0) }))) }
            return .object(members)
        }
        let database: JSONValue =
            plan.sink.database.map { db in
                .object([
                    ("host", .string(db.host)), ("name", .string(db.name)), ("user", opt(db.user)),
                    ("password", db.password == nil ? .null : .string(SecretKeys.mask)), ("org", opt(db.org)),
                    ("api_version", .integer(Int64(db.apiVersion.rawValue))),
                ])
            } ?? .null
        let registry: JSONValue =
            plan.registryAuth.map { auth in
                .object([
                    ("registry", opt(auth.registry)), ("username", .string(auth.username)), ("password", .string(SecretKeys.mask)),
                    ("match", .string(auth.matchesByPrefix ? "prefix" : "host")),
                ])
            } ?? .null
        let containers: [JSONValue] = plan.containers.map { c in
            var members: [(key: String, value: JSONValue)] = [
                ("key", .string(c.key)), ("name", .string(c.name)), ("index", .integer(Int64(c.index))), ("image", .string(c.image)),
                ("start_seconds", .integer(Int64(c.startSeconds))), ("stop_seconds", opt(c.stopSeconds)),
                ("expected_seconds", opt(c.expectedSeconds)), ("cpus", opt(c.cpuset?.description)), ("num_cores", opt(c.numCores)),
                ("cpuset_mems", opt(c.cpusetMems?.description)), ("memory_bytes", opt(c.memoryBytes)),
                ("environment", .object(c.environment.map { ($0.name, .string($0.isSecret ? SecretKeys.mask : $0.value)) })),
                ("volumes", .array(c.volumes.map { .string($0) })), ("ports", .array(c.ports.map { .string($0.description) })),
                ("privileged", .bool(c.privileged)),
                ("args", c.arguments.map { .array($0.map { .string($0) }) } ?? .null), ("command", opt(c.command)), ("critical", .bool(c.critical)),
                ("priority", .bool(c.priority)), ("ipc", opt(c.ipc)), ("ipce", opt(c.ipce)), ("optional", .bool(c.optional)),
                ("sampling_interval_ms", .integer(Int64(c.samplingIntervalMs))),
                ("collectors", .array(c.collectors.map(selection))),
            ]
            if let workload = c.workload {
                members += [("workload", .string(workload)), ("kind", opt(c.kind)), ("sensitivity", opt(c.sensitivity))]
            }
            return .object(members)
        }
        var members: [(key: String, value: JSONValue)] = [
            ("file", .string(plan.file)),
            ("format", .string(plan.format.rawValue)),
            ("formats_seen", .array(ConfigFormat.allCases.filter { plan.formats.contains($0) }.map { .string($0.rawValue) })),
            ("name", .string(plan.name)),
            ("description", opt(plan.description)),
            ("id_prefix", opt(plan.idPrefix)),
            ("max_seconds", opt(plan.maxSeconds)),
            ("drain", .bool(plan.drain)),
            ("log_level", opt(plan.logLevel?.rawValue)),
            ("sampling_interval_ms", .integer(Int64(plan.samplingIntervalMs))),
            ("pid_sync_interval_ms", .integer(Int64(plan.pidSyncIntervalMs))),
            ("allow_shared_cores", .bool(plan.allowSharedCores)),
            ("plugin_directories", .array(plan.pluginDirectories.map { .string($0) })),
            (
                "scheduler",
                .object([
                    ("id", .string(plan.scheduler.id)), ("rdt", .bool(plan.scheduler.rdt)), ("config", plan.scheduler.config),
                    ("prober", plan.scheduler.prober ?? .null), ("allocator", plan.scheduler.allocator ?? .null),
                ])
            ),
            ("sink", .object([("id", .string(plan.sink.id)), ("config", plan.sink.config), ("database", database)])),
            ("registry_auth", registry),
            ("collectors", .array(plan.collectorIDs.map { .string($0) })),
            ("containers", .array(containers)),
        ]
        if let trace = plan.trace {
            func weights(_ list: [(name: String, weight: Double)]) -> JSONValue { .object(list.map { ($0.name, .number($0.weight)) }) }
            members.append(
                (
                    "trace",
                    .object([
                        ("seed", .integer(trace.seed)), ("arrival_mean", .number(trace.arrivalMean)), ("arrival_sigma", .number(trace.arrivalSigma)),
                        ("length_mean", .number(trace.lengthMean)), ("length_sigma", .number(trace.lengthSigma)),
                        ("length_min", .number(trace.lengthMin)), ("length_max", .number(trace.lengthMax)),
                        ("split", weights(trace.split)), ("sensitivities", weights(trace.sensitivities)),
                        ("priority_split", weights(trace.prioritySplit)),
                        ("workloads", .array(trace.templates.map { .string($0.name) })),
                        ("imported_files", .array(trace.importedFiles.map { .string($0) })),
                    ])
                )
            )
        }
        return .object(members)
    }

    static func summary(_ plan: BenchmarkPlan, warnings: Int) -> String {
        var format = plan.format.rawValue
        let originals = [ConfigFormat.rdt4nn, .containerBench].filter { plan.formats.contains($0) }
        if plan.format == .native, !originals.isEmpty {
            format += " with \(originals.map(\.rawValue).joined(separator: " + ")) keys"
        }
        var containers = "\(plan.containers.count) container\(plan.containers.count == 1 ? "" : "s")"
        if let trace = plan.trace {
            containers += " (trace from \(trace.templates.count) workload\(trace.templates.count == 1 ? "" : "s"))"
        }
        var duration = plan.maxSeconds.map { "\($0) s" } ?? "until Ctrl-C"
        if plan.drain { duration += " + drain" }
        let collectors = plan.collectorIDs.isEmpty ? "none" : plan.collectorIDs.joined(separator: "+")
        var line = "\(plan.file): ok — format \(format), \(containers), \(duration), collectors \(collectors), scheduler \(plan.scheduler.id), sink \(plan.sink.id)"
        if warnings > 0 { line += " (\(warnings) warning\(warnings == 1 ? "" : "s"))" }
        return line
    }
}
