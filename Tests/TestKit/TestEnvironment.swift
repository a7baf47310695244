import Foundation
import Testing

/// Where the built products and the package are, and fresh directories:
/// what every test target that runs built plugins or the `rdt4nn` binary needs.
public enum TestEnvironment {
    /// The folder with the built products (`rdt4nn`, `lib*.so`): the test bundle's own folder.
    public static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// The package root (this file is Tests/TestKit/TestEnvironment.swift).
    public static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    /// A built plugin product, `lib<name>.so`; fails the test when it was not built.
    public static func product(_ name: String) throws -> String {
        let path = productsDirectory + "/lib\(name).so"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run swift build first")
        return path
    }

    /// A fresh directory (mode 0755) under the system temp dir.
    public static func makeTemporaryDirectory(prefix: String = "rdt4nn-test") throws -> String {
        let path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }

    /// Compiles the C test fixture plugin (Tests/PluginHostTests/Fixtures/fixture_plugin.c)
    /// with `defines` (`-DFIXTURE_...`, see the file's header) into `directory/name`, mode 0644.
    @discardableResult
    public static func compileFixturePlugin(_ defines: [String], into directory: String, name: String = "libfixture.so") throws -> String {
        let output = directory + "/" + name
        let result = try ProcessRunner.run(
            ProcessInfo.processInfo.environment["CC"] ?? "/usr/bin/cc",
            ["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread",
             "-I", packageRoot + "/plugin-sdk/include", "-o", output, packageRoot + "/Tests/PluginHostTests/Fixtures/fixture_plugin.c"] + defines
        )
        try #require(result.status == 0, "cc failed: \(result.stderr)")
        chmod(output, 0o644)
        return output
    }

    /// A plugins directory (mode 0755) holding copies of the named built products.
    public static func pluginsDirectory(_ products: [String]) throws -> String {
        let directory = try makeTemporaryDirectory(prefix: "rdt4nn-plugins")
        for name in products {
            try FileManager.default.copyItem(atPath: try product(name), toPath: directory + "/lib\(name).so")
        }
        return directory
    }
}
