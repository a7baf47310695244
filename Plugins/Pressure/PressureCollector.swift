import PluginABI
import PluginKit
import RDT4NNPluginSDK

/// Host-wide pressure stall information (PSI) from `/proc/pressure/*`: the
/// share of each interval in which some (or all) runnable tasks were stalled
/// waiting for CPU, memory or I/O -- a direct busy-neighbour signal.
final class PressureCollector: Collector {
    static let metadata = PluginMetadata(
        id: "pressure",
        name: "Pressure stall information (PSI)",
        version: "1.0.0",
        summary: "Share of each interval in which tasks stalled on CPU, memory or I/O, from /proc/pressure.",
        features: ["linux", "psi"],
        configSchemaJSON: """
            {"type": "object", "properties": {
              "resources": {"type": "array", "items": {"type": "string"}, "default": ["cpu", "memory", "io"],
                            "description": "Which of cpu, memory, io to read."},
              "pressure_root": {"type": "string", "default": "/proc/pressure",
                                "description": "Directory with the PSI files (tests point it at a fixture tree)."}
            }}
            """,
        metricsSchemaJSON: """
            {"measurements": [{"name": "pressure", "tags": ["resource"], "fields": [
              {"name": "some_stall_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "share of the interval in which at least one task stalled"},
              {"name": "full_stall_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "share of the interval in which all non-idle tasks stalled (absent for cpu on older kernels)"},
              {"name": "some_avg10_percent", "type": "f64", "unit": "%", "kind": "gauge", "description": "kernel's 10 s running average"},
              {"name": "some_total_us", "type": "u64", "unit": "us", "kind": "counter", "description": "cumulative stall time"}
            ]}]}
            """
    )

    private static let knownResources = ["cpu", "memory", "io"]
    private let resources: [String]
    private let root: String
    private var previous: [String: PressureReading] = [:]

    init(context: PluginContext) throws(PluginError) {
        let configured = try Self.resourceList(from: context.configJSON)
        for resource in configured where !Self.knownResources.contains(resource) {
            throw .config("unknown resource '\(resource)' in 'resources'; expected cpu, memory or io")
        }
        guard !configured.isEmpty else { throw .config("'resources' is empty; name at least one of cpu, memory, io") }
        resources = configured
        root = try context.string("pressure_root") ?? "/proc/pressure"
    }

    func start(context: PluginContext) throws(PluginError) {
        previous = [:]
        for resource in resources {
            let path = "\(root)/\(resource)"
            guard let text = ProcFiles.read(path) else {
                throw .unsupported(
                    "cannot read \(path) (\(ProcFiles.lastErrorDescription())): the kernel has no PSI (CONFIG_PSI off or booted with psi=0)"
                )
            }
            guard let reading = PressureReading(parsing: text) else { throw .fatal("\(path): unexpected format") }
            previous[resource] = reading
        }
    }

    func collect(context: PluginContext, window: CollectWindow) throws(PluginError) {
        var samples: [PluginSample] = []
        let windowMicroseconds = Double(window.endMonotonicNs - window.startMonotonicNs) / 1000
        for resource in resources {
            let path = "\(root)/\(resource)"
            guard let text = ProcFiles.read(path), let reading = PressureReading(parsing: text) else {
                throw .retry("cannot read \(path): \(ProcFiles.lastErrorDescription())")
            }
            defer { previous[resource] = reading }
            var fields: [(key: String, value: PluginFieldValue)] = [
                ("some_avg10_percent", .float(reading.someAvg10)),
                ("some_total_us", .unsigned(reading.someTotal)),
            ]
            if let before = previous[resource], windowMicroseconds > 0 {
                if reading.someTotal >= before.someTotal {
                    fields.append(("some_stall_percent", .float(min(100, Double(reading.someTotal - before.someTotal) / windowMicroseconds * 100))))
                }
                if let full = reading.fullTotal, let fullBefore = before.fullTotal, full >= fullBefore {
                    fields.append(("full_stall_percent", .float(min(100, Double(full - fullBefore) / windowMicroseconds * 100))))
                }
            }
            samples.append(PluginSample(measurement: "pressure", tags: [("resource", resource)], fields: fields, timestampNanoseconds: window.timestampNs))
        }
        context.emit(samples)
    }

    /// Reads the `resources` array from the config JSON (the host validated
    /// its type; the scalar accessors do not cover lists).
    static func resourceList(from json: String) throws(PluginError) -> [String] {
        guard let config = try? JSONValue.parse(json), let list = config["resources"] else { return knownResources }
        guard let elements = list.arrayValue else { throw .config("'resources' must be a list of strings") }
        return try elements.map { element throws(PluginError) in
            guard let name = element.stringValue else { throw .config("'resources' must be a list of strings, found \(element.jsonText)") }
            return name
        }
    }
}

/// One PSI file: `some avg10=… avg60=… avg300=… total=…` and optionally `full …`.
struct PressureReading: Equatable {
    var someAvg10: Double
    var someTotal: UInt64
    var fullTotal: UInt64?

    init?(parsing text: String) {
        var some: (Double, UInt64)?
        var full: UInt64?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let kind = parts.first else { continue }
            var avg10: Double?
            var total: UInt64?
            for part in parts.dropFirst() {
                let pair = part.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                if pair[0] == "avg10" { avg10 = Double(pair[1]) }
                if pair[0] == "total" { total = UInt64(pair[1]) }
            }
            if kind == "some", let avg10, let total { some = (avg10, total) }
            if kind == "full", let total { full = total }
        }
        guard let some else { return nil }
        someAvg10 = some.0
        someTotal = some.1
        fullTotal = full
    }
}

/// The library's exports: one collector.
enum PressureLibrary {
    static let plugins: [ExportedPlugin] = [.collector(PressureCollector.self) { PressureCollector.exportedCreate($0, $1, $2) }]
    static let entry = PluginLibraryEntry(
        count: { UInt32(PressureLibrary.plugins.count) },
        descriptor: { PressureLibrary.plugins.descriptor(at: $0) }
    )
}

/// The only exported symbol of the library.
@_cdecl("rdt4nn_plugin_entry")
public func rdt4nn_plugin_entry() -> UnsafeRawPointer {
    PressureLibrary.entry.pointer
}
