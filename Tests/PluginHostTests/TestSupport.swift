import Foundation
import Synchronization
import Testing

/// Helpers shared by the plugin host tests.
enum TestSupport {
    /// The folder with the built products (`rdt4nn`, `lib*.so`): the test
    /// bundle's own folder.
    static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// The package root (for plugin-sdk/ and fixtures).
    static var packageRoot: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }

    static var sdkInclude: String { packageRoot + "/plugin-sdk/include" }
    static var fixtureSource: String { packageRoot + "/Tests/PluginHostTests/Fixtures/fixture_plugin.c" }

    /// A fresh directory (mode 0755) under the system temp dir.
    static func makeTemporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "rdt4nn-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }

    /// Compiles the fixture plugin with `defines` into `directory/name`.
    @discardableResult
    static func compileFixture(_ defines: [String], into directory: String, name: String = "libfixture.so") throws -> String {
        let output = directory + "/" + name
        let result = try run(
            ProcessInfo.processInfo.environment["CC"] ?? "/usr/bin/cc",
            ["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden", "-pthread",
             "-I", sdkInclude, "-o", output, fixtureSource] + defines
        )
        try #require(result.status == 0, "cc failed: \(result.stderr)")
        chmod(output, 0o644)
        return output
    }

    struct ProcessResult {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion and captures its output.
    static func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read standard error on its own thread so neither pipe fills up.
        let errorHandle = err.fileHandleForReading
        let errorBox = DataBox()
        let errorDone = DispatchSemaphore(value: 0)
        Thread {
            errorBox.set(errorHandle.readDataToEndOfFile())
            errorDone.signal()
        }.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorDone.wait()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errorBox.get(), as: UTF8.self)
        )
    }

    /// Runs the built `rdt4nn` binary.
    static func rdt4nn(_ arguments: [String]) throws -> ProcessResult {
        let binary = productsDirectory + "/rdt4nn"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run swift build first")
        return try run(binary, arguments)
    }

    /// A built plugin product (`lib<name>.so`).
    static func product(_ name: String) throws -> String {
        let path = productsDirectory + "/lib\(name).so"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run swift build first")
        return path
    }
}

/// A one-shot result slot filled by a reader thread.
private final class DataBox: Sendable {
    private let value = Mutex<Data>(Data())
    func set(_ data: Data) { value.withLock { $0 = data } }
    func get() -> Data { value.withLock { $0 } }
}
