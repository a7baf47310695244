#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Sleeps until an absolute `CLOCK_MONOTONIC` time, or until another thread
/// rings it first.
///
/// The sampling thread sleeps here between ticks; adding an instance rings
/// the alarm so that the new instance's first deadline is served on time
/// instead of after the sleep that was already under way (which could be up
/// to 100 ms with nothing to sample), and stopping rings it so that stop does
/// not wait for the sleep to end.  A condition variable on the monotonic
/// clock wakes as precisely as `clock_nanosleep` with `TIMER_ABSTIME`.
///
/// `@unchecked Sendable` is sound: the only mutable state (`rung`) is read
/// and written with `mutex` held, and the pthread objects live at fixed
/// addresses for the object's lifetime.
final class MonotonicAlarm: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var rung = false

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Blocks until `deadlineNs` on the monotonic clock or until ``ring()``,
    /// whichever comes first.  A ring that came while nobody slept ends the
    /// next sleep at once.
    /// - Returns: true when rung, false at the deadline.
    @discardableResult
    func sleep(untilMonotonicNs deadlineNs: Int64) -> Bool {
        var target = timespec(tv_sec: Int(deadlineNs / 1_000_000_000), tv_nsec: Int(deadlineNs % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !rung {
            if pthread_cond_timedwait(condition, mutex, &target) == ETIMEDOUT { break }
        }
        let wasRung = rung
        rung = false
        return wasRung
    }

    /// Ends the current (or next) sleep early.
    func ring() {
        pthread_mutex_lock(mutex)
        rung = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }
}
