// influx-write-bench: end-to-end write throughput of the influx sink plugin
// (loaded from its .so through the host's SinkInstance, as a run uses it) to
// an influxd, next to `curl --data-binary` sending the same batches already
// encoded (and gzip'd), in the same run. Run it with bench/influx_write.sh.
//
// Usage: influx-write-bench --url URL --plugin librdt4nn-sink-influx.so
//                           [--points N] [--batch N] [--rounds N] [--no-gzip]
import Foundation
import Gzip
import HTTPClient
import LineProtocol
import PluginABI
import PluginHost

struct Options {
    var url = ""
    var plugin = ""
    var points = 250_000
    var batch = 5_000
    var rounds = 5
    var gzip = true

    init(_ arguments: [String]) {
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else { fail("missing value after \(arguments[index - 1])") }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--url": url = value()
            case "--plugin": plugin = value()
            case "--points": points = Int(value()) ?? points
            case "--batch": batch = Int(value()) ?? batch
            case "--rounds": rounds = Int(value()) ?? rounds
            case "--no-gzip": gzip = false
            default: fail("unknown argument \(arguments[index])")
            }
            index += 1
        }
        if url.isEmpty || plugin.isEmpty { fail("usage: influx-write-bench --url URL --plugin PATH [--points N] [--batch N] [--rounds N] [--no-gzip]") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("influx-write-bench: " + message + "\n").utf8))
    exit(1)
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

let options = Options(Array(CommandLine.arguments.dropFirst()))

// rdt4nn's perf point: 5 tags (8 containers), 8 fields, distinct ns timestamps.
let base: Int64 = 1_732_874_400_000_000_000
let samples: [PluginSample] = (0..<options.points).map { index in
    let container = index % 8
    return PluginSample(
        measurement: "perf",
        tags: [("benchmark_id", "bench"), ("collector", "perf"), ("container_id", String(format: "%012x", 0x3f2a9c1b7d00 + container)),
               ("container_index", String(container)), ("container_name", "victim-\(container)")],
        fields: [("instructions", .integer(Int64(index) * 1_234_567)), ("cycles", .integer(Int64(index) * 987_654)),
                 ("instructions_enabled_ns", .integer(1_000_000_000)), ("instructions_running_ns", .integer(500_000_000)),
                 ("ipc", .float(1.25 + Double(index % 100) / 100)), ("cache_miss_rate", .float(Double(index % 1_000) / 1_000)),
                 ("multiplexed", .boolean(index % 2 == 0)), ("state", .string("running"))],
        timestampNanoseconds: base + Int64(index / 8) * 50_000_000 + Int64(container))
}
let batches: [ArraySlice<PluginSample>] = stride(from: 0, to: samples.count, by: options.batch).map {
    samples[$0..<min($0 + options.batch, samples.count)]
}

// The same batches pre-encoded for curl (gzip at the plugin's level, 1).
let directory = NSTemporaryDirectory() + "influx-write-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }
var encoder = LineProtocolEncoder()
var rawBytes = 0
var sentBytes = 0
var batchFiles: [String] = []
/// The encoded bodies before compression (to time compressing them, see `compressSeconds`).
var rawBodies: [[UInt8]] = []
for (number, batch) in batches.enumerated() {
    var body: [UInt8] = []
    for sample in batch {
        try encoder.append(
            Point(measurement: sample.measurement, tags: sample.tags.map { Tag($0.key, $0.value) },
                  fields: sample.fields.map { field in
                      switch field.value {
                      case .float(let d): Field(field.key, .float(d))
                      case .integer(let i): Field(field.key, .integer(i))
                      case .unsigned(let u): Field(field.key, .unsigned(u))
                      case .boolean(let b): Field(field.key, .boolean(b))
                      case .string(let s): Field(field.key, .string(s))
                      }
                  },
                  timestampNanoseconds: sample.timestampNanoseconds),
            to: &body)
    }
    rawBytes += body.count
    rawBodies.append(body)
    if options.gzip { body = try Gzip.compress(body, level: 1) }
    sentBytes += body.count
    let path = directory + "/batch-\(number)"
    try Data(body).write(to: URL(fileURLWithPath: path))
    batchFiles.append(path)
}

let client = try HTTPClient(transport: .tcp(baseURL: options.url), timeouts: HTTPTimeouts(connect: .seconds(5), total: .seconds(120)))
@MainActor func influxQL(_ statement: String, database: String? = nil, post: Bool = false) throws -> JSONValue {
    var path = "/query?q=" + (statement.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    if let database { path += "&db=" + database }
    let response = try client.send(HTTPRequest(method: post ? .post : .get, path: path, body: post ? [] : nil))
    guard response.status == 200 else { fail("\(statement): HTTP \(response.status) \(response.bodyText)") }
    return try JSONValue.parse(response.bodyText)
}
@MainActor func count(_ database: String) throws -> Int {
    let json = try influxQL("SELECT COUNT(\"instructions\") FROM perf", database: database)
    let value = json["results"]?.arrayValue?.first?["series"]?.arrayValue?.first?["values"]?.arrayValue?.first?.arrayValue?[1]
    return Int(value?.doubleValue ?? 0)
}

/// Writes every batch through the plugin; returns seconds.
@MainActor func runPlugin(database: String) throws -> Double {
    guard let descriptor = PluginLoader().load(files: [options.plugin]).plugin(id: "influx") else { fail("no influx plugin in \(options.plugin)") }
    let sink = try SinkInstance(
        descriptor: descriptor, instanceName: "influx",
        config: .object([("url", .string(options.url)), ("database", .string(database)), ("gzip", .bool(options.gzip))]),
        log: { _ in })
    defer { sink.destroy() }
    try sink.start()  // creates the database (outside the timed part, like curl's)
    let batchArrays = batches.map(Array.init)
    let started = now()
    for batch in batchArrays {
        let outcome = try sink.write(batch)
        guard outcome.status == .ok, outcome.processedCount == batch.count, outcome.rejectedIndices.isEmpty else {
            fail("plugin write: \(outcome)")
        }
    }
    return now() - started
}

/// Sends the pre-encoded batches with one curl process (keep-alive, one request after the other); returns seconds.
@MainActor func runCurl(database: String) throws -> Double {
    _ = try influxQL("CREATE DATABASE \(database)", post: true)
    var config = ""
    for (number, file) in batchFiles.enumerated() {
        if number > 0 { config += "next\n" }
        config += "url = \"\(options.url)/write?db=\(database)&precision=ns\"\n"
        config += "data-binary = \"@\(file)\"\n"
        config += "header = \"Content-Type: text/plain; charset=utf-8\"\n"
        if options.gzip { config += "header = \"Content-Encoding: gzip\"\n" }
        config += "output = \"/dev/null\"\nwrite-out = \"%{http_code}\\\\n\"\nsilent\n"
    }
    let configPath = directory + "/curl-\(database).conf"
    try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["--config", configPath]
    let output = Pipe()
    process.standardOutput = output
    let started = now()
    try process.run()
    let codes = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let seconds = now() - started
    let statuses = codes.split(separator: "\n")
    guard process.terminationStatus == 0, statuses.count == batchFiles.count, statuses.allSatisfy({ $0 == "204" }) else {
        fail("curl: exit \(process.terminationStatus), statuses \(Set(statuses))")
    }
    return seconds
}

/// Seconds to gzip every raw body at the plugin's level (1), one after the
/// other in this thread: the compression work curl is spared when handed
/// pre-compressed files. Added to curl's time for the "curl+gzip" column.
@MainActor func compressSeconds() throws -> Double {
    let started = now()
    var total = 0
    for body in rawBodies { total += try Gzip.compress(body, level: 1).count }
    precondition(total == sentBytes)
    return now() - started
}

print("InfluxDB write throughput: \(options.points) points in \(batches.count) batches of \(options.batch), gzip \(options.gzip ? "on (level 1)" : "off")")
print("point: perf, 5 tags, 8 fields; \(rawBytes / options.points) bytes/line; \(sentBytes / batches.count) bytes/request sent")
print(options.gzip
    ? "round  plugin pts/s  curl pts/s  ratio  curl+gzip pts/s  ratio vs curl+gzip"
    : "round  plugin pts/s  curl pts/s  ratio")
var pluginRates: [Double] = []
var curlRates: [Double] = []
var curlGzipRates: [Double] = []
for round in 1...options.rounds {
    // Alternate which goes first; each writes into a fresh database (same series work).
    var pluginSeconds = 0.0
    var curlSeconds = 0.0
    let pluginDB = "bench_plugin_\(round)"
    let curlDB = "bench_curl_\(round)"
    if round % 2 == 1 {
        pluginSeconds = try runPlugin(database: pluginDB)
        curlSeconds = try runCurl(database: curlDB)
    } else {
        curlSeconds = try runCurl(database: curlDB)
        pluginSeconds = try runPlugin(database: pluginDB)
    }
    for database in [pluginDB, curlDB] {
        let stored = try count(database)
        if stored != options.points { fail("\(database) holds \(stored) points, expected \(options.points)") }
    }
    let pluginRate = Double(options.points) / pluginSeconds
    let curlRate = Double(options.points) / curlSeconds
    pluginRates.append(pluginRate)
    curlRates.append(curlRate)
    if options.gzip {
        let curlGzipRate = Double(options.points) / (curlSeconds + (try compressSeconds()))
        curlGzipRates.append(curlGzipRate)
        print(String(format: "%5d  %12.0f  %10.0f  %5.3f  %15.0f  %18.3f", round, pluginRate, curlRate, pluginRate / curlRate,
                     curlGzipRate, pluginRate / curlGzipRate))
    } else {
        print(String(format: "%5d  %12.0f  %10.0f  %5.3f", round, pluginRate, curlRate, pluginRate / curlRate))
    }
    for database in [pluginDB, curlDB] { _ = try influxQL("DROP DATABASE \(database)", post: true) }
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
let ratios = zip(pluginRates, curlRates).map { $0 / $1 }
if options.gzip {
    let gzipRatios = zip(pluginRates, curlGzipRates).map { $0 / $1 }
    print(String(format: "median %12.0f  %10.0f  %5.3f  %15.0f  %18.3f", median(pluginRates), median(curlRates), median(ratios),
                 median(curlGzipRates), median(gzipRatios)))
    print("(ratios = medians of per-round ratios; counts verified exactly each round; curl+gzip = curl's time plus gzip -1 of the same bodies, timed separately)")
} else {
    print(String(format: "median %12.0f  %10.0f  %5.3f  (ratio = median of per-round ratios; counts verified exactly each round)",
                 median(pluginRates), median(curlRates), median(ratios)))
}
