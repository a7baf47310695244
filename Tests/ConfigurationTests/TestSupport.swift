import Configuration
import Foundation
import Testing

/// Loads `yaml` as the file `t.yaml` on a pretend host with cpus 0-7 and memory node 0.
func load(
    _ yaml: String,
    environment: [String: String] = [:],
    lenient: Bool = false,
    hostIndependent: Bool = false,
    cpus: String = "0-7",
    baseDirectory: String = ".",
    file: String = "t.yaml"
) throws(ConfigErrors) -> LoadedConfig {
    let options = ConfigLoadOptions(
        lenient: lenient,
        hostIndependent: hostIndependent,
        environment: environment,
        onlineCPUs: try! CPUSet(parsing: cpus),
        onlineMemoryNodes: CPUSet([0])
    )
    return try ConfigLoader.load(text: yaml, file: file, baseDirectory: baseDirectory, options: options)
}

/// The error lines of a configuration that must fail (records an issue when it loads).
func errors(
    _ yaml: String,
    environment: [String: String] = [:],
    lenient: Bool = false,
    hostIndependent: Bool = false,
    cpus: String = "0-7",
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) -> [String] {
    do {
        let loaded = try load(yaml, environment: environment, lenient: lenient, hostIndependent: hostIndependent, cpus: cpus)
        Issue.record("expected errors, but the configuration loaded: \(loaded.summary)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// The repository root (Tests/ConfigurationTests/ is two levels below it).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A fresh temporary directory.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "rdt4nn-config-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A minimal valid benchmark header (native format) followed by `containers`.
func native(_ containers: String, benchmark: String = "") -> String {
    """
    benchmark:
      name: t
      max_t: 30
    \(benchmark)
    \(containers)
    """
}
