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
/// three integers appended to a ring under a mutex: no allocation per
/// collection (the ring keeps its capacity), and a tick wakes at most one
/// thread per CPU.
final class CollectWorkers: Sendable {
    /// One collection to run: the instance's slot and the tick.
    struct Job: Sendable {
        var index: Int
        var tickNs: Int64
        var realtimeNs: Int64
    }

    /// The jobs not yet taken, shared by the sampling thread and the workers.
    ///
    /// A worker takes jobs until the queue is empty before it sleeps, so a
    /// tick wakes no more threads than there are CPUs to run them (each
    /// wake-up of a sleeping thread costs the kernel more than a short
    /// collection); a thread stuck in a slow call leaves the queue to the
    /// others, and the next tick wakes idle ones for whatever is left.
    private final class JobQueue: Sendable {
        private struct State {
            var jobs: [Job] = []
            var head = 0
            var closing = false
            /// Workers that are waiting (or about to) for a wake-up.
            var idle = 0
            /// Wake-ups given and not yet consumed.
            var wakeupsInFlight = 0

            mutating func pop() -> Job? {
                guard head < jobs.count else { return nil }
                let job = jobs[head]
                head += 1
                if head == jobs.count {
                    jobs.removeAll(keepingCapacity: true)
                    head = 0
                }
                return job
            }
        }

        private let state = Mutex(State())
        private let wakeups = DispatchSemaphore(value: 0)
        private let maximumWakeups: Int

        init(maximumWakeups: Int) {
            self.maximumWakeups = max(1, maximumWakeups)
        }

        /// Appends jobs and, unless `wake` is false, wakes up to
        /// `maximumWakeups` idle workers; false once closed.
        func put(indices: [Int], tickNs: Int64, realtimeNs: Int64, wake: Bool) -> Bool {
            let count = state.withLock { state -> Int? in
                guard !state.closing else { return nil }
                for index in indices { state.jobs.append(Job(index: index, tickNs: tickNs, realtimeNs: realtimeNs)) }
                return wake ? Self.claimWakeups(&state, maximum: maximumWakeups) : 0
            }
            guard let count else { return false }
            for _ in 0..<count { wakeups.signal() }
            return true
        }

        /// Wakes idle workers for the jobs queued now, as many as `put`
        /// would have woken.
        func wakeForQueued() {
            let count = state.withLock { Self.claimWakeups(&$0, maximum: maximumWakeups) }
            for _ in 0..<count { wakeups.signal() }
        }

        /// The next queued job, or nil at once when there is none.
        func poll() -> Job? {
            state.withLock { $0.pop() }
        }

        /// How many idle workers to wake for the queued jobs (counted as
        /// wake-ups in flight).
        private static func claimWakeups(_ state: inout State, maximum: Int) -> Int {
            let queued = state.jobs.count - state.head
            let wake = max(0, min(queued, state.idle - state.wakeupsInFlight, maximum - state.wakeupsInFlight))
            state.wakeupsInFlight += wake
            return wake
        }

        /// The next job, waiting when there is none; nil when the queue is
        /// closed and empty.
        func take() -> Job? {
            while true {
                let next = state.withLock { state -> (job: Job?, exit: Bool) in
                    if let job = state.pop() { return (job, false) }
                    if state.closing { return (nil, true) }
                    state.idle += 1
                    return (nil, false)
                }
                if let job = next.job { return job }
                if next.exit { return nil }
                wakeups.wait()
                state.withLock { state in
                    state.idle -= 1
                    state.wakeupsInFlight -= 1
                }
            }
        }

        /// Refuses new jobs and wakes every idle worker so that each ends
        /// once the queued jobs are taken.  False when it was closed already.
        func close() -> Bool {
            let wake = state.withLock { state -> Int? in
                guard !state.closing else { return nil }
                state.closing = true
                let wake = max(0, state.idle - state.wakeupsInFlight)
                state.wakeupsInFlight += wake
                return wake
            }
            guard let wake else { return false }
            for _ in 0..<wake { wakeups.signal() }
            return true
        }
    }

    private let jobs: JobQueue
    private let threads: [POSIXThread]

    /// The default size: twice the online CPUs, at least 4 and at most 16,
    /// so one collection stuck in a system call cannot hold up the others.
    static var defaultCount: Int {
        min(16, max(4, 2 * POSIXThread.onlineCPUs))
    }

    /// How the collect threads are scheduled.
    enum Priority: Sendable {
        /// The default policy, as created.
        case inherited
        /// The default policy with this nice value (lower runs first);
        /// unchanged without the privilege.
        case nice(Int32)
    }

    /// Starts `count` threads that call `run` for each job.
    init(count: Int = CollectWorkers.defaultCount, priority: Priority, run: @escaping @Sendable (Job) -> Void) {
        let jobs = JobQueue(maximumWakeups: POSIXThread.onlineCPUs)
        threads = (0..<max(1, count)).map { number in
            POSIXThread(name: "rdt4nn-collect\(number)") {
                switch priority {
                case .inherited: break
                case .nice(let value): CollectWorkers.setNice(value)
                }
                while let job = jobs.take() { run(job) }
            }
        }
        self.jobs = jobs
    }

    /// Queues the collections of one tick; each runs on the first free
    /// thread.  Ignored after ``shutdown()``.
    /// - Parameter wakeWorkers: false queues the jobs without waking any
    ///   thread: the caller takes them itself with ``takeQueued()`` and calls
    ///   ``wakeForQueued()`` if it stops before the queue is empty.
    /// - Returns: false when the pool is shut down.
    @discardableResult
    func submit(indices: [Int], tickNs: Int64, realtimeNs: Int64, wakeWorkers: Bool = true) -> Bool {
        jobs.put(indices: indices, tickNs: tickNs, realtimeNs: realtimeNs, wake: wakeWorkers)
    }

    /// The next queued job, taken by the caller instead of a collect
    /// thread; nil when the queue is empty.
    func takeQueued() -> Job? {
        jobs.poll()
    }

    /// Wakes collect threads for whatever is queued (after
    /// `submit(wakeWorkers: false)` when the caller cannot finish the jobs).
    func wakeForQueued() {
        jobs.wakeForQueued()
    }

    /// Lets the threads finish the queued jobs, then ends them.  Idempotent.
    /// - Parameter join: wait until every thread has ended; pass false when
    ///   a collection may hang (its thread then ends whenever it returns).
    func shutdown(join: Bool) {
        guard jobs.close() else { return }
        guard join else { return }
        for thread in threads { thread.join() }
    }

    /// SCHED_FIFO at `priority` for the calling thread, else a raised nice
    /// value; without the privilege for either it keeps the default policy.
    static func raisePriority(_ priority: Int32) {
        var parameters = sched_param()
        parameters.sched_priority = priority
        if pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0 { return }
        setNice(-10)
    }

    /// The calling thread's nice value (ignored without the privilege).
    static func setNice(_ value: Int32) {
        // On Linux, PRIO_PROCESS with who 0 changes the calling thread only (nice is per thread).
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, value)
    }
}
