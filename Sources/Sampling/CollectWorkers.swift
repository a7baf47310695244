import Dispatch
import Synchronization
import SystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A fixed pool of threads that run the collections the sampling thread
/// hands over at each tick.
///
/// Compared with submitting one Dispatch block per collection, a job here is
/// three integers appended to a ring under a mutex and one semaphore signal:
/// no allocation per collection (the ring keeps its capacity).  The threads can run at real-time priority
/// (SCHED_FIFO, below the sampling thread), so a collection is not delayed by
/// the busy containers it measures; a collection takes tens of microseconds.
final class CollectWorkers: Sendable {
    /// One collection to run: the instance's slot and the tick.
    struct Job: Sendable {
        var index: Int
        var tickNs: Int64
        var realtimeNs: Int64
    }

    /// The jobs not yet taken, shared by the sampling thread and the workers.
    private final class JobQueue: Sendable {
        private struct State {
            var jobs: [Job] = []
            var head = 0
            var closing = false
        }

        private let state = Mutex(State())
        private let pending = DispatchSemaphore(value: 0)

        /// Appends a job and wakes one worker; false once closed.
        func put(_ job: Job) -> Bool {
            let accepted = state.withLock { state -> Bool in
                guard !state.closing else { return false }
                state.jobs.append(job)
                return true
            }
            if accepted { pending.signal() }
            return accepted
        }

        /// Waits for the next job; nil when the queue is closed and empty.
        func take() -> Job? {
            while true {
                pending.wait()
                let (job, closing) = state.withLock { state -> (Job?, Bool) in
                    guard state.head < state.jobs.count else { return (nil, state.closing) }
                    let job = state.jobs[state.head]
                    state.head += 1
                    if state.head == state.jobs.count {
                        state.jobs.removeAll(keepingCapacity: true)
                        state.head = 0
                    }
                    return (job, state.closing)
                }
                if let job { return job }
                if closing { return nil }
            }
        }

        /// Refuses new jobs and wakes `waiters` threads so that each finds
        /// the queue closed once the queued jobs are taken.  False when it
        /// was closed already.
        func close(waking waiters: Int) -> Bool {
            let wasClosing = state.withLock { state -> Bool in
                defer { state.closing = true }
                return state.closing
            }
            guard !wasClosing else { return false }
            for _ in 0..<waiters { pending.signal() }
            return true
        }
    }

    private let jobs: JobQueue
    private let threads: [POSIXThread]

    /// The default size: twice the online CPUs, at least 4 and at most 16,
    /// so one collection stuck in a system call cannot hold up the others.
    static var defaultCount: Int {
        let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return min(16, max(4, 2 * max(1, online)))
    }

    /// Starts `count` threads that call `run` for each job.
    /// - Parameter realtimePriority: SCHED_FIFO priority to ask for (nil:
    ///   the default policy).  Without the privilege the threads keep the
    ///   default policy.
    init(count: Int = CollectWorkers.defaultCount, realtimePriority: Int32?, run: @escaping @Sendable (Job) -> Void) {
        let jobs = JobQueue()
        threads = (0..<max(1, count)).map { number in
            POSIXThread(name: "rdt4nn-collect\(number)") {
                if let realtimePriority { CollectWorkers.raisePriority(realtimePriority) }
                while let job = jobs.take() { run(job) }
            }
        }
        self.jobs = jobs
    }

    /// Queues a job; it runs on the first free thread.  Ignored after
    /// ``shutdown()``.
    /// - Returns: false when the pool is shut down.
    @discardableResult
    func submit(_ job: Job) -> Bool { jobs.put(job) }

    /// Lets the threads finish the queued jobs, then ends them.  Idempotent.
    /// - Parameter join: wait until every thread has ended; pass false when
    ///   a collection may hang (its thread then ends whenever it returns).
    func shutdown(join: Bool) {
        guard jobs.close(waking: threads.count) else { return }
        guard join else { return }
        for thread in threads { thread.join() }
    }

    /// SCHED_FIFO at `priority` for the calling thread, else a raised nice
    /// value; without the privilege for either it keeps the default policy.
    static func raisePriority(_ priority: Int32) {
        var parameters = sched_param()
        parameters.sched_priority = priority
        if pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0 { return }
        // On Linux, PRIO_PROCESS with who 0 changes the calling thread only (nice is per thread).
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, -10)
    }
}
