import Dispatch
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Watches SIGINT and SIGTERM for the length of a run.
///
/// The first signal asks for a graceful end (containers are stopped with
/// their timeout, everything is flushed); the second skips graceful stops
/// but still removes every container.  Signals are delivered through
/// Dispatch, never in an async-signal context.
public final class Interruption: Sendable {
    /// How urgently the run must end.
    public enum Level: Int, Sendable, Comparable {
        case none = 0, graceful, immediate
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let state = Mutex<(level: Level, signal: Int32)>((.none, 0))
    private let wakeup = DispatchSemaphore(value: 0)
    private let queue = DispatchQueue(label: "rdt4nn.signals")

    /// A watcher that is not installed (for tests and library use).
    public init() {}

    /// Starts catching SIGINT and SIGTERM for the rest of the process
    /// (the sources live as long as the process; install once).
    public func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in self.raise(signal: number) }
            source.resume()
        }
    }

    /// Records a signal (also used by tests to simulate one).
    public func raise(signal number: Int32) {
        state.withLock { state in
            state.level = state.level == .none ? .graceful : .immediate
            state.signal = number
        }
        wakeup.signal()
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
