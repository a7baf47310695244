import Foundation
import PluginABI
import PluginHost
import Synchronization
import Testing
import TestKit

/// Helpers for driving the built `librdt4nn-perf.so` through the real plugin host.
enum PerfTestSupport {
    /// The folder with the built products (`rdt4nn`, `lib*.so`): the test bundle's own folder.
    static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// The built perf plugin.
    static func pluginPath() throws -> String {
        let path = productsDirectory + "/librdt4nn-perf.so"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run swift build first")
        return path
    }

    /// The perf plugin's descriptor, loaded by the real loader.
    static func descriptor() throws -> PluginDescriptor {
        let report = PluginLoader().loadFile(try pluginPath())
        try #require(report.refusals.isEmpty, "loader refused the plugin: \(report.refusals)")
        return try #require(report.plugins.first { $0.id == "perf" })
    }

    /// Number of open perf event file descriptors (`anon_inode:[perf_event]`) of this process.
    static func perfDescriptorCount() -> Int {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == "anon_inode:[perf_event]" }.count
    }

    /// Starts `process` with no blocked signals (see ``ProcessRunner/launch(_:)``).
    static func launchWithSignalsUnblocked(_ process: Process) throws { try ProcessRunner.launch(process) }

    /// Runs a program to completion and captures its output.
    static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(executable, arguments)
    }

    /// Runs the docker CLI; throws with its stderr on failure.
    @discardableResult
    static func docker(_ arguments: [String]) throws -> String {
        let result = try run("/usr/bin/docker", arguments)
        try #require(result.status == 0, "docker \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether dockerd answers and the test image exists.
    static var dockerAvailable: Bool {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/docker"),
              let result = try? run("/usr/bin/docker", ["image", "inspect", "-f", "{{.Id}}", "rdt4nn/spin"])
        else { return false }
        return result.status == 0
    }

    /// Monotonic nanoseconds.
    static func monotonicNs() -> Int64 { HostClock.monotonicNanoseconds() }

    /// Sleeps `milliseconds`.
    static func sleep(milliseconds: Int) { usleep(UInt32(milliseconds) * 1000) }

    /// CPU time of process `pid` in ns from its POSIX CPU clock (precise:
    /// includes the running slice, unlike /proc/<pid>/schedstat).
    static func processCPUTimeNs(_ pid: Int32) throws -> Int64 {
        var clock = clockid_t()
        try #require(clock_getcpuclockid(pid, &clock) == 0, "clock_getcpuclockid(\(pid)) failed")
        var time = timespec()
        try #require(clock_gettime(clock, &time) == 0, "clock_gettime(cpu clock of \(pid)) failed: \(String(cString: strerror(errno)))")
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// utime + stime of `pid` from /proc/<pid>/stat, in ns (clock-tick resolution).
    static func procStatCPUTimeNs(_ pid: Int32) throws -> Int64 {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let afterName = try #require(text.range(of: ") ", options: .backwards)).upperBound
        let fields = text[afterName...].split(separator: " ")
        // Fields after "(comm) ": state is index 0, utime index 11, stime index 12.
        let utime = try #require(Int64(fields[11]))
        let stime = try #require(Int64(fields[12]))
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return (utime + stime) * 1_000_000_000 / ticks
    }

    /// The path of `pid`'s cgroup in the v1 hierarchy with `controller`, or nil.
    static func v1CgroupPath(of pid: Int32, controller: String) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, parts[1].split(separator: ",").contains(Substring(controller)) { return String(parts[2]) }
        }
        return nil
    }
}

/// What plugin instances in these tests emit and log.
typealias Recorder = SampleRecorder

/// A CPU-busy child process (`/bin/sh -c 'while :; do :; done'`), killed on deinit.
final class BusyChild {
    let process = Process()

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "while :; do :; done"]
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    deinit {
        // SIGKILL: a shell busy in a loop may have inherited an ignored SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A running test container, removed on deinit.
final class TestContainer {
    let name: String
    let id: String

    /// `docker run -d --network none` of `image` with `arguments`, pinned to `cpuset`.
    init(image: String = "rdt4nn/spin", cpuset: String, entrypoint: String? = nil, arguments: [String]) throws {
        name = "rdt4nn-perftest-" + UUID().uuidString.prefix(8).lowercased()
        var command = ["run", "-d", "--name", name, "--label", "rdt4nn.test=perf", "--network", "none", "--cpuset-cpus", cpuset]
        if let entrypoint { command += ["--entrypoint", entrypoint] }
        id = try PerfTestSupport.docker(command + [image] + arguments)
    }

    /// The container's main pid (0 when not running).
    func pid() throws -> Int32 {
        try #require(Int32(try PerfTestSupport.docker(["inspect", "-f", "{{.State.Pid}}", id])))
    }

    deinit {
        _ = try? PerfTestSupport.run("/usr/bin/docker", ["rm", "-f", id])
    }
}
