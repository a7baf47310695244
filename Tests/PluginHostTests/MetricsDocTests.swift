import Foundation
import PluginHost
import Testing

/// docs/metrics.md is generated from the plugins' metrics schemas
/// (scripts/metrics-doc.py); this fails when a plugin declares a field the
/// page does not document, i.e. when the page must be regenerated.
struct MetricsDocTests {
    @Test func everyDeclaredFieldOfEveryBuiltInCollectorIsDocumented() throws {
        let doc = try String(contentsOfFile: TestSupport.packageRoot + "/docs/metrics.md", encoding: .utf8)
        let products = ["rdt4nn-procstat", "rdt4nn-pressure", "rdt4nn-dockerstats", "rdt4nn-perf", "rdt4nn-resctrl"]
        let files = products.map { TestSupport.productsDirectory + "/lib\($0).so" }.filter { FileManager.default.fileExists(atPath: $0) }
        #expect(files.count >= 4)
        var checked = 0
        for plugin in PluginLoader().load(files: files).plugins {
            #expect(doc.contains("## `\(plugin.id)`"), "plugin \(plugin.id) has no section: run scripts/metrics-doc.py")
            for measurement in plugin.metricsSchema?.measurements ?? [] {
                #expect(doc.contains("### measurement `\(measurement.name)`"), "\(plugin.id): measurement \(measurement.name) undocumented")
                for field in measurement.fields {
                    checked += 1
                    #expect(doc.contains("| `\(field.name)` | \(field.type) |"), "\(plugin.id): \(measurement.name).\(field.name) undocumented: run scripts/metrics-doc.py")
                }
            }
        }
        #expect(checked > 50)
    }
}
