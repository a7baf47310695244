import Foundation
import PluginABI
import PluginHost
import Testing
import TestKit

/// Helpers shared by the influx sink tests.
enum TestSupport {
    /// The folder with the built products (`lib*.so`): the test bundle's own folder.
    static var productsDirectory: String { TestEnvironment.productsDirectory }

    /// The `influx` sink loaded from the built `librdt4nn-sink-influx.so`.
    static func influxDescriptor() throws -> PluginDescriptor {
        let path = productsDirectory + "/librdt4nn-sink-influx.so"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: build the rdt4nn-sink-influx product first")
        return try #require(PluginLoader().load(files: [path]).plugin(id: "influx"), "\(path) holds no 'influx' plugin")
    }

    /// A created (not started) sink instance with `config`.
    static func sink(_ config: [(String, JSONValue)], log: @escaping LogHandler = { _ in }) throws -> SinkInstance {
        try SinkInstance(descriptor: try influxDescriptor(), instanceName: "influx", config: .object(config), log: log)
    }

    /// A fresh directory under the system temp dir.
    static func makeTemporaryDirectory() throws -> String { try TestEnvironment.makeTemporaryDirectory(prefix: "rdt4nn-influx-test") }

    /// Samples as rdt4nn writes them: per-container tags, a `seq` integer field
    /// on every point (counted back), distinct timestamps.
    static func samples(_ range: Range<Int>, measurement: String = "perf", base: Int64 = 1_732_874_400_000_000_000) -> [PluginSample] {
        range.map { index in
            PluginSample(
                measurement: measurement,
                tags: [("benchmark_id", "t1"), ("collector", measurement), ("container_index", String(index % 4)),
                       ("container_name", "c \(index % 4), \"x\"")],
                fields: [("seq", .integer(Int64(index))), ("ipc", .float(Double(index) / 7)), ("state", .string("run \"\(index)\"")),
                         ("ok", .boolean(index % 2 == 0))],
                timestampNanoseconds: base + Int64(index) * 1_000)
        }
    }
}
