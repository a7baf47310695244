import CSystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A one-shot `CLOCK_MONOTONIC` timer (a timerfd) that one thread waits on.
///
/// Arming and disarming wake nobody; only an expiry wakes the waiting
/// thread.  The sampler arms it while its ticking thread runs collections
/// itself, so that a call that takes too long hands ticking to the thread
/// that waits here instead of costing every other instance its ticks -- and
/// a tick that ends in time costs two system calls, not a hand-off to
/// another thread.
///
/// An expiry that came while nobody waited ends the next wait at once; the
/// waiter must therefore check why it woke.
final class WatchdogTimer: Sendable {
    private let descriptor: Int32

    /// Creates the timer, disarmed; nil when the kernel has no timerfd.
    init?() {
        let descriptor = CSystemSupport_monotonicTimerCreate()
        guard descriptor >= 0 else { return nil }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Arms the timer to expire once at `deadlineNs` (`CLOCK_MONOTONIC`);
    /// a deadline already passed expires at once.
    func arm(atMonotonicNs deadlineNs: Int64) {
        _ = CSystemSupport_monotonicTimerSet(descriptor, max(1, deadlineNs))
    }

    /// Disarms the timer (an expiry already counted stays counted).
    func disarm() {
        _ = CSystemSupport_monotonicTimerSet(descriptor, 0)
    }

    /// Makes the timer expire now (wakes the waiting thread).
    func expireNow() {
        arm(atMonotonicNs: 1)
    }

    /// Blocks until the timer has expired since the last wait.
    /// - Returns: false when the descriptor cannot be read (never expected;
    ///   the caller then stops waiting on this timer).
    func waitForExpiry() -> Bool {
        var expirations: UInt64 = 0
        while true {
            if read(descriptor, &expirations, MemoryLayout<UInt64>.size) == MemoryLayout<UInt64>.size { return true }
            if errno != EINTR { return false }
        }
    }
}
