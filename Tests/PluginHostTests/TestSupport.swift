import Foundation
import Testing
import TestKit

/// Helpers shared by the plugin host tests.
enum TestSupport {
    /// The folder with the built products (`rdt4nn`, `lib*.so`).
    static var productsDirectory: String { TestEnvironment.productsDirectory }

    /// The package root (for plugin-sdk/ and fixtures).
    static var packageRoot: String { TestEnvironment.packageRoot }

    /// A fresh directory (mode 0755) under the system temp dir.
    static func makeTemporaryDirectory() throws -> String { try TestEnvironment.makeTemporaryDirectory() }

    /// Compiles the fixture plugin with `defines` into `directory/name`.
    @discardableResult
    static func compileFixture(_ defines: [String], into directory: String, name: String = "libfixture.so") throws -> String {
        try TestEnvironment.compileFixturePlugin(defines, into: directory, name: name)
    }

    /// Runs a program to completion and captures its output.
    static func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(executable, arguments, directory: directory)
    }

    /// Runs the built `rdt4nn` binary.
    static func rdt4nn(_ arguments: [String]) throws -> ProcessResult {
        let binary = productsDirectory + "/rdt4nn"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run swift build first")
        return try run(binary, arguments)
    }

    /// A built plugin product (`lib<name>.so`).
    static func product(_ name: String) throws -> String { try TestEnvironment.product(name) }
}
