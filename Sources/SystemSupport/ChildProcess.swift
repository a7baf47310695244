internal import CSystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A child process started with `posix_spawn`: its standard output goes to a
/// pipe the parent reads, its standard error to `/dev/null`, its standard
/// input is the parent's.
public struct ChildProcess: Sendable {
    /// How a child ended.
    public enum Termination: Sendable, Equatable {
        /// It called `exit` with this status.
        case exited(Int32)
        /// A signal with this number ended it.
        case signalled(Int32)
    }

    /// Why a child could not be started.
    public struct LaunchError: Error, Sendable, CustomStringConvertible {
        /// What failed, with the system's reason.
        public var description: String
    }

    /// The child's process id.
    public let pid: Int32
    /// The read end of the pipe that is the child's standard output; the
    /// caller reads it (``FileDescriptor/readToEnd(_:)``) and closes it.
    public let outputDescriptor: Int32

    /// Starts `executable` (a path) with `arguments` (argv[0] is the path),
    /// the parent's environment and working directory, no other descriptors
    /// inherited, the default signal dispositions and an empty signal mask.
    /// - Throws: ``LaunchError`` when the pipe or the process cannot be made
    ///   (e.g. no such executable).
    public static func launch(executable: String, arguments: [String]) throws(LaunchError) -> ChildProcess {
        var fds: [Int32] = [-1, -1]
        guard CSystemSupport_pipeCloseOnExec(&fds) == 0 else {
            throw LaunchError(description: "cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        CSystemSupport_addCloseFrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw LaunchError(description: "\(executable): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid, outputDescriptor: fds[0])
    }

    /// How the child ended, or nil while it is still running (never blocks).
    public func poll() -> Termination? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return Self.termination(status) }
            if result == 0 { return nil }
            if errno != EINTR { return .exited(-1) }
        }
    }

    /// Waits until the child has ended.
    public func wait() -> Termination {
        var status: Int32 = 0
        while true {
            if waitpid(pid, &status, 0) == pid { return Self.termination(status) }
            if errno != EINTR { return .exited(-1) }
        }
    }

    /// Sends `signal` to the child.
    public func kill(_ signal: Int32) {
        _ = Glibc.kill(pid, signal)
    }

    private static func termination(_ status: Int32) -> Termination {
        // WIFEXITED/WEXITSTATUS/WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

/// Reading and writing whole buffers through plain file descriptors.
public enum FileDescriptor {
    /// Everything readable from `fd` until end of file (regular files, pipes).
    /// - Returns: nil when a read fails.
    public static func readToEnd(_ fd: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                data += chunk[0..<count]
            } else if count == 0 {
                return data
            } else if errno != EINTR {
                return nil
            }
        }
    }

    /// The contents of the file (or pipe) at `path`, nil when it cannot be opened or read.
    public static func readFile(atPath path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readToEnd(fd)
    }

    /// Writes all of `bytes` to `fd` at once, unbuffered.
    /// - Returns: false when a write fails.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written > 0 {
                offset += written
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }
}
