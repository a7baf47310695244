import ArgumentParsing
import FoundationEssentials
import PluginABI
import PluginHost
import SystemSupport

/// `rdt4nn plugins ...`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List, describe and check plugins.",
        subcommands: [PluginsListCommand.self, PluginsDescribeCommand.self, PluginsCheckCommand.self, PluginsCheckChildCommand.self]
    )

    init(arguments: ParsedArguments) {}
}

/// `rdt4nn plugins list`.
struct PluginsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Show every plugin file, the plugins it holds, and why any was refused.",
        arguments: [pluginsOption, .flag("json", help: "Print JSON instead of a table.")]
    )

    let directories: [String]
    let json: Bool

    init(arguments: ParsedArguments) {
        directories = pluginDirectories(arguments)
        json = arguments.flag("json")
    }

    func run() throws -> ExitCode {
        let catalog = try PluginLoader().load(directories: directories)
        if json {
            print(Self.json(catalog).prettyText)
            return .success
        }
        var rows: [[String]] = [["ID", "KIND", "VERSION", "FILE", "ABI", "STATUS"]]
        for file in catalog.files {
            let name = file.path
            for plugin in file.plugins {
                rows.append([plugin.id, plugin.kind.rawValue, plugin.version, name, plugin.abiVersion, "loaded"])
            }
            for refusal in file.refusals {
                rows.append([refusal.pluginID ?? "-", "-", "-", name, file.abiVersion ?? "-", "refused: \(refusal.reason)"])
            }
        }
        if rows.count == 1 {
            print("No plugin files (*.so) in \(directories.joined(separator: ", ")).")
            return .success
        }
        print(TextTable.render(rows))
        print("\(catalog.plugins.count) plugin(s) loaded, \(catalog.refusals.count) refused.")
        return .success
    }

    static func json(_ catalog: PluginCatalog) -> JSONValue {
        .array(
            catalog.files.map { file in
                .object([
                    ("file", .string(file.path)),
                    ("abi", file.abiVersion.map { .string($0) } ?? .null),
                    (
                        "plugins",
                        .array(file.plugins.map { .object([("id", .string($0.id)), ("kind", .string($0.kind.rawValue)), ("version", .string($0.version))]) })
                    ),
                    (
                        "refusals",
                        .array(file.refusals.map { .object([("plugin", $0.pluginID.map { .string($0) } ?? .null), ("reason", .string($0.reason.description))]) })
                    ),
                ])
            }
        )
    }
}

/// `rdt4nn plugins describe ID`.
struct PluginsDescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show a plugin's configuration schema and the metrics it emits.",
        arguments: [pluginsOption, .flag("json", help: "Print the raw schemas as JSON."), .positional("id", help: "The plugin id.")]
    )

    let directories: [String]
    let json: Bool
    let id: String

    init(arguments: ParsedArguments) {
        directories = pluginDirectories(arguments)
        json = arguments.flag("json")
        id = arguments.value("id") ?? ""
    }

    func run() throws -> ExitCode {
        let catalog = try PluginLoader().load(directories: directories)
        guard let plugin = catalog.plugin(id: id) else {
            try catalog.require([id])
            return .failure
        }
        if json {
            let config = plugin.configSchemaJSON.flatMap { try? JSONValue.parse($0) } ?? .null
            let metrics = plugin.metricsSchemaJSON.flatMap { try? JSONValue.parse($0) } ?? .null
            print(JSONValue.object([
                ("id", .string(plugin.id)), ("kind", .string(plugin.kind.rawValue)), ("name", .string(plugin.name)),
                ("version", .string(plugin.version)), ("description", .string(plugin.summary)), ("file", .string(plugin.path)),
                ("abi", .string(plugin.abiVersion)), ("features", .array(plugin.features.map { .string($0) })),
                ("config_schema", config), ("metrics_schema", metrics),
            ]).prettyText)
            return .success
        }
        var out = "\(plugin.name)\n"
        out += "  id:          \(plugin.id)\n  kind:        \(plugin.kind.rawValue)\(plugin.isPerContainer ? " (one instance per container)" : "")\n"
        out += "  version:     \(plugin.version)\n  file:        \(plugin.path)\n  ABI:         \(plugin.abiVersion) (SDK \(plugin.sdkVersion))\n"
        if let vendor = plugin.vendor { out += "  vendor:      \(vendor)\n" }
        if let license = plugin.license { out += "  license:     \(license)\n" }
        if !plugin.features.isEmpty { out += "  features:    \(plugin.features.joined(separator: ", "))\n" }
        out += "\n  \(plugin.summary)\n\nCONFIGURATION\n"
        if plugin.configSchema.properties.isEmpty {
            out += "  (none)\n"
        } else {
            var rows = [["KEY", "TYPE", "DEFAULT", "DESCRIPTION"]]
            for property in plugin.configSchema.properties {
                let type = property.itemType.map { "\(property.type) of \($0)" } ?? property.type
                let required = property.isRequired ? " (required)" : ""
                rows.append([property.name, type + required, property.defaultValue?.jsonText ?? "-", property.description])
            }
            out += TextTable.render(rows, indent: 2) + "\n"
        }
        if let metrics = plugin.metricsSchema {
            out += "\nMETRICS\n"
            var rows = [["MEASUREMENT", "FIELD", "TYPE", "UNIT", "KIND", "DESCRIPTION"]]
            for measurement in metrics.measurements {
                for field in measurement.fields {
                    rows.append([measurement.name, field.name, field.type, field.unit, field.kind, field.description])
                }
            }
            out += TextTable.render(rows, indent: 2) + "\n"
            let tagged = metrics.measurements.filter { !$0.tags.isEmpty }
            for measurement in tagged { out += "  tags of \(measurement.name): \(measurement.tags.joined(separator: ", "))\n" }
        }
        print(out, terminator: "")
        return .success
    }
}

/// `rdt4nn plugins check FILE.so`.
struct PluginsCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run a plugin file's whole life cycle in a child process and report contract violations.",
        discussion: """
            Every plugin in the file is created, started, exercised (collect x N, or a
            test write for sinks, or an admission for schedulers), stopped and
            destroyed in a separate process, so a crash or hang cannot hurt this one.
            Reported violations: crashes, hangs, non-OK statuses without set_error,
            emit or log after stop, samples that do not match the metrics schema,
            threads or file descriptors left behind.
            """,
        arguments: [
            .option("config", valueName: "file.json", help: "JSON object passed as every checked plugin's configuration."),
            .option("plugin", valueName: "id", help: "Check only this plugin of the file."),
            .option("collections", valueName: "n", help: "Number of collect calls per collector.", default: "5"),
            .option("interval-ms", valueName: "ms", help: "Pause between collections.", default: "100"),
            .option("timeout", valueName: "seconds", help: "Kill the check after this long.", default: "60"),
            .positional("file", help: "The plugin shared object."),
        ]
    )

    let options: PluginCheckOptions
    let configPath: String?

    init(arguments: ParsedArguments) throws(UsageError) {
        options = PluginCheckOptions(
            path: arguments.value("file") ?? "",
            pluginID: arguments.value("plugin"),
            collections: try arguments.integer("collections", in: 1...10_000, default: 5),
            intervalMilliseconds: try arguments.integer("interval-ms", in: 0...60_000, default: 100),
            timeoutSeconds: try arguments.integer("timeout", in: 1...3600, default: 60)
        )
        configPath = arguments.value("config")
    }

    func run() throws -> ExitCode {
        var child = ["plugins", "check-child", options.path,
                     "--collections", String(options.collections), "--interval-ms", String(options.intervalMilliseconds)]
        if let pluginID = options.pluginID { child += ["--plugin", pluginID] }
        if let configPath {
            // Read once here (the path may be a pipe) and hand the text over.
            child += ["--config-json", try loadConfigObject(configPath).jsonText]
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let report = PluginCheckReport.run(options: options, executable: executable, childArguments: child)
        print(report.text, terminator: "")
        return report.passed ? .success : .failure
    }
}

/// The hidden child side of `plugins check`: runs the life cycle in-process
/// and prints one JSON event per line.
struct PluginsCheckChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-child",
        abstract: "Internal: the child process of 'plugins check'.",
        arguments: PluginsCheckCommand.configuration.arguments + [
            .option("config-json", valueName: "json", help: "The configuration as JSON text.")
        ],
        isHidden: true
    )

    let options: PluginCheckOptions

    init(arguments: ParsedArguments) throws(UsageError) {
        let parent = try PluginsCheckCommand(arguments: arguments)
        var options = parent.options
        if let text = arguments.value("config-json") {
            do {
                options.config = try JSONValue.parse(text)
            } catch {
                throw UsageError("--config-json: \(error)")
            }
        }
        self.options = options
    }

    func run() throws -> ExitCode {
        PluginCheckRunner(options: options) { event in
            // Unbuffered: whatever was written survives a crash of the plugin.
            FileDescriptor.writeAll(1, (event.jsonLine + "\n").utf8)
        }.run()
        return .success
    }
}

/// A configuration file for `plugins check`: one JSON object.
struct ConfigFileError: Error, CustomStringConvertible {
    var description: String
}

func loadConfigObject(_ path: String) throws -> JSONValue {
    // Also reads pipes (`--config <(echo '{...}')`).
    guard let data = FileDescriptor.readFile(atPath: path) else {
        throw ConfigFileError(description: "cannot read \(path)")
    }
    let value: JSONValue
    do {
        value = try JSONValue.parse(String(decoding: data, as: UTF8.self))
    } catch {
        throw ConfigFileError(description: "\(path): \(error)")
    }
    guard value.objectValue != nil else { throw ConfigFileError(description: "\(path): expected a JSON object, found \(value.typeName)") }
    return value
}

/// Left-aligned text columns.
enum TextTable {
    static func render(_ rows: [[String]], indent: Int = 0) -> String {
        let columns = rows.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() where index < columns - 1 { widths[index] = max(widths[index], cell.count) }
        }
        let pad = String(repeating: " ", count: indent)
        return rows.map { row in
            pad + row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padded(toLength: widths[index])
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
