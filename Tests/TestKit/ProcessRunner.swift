import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// What a finished program printed and returned.
public struct ProcessResult: Sendable {
    /// The exit status (or the signal number when it was killed).
    public var status: Int32
    /// Standard output.
    public var stdout: String
    /// Standard error.
    public var stderr: String
    /// Killed (SIGKILL) because it outlived the caller's timeout.
    public var timedOut = false
}

/// A program that could not be started.
public struct LaunchError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs programs from tests.
public enum ProcessRunner {
    /// Starts `process` from a fresh thread with no blocked signals.  A child
    /// inherits the signal mask of the thread that spawns it, and the test
    /// runner's worker threads block SIGINT and SIGTERM: without this, a
    /// child would ignore Ctrl-C and `terminate()`.
    public static func launch(_ process: Process) throws {
        let outcome = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            do {
                try process.run()
            } catch {
                outcome.withLock { $0 = "\(error)" }
            }
            done.signal()
        }.start()
        done.wait()
        if let failure = outcome.withLock({ $0 }) {
            throw LaunchError(description: "cannot start \(process.executableURL?.path ?? "?"): \(failure)")
        }
    }

    /// Runs a program to completion and captures both outputs (read
    /// concurrently, so neither pipe fills up).
    /// - Parameter timeoutSeconds: kills the program (SIGKILL) when it runs
    ///   longer, and says so in the result (nil: wait for ever).
    public static func run(_ executable: String, _ arguments: [String], directory: String? = nil, timeoutSeconds: Double? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try launch(process)
        let errorHandle = err.fileHandleForReading
        let errorData = Mutex<Data>(Data())
        let errorDone = DispatchSemaphore(value: 0)
        Thread {
            let data = errorHandle.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            errorDone.signal()
        }.start()
        let exited = DispatchSemaphore(value: 0)
        let timedOut = Mutex(false)
        if let timeoutSeconds {
            let pid = process.processIdentifier
            Thread {
                if exited.wait(timeout: .now() + timeoutSeconds) == .timedOut {
                    timedOut.withLock { $0 = true }
                    kill(pid, SIGKILL)
                }
            }.start()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        exited.signal()
        errorDone.wait()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errorData.withLock { $0 }, as: UTF8.self),
            timedOut: timedOut.withLock { $0 }
        )
    }
}
