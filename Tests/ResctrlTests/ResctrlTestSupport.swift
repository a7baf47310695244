import Foundation
import PluginABI
import PluginHost
import Resctrl
import ResctrlTestSupport
import Synchronization
import Testing
import TestKit

/// Helpers shared by the resctrl tests.
enum Support {
    /// The folder with the built products: the test bundle's own folder.
    static var productsDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }

    /// The resctrl plugin's descriptor, loaded from the built `.so` by the real loader.
    static func descriptor() throws -> PluginDescriptor {
        let path = productsDirectory + "/librdt4nn-resctrl.so"
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing: run swift build first")
        let report = PluginLoader().loadFile(path)
        try #require(report.refusals.isEmpty, "loader refused the plugin: \(report.refusals)")
        return try #require(report.plugins.first { $0.id == "resctrl" })
    }

    /// A fresh empty directory under the system temp dir.
    static func makeTemporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "rdt4nn-resctrl-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A fake tree of `profile` in a fresh directory.
    static func fakeTree(_ profile: FakeResctrlTree.Profile) throws -> FakeResctrlTree {
        try FakeResctrlTree(root: makeTemporaryDirectory() + "/resctrl", profile: profile)
    }

    /// Removes a fake tree and its temporary parent.
    static func remove(_ tree: FakeResctrlTree) {
        tree.destroy()
        rmdir((tree.root as NSString).deletingLastPathComponent)
    }

    /// Monotonic ns (the clock the library stamps reads with).
    static func monotonicNs() -> Int64 { HostClock.monotonicNanoseconds() }

    /// Sleeps `milliseconds`.
    static func sleep(milliseconds: Int) { usleep(UInt32(milliseconds) * 1000) }

    /// The thread ids of process `pid` (`/proc/<pid>/task`), sorted.
    static func threadIDs(of pid: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap { Int32($0) }.sorted()
    }

    /// Waits up to `seconds` for `condition`.
    static func wait(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicNs() + Int64(seconds * 1e9)
        while monotonicNs() < deadline {
            if condition() { return true }
            sleep(milliseconds: 5)
        }
        return condition()
    }

    /// Runs a program to completion and captures its output.
    static func run(_ executable: String, _ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(executable, arguments)
    }
}

/// What plugin instances in these tests emit and log.
typealias Recorder = SampleRecorder

/// A real multi-threaded process (compiled from C with `cc -pthread`) in a
/// cgroup of its own in the v1 `pids` hierarchy — a stand-in for a
/// container's cgroup.  Each SIGUSR1 makes it start two more threads.
final class ThreadedChild {
    let pid: Int32
    let cgroupDirectory: String
    private let process: Process

    static let source = """
        #include <pthread.h>
        #include <signal.h>
        #include <stdlib.h>
        #include <unistd.h>
        static void *idle(void *arg) { (void)arg; for (;;) pause(); return 0; }
        static void spawn(int n) { for (int i = 0; i < n; i++) { pthread_t t; pthread_create(&t, 0, idle, 0); } }
        int main(int argc, char **argv) {
            sigset_t set; sigemptyset(&set); sigaddset(&set, SIGUSR1);
            pthread_sigmask(SIG_BLOCK, &set, 0);
            spawn(argc > 1 ? atoi(argv[1]) : 3);
            for (;;) { int sig; if (sigwait(&set, &sig) == 0) spawn(2); }
        }
        """

    private let directory: String

    /// Compiles the program into a fresh directory (removed by ``stop()``),
    /// starts it with `threads` extra threads and moves it into a new pids cgroup.
    init(threads: Int = 3) throws {
        directory = try Support.makeTemporaryDirectory()
        let sourcePath = directory + "/threads.c"
        try Self.source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let binary = directory + "/threads"
        let result = try Support.run("/usr/bin/cc", ["-O1", "-pthread", "-o", binary, sourcePath])
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw TestFailure("cc failed: \(result.stderr)")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [String(threads)]
        try process.run()
        pid = process.processIdentifier
        cgroupDirectory = "/sys/fs/cgroup/pids/rdt4nn-resctrl-test-\(getpid())-\(pid)"
        do {
            try FileManager.default.createDirectory(atPath: cgroupDirectory, withIntermediateDirectories: false)
            try "\(pid)\n".write(toFile: cgroupDirectory + "/cgroup.procs", atomically: false, encoding: .utf8)
        } catch {
            stop()
            throw error
        }
        let expected = threads + 1
        guard Support.wait({ Support.threadIDs(of: self.pid).count == expected }) else {
            stop()
            throw TestFailure("the child did not start \(expected) threads")
        }
    }

    /// Asks for two more threads and waits until they exist.
    func addThreads() throws {
        let before = Support.threadIDs(of: pid).count
        kill(pid, SIGUSR1)
        guard Support.wait({ Support.threadIDs(of: self.pid).count == before + 2 }) else {
            throw TestFailure("the child did not start two more threads")
        }
    }

    /// Kills the child, removes its cgroup and the compiled program.
    func stop() {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        _ = Support.wait { rmdir(self.cgroupDirectory) == 0 || errno == ENOENT }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}

/// A failure with a message.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A tmpfs with a small inode budget, mounted at a temporary directory: the
/// file system itself refuses `mkdir` with ENOSPC when the inodes run out,
/// which is how a fake tree runs out of RMIDs.
final class TinyTmpfs {
    let mountPoint: String

    init(inodes: Int) throws {
        mountPoint = try Support.makeTemporaryDirectory()
        let result = try Support.run("/bin/mount", ["-t", "tmpfs", "-o", "nr_inodes=\(inodes),size=4m,mode=755", "tmpfs", mountPoint])
        guard result.status == 0 else {
            rmdir(mountPoint)
            throw TestFailure("mount tmpfs failed: \(result.stderr)")
        }
    }

    /// Free inodes now.
    var freeInodes: Int {
        var info = statvfs()
        statvfs(mountPoint, &info)
        return Int(info.f_ffree)
    }

    /// Uses up every free inode with empty files in `directory`.
    func exhaust(in directory: String) {
        var index = 0
        while true {
            let fd = open("\(directory)/filler-\(index)", O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd < 0 { break }
            close(fd)
            index += 1
        }
    }

    func unmount() {
        _ = try? Support.run("/bin/umount", [mountPoint])
        rmdir(mountPoint)
    }
}
