import Foundation
import Resctrl
import ResctrlTestSupport
import Testing

/// `rdt4nn cleanup` removes resctrl groups a crashed run left, by prefix.
struct CleanupCommandTests {
    @Test func cleanupRemovesTheRunsGroupsAndNothingElse() throws {
        let root = NSTemporaryDirectory() + "rdt4nn-cleanup-" + UUID().uuidString
        let tree = try FakeResctrlTree(root: root, profile: .intel2Socket)
        defer { tree.destroy() }
        let resctrl = try ResctrlFilesystem(root: root)
        let crashed = try resctrl.createControlGroup("rdt4nn-bench-1-victim")
        _ = try resctrl.createMonitorGroup("rdt4nn-bench-1-web-0123456789ab", in: .root)
        _ = try resctrl.createMonitorGroup("rdt4nn-bench-2-db-ba9876543210", in: .root)
        _ = try resctrl.createControlGroup("someone-elses")
        _ = try tree.kernelStep()
        _ = crashed

        let binary = (((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "") as NSString)
            .deletingLastPathComponent + "/rdt4nn"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["cleanup", "--benchmark", "bench-1", "--resctrl-root", root, "--docker-socket", "/nonexistent.sock"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // Docker is unreachable on purpose: that part fails, the resctrl part still runs.
        #expect(process.terminationStatus == 1)
        #expect(text.contains("removed resctrl group"), "\(text)")
        let remaining = try resctrl.leftoverGroups(prefix: "rdt4nn-").map { "\($0)" }
        #expect(remaining.count == 1, "\(remaining)")
        #expect(remaining.first?.contains("bench-2") == true)
        #expect(try resctrl.leftoverGroups(prefix: "someone-").count == 1)
    }
}
