import CSignalPipe
import Dispatch
import Synchronization
import SystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Watches SIGINT and SIGTERM for the length of a run.
///
/// The first signal asks for a graceful end (containers are stopped with
/// their timeout, everything is flushed); the second skips graceful stops
/// but still removes every container.  The C handler only writes the
/// signal number into a pipe (the self-pipe trick); a reader thread acts on
/// it, never in an async-signal context.
public final class Interruption: Sendable {
    /// How urgently the run must end.
    public enum Level: Int, Sendable, Comparable {
        case none = 0, graceful, immediate
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let state = Mutex<(level: Level, signal: Int32)>((.none, 0))
    private let wakeup = DispatchSemaphore(value: 0)
    private let escalation = Mutex<(@Sendable () -> Void)?>(nil)

    /// A watcher that is not installed (for tests and library use).
    public init() {}

    /// Starts catching SIGINT and SIGTERM for the rest of the process.
    /// - Returns: false when the handlers could not be installed.
    @discardableResult
    public func install() -> Bool {
        let readEnd = CSignalPipe_install()
        guard readEnd >= 0 else { return false }
        POSIXThread.detach(name: "rdt4nn-signals") { [self] in
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 {
                    raise(signal: Int32(byte))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        return true
    }

    /// Records a signal (also used by tests to simulate one).
    public func raise(signal number: Int32) {
        let level = state.withLock { state -> Level in
            state.level = state.level == .none ? .graceful : .immediate
            state.signal = number
            return state.level
        }
        wakeup.signal()
        // A blocked graceful stop cannot notice the second signal itself.
        if level == .immediate, let handler = escalation.withLock({ $0 }) { handler() }
    }

    /// Runs `handler` (on the signal thread) when a second signal asks for an
    /// immediate end -- e.g. to kill containers whose graceful stop is pending.
    public func onEscalation(_ handler: @escaping @Sendable () -> Void) {
        escalation.withLock { $0 = handler }
    }

    /// The current level.
    public var level: Level { state.withLock { $0.level } }

    /// The last signal's name.
    public var signalName: String { state.withLock { $0.signal } == SIGTERM ? "SIGTERM" : "SIGINT" }

    /// Sleeps until `deadlineNs` (monotonic) or a signal, whichever comes first.
    public func sleep(untilMonotonicNs deadlineNs: Int64, now: Int64) {
        guard deadlineNs > now else { return }
        _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(deadlineNs - now)))
    }
}
