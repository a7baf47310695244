internal import CSystemSupport

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A POSIX thread that runs one closure: what the host needs of Foundation's
/// `Thread`, without Foundation.
///
/// A thread made with ``init(name:_:)`` must be joined exactly once
/// (``join()``); ``detach(name:_:)`` starts one that nobody waits for.
public struct POSIXThread: Sendable {
    private let handle: pthread_t

    /// Starts `body` on a new joinable thread named `name` (the kernel keeps
    /// the first 15 bytes).  Traps when the system cannot create a thread.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        handle = Self.create(name: name, body)
    }

    /// The CPUs online (at least 1): how many threads can run at once.
    public static var onlineCPUs: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Waits until the thread's closure has returned.
    public func join() {
        _ = pthread_join(handle, nil)
    }

    /// Starts `body` on a new thread named `name` that nobody joins (its
    /// resources are freed when it ends).  Traps when the system cannot
    /// create a thread.
    public static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        _ = pthread_detach(create(name: name, body))
    }

    /// Blocks the calling thread for `nanoseconds` (resumes after signals).
    public static func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    private static func create(name: String, _ body: @escaping @Sendable () -> Void) -> pthread_t {
        let start = ThreadStart(name: name, body: body)
        let context = Unmanaged.passRetained(start).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            let start = Unmanaged<ThreadStart>.fromOpaque(context!).takeRetainedValue()
            start.run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            fatalError("cannot start thread '\(name)': \(String(cString: strerror(result)))")
        }
        return thread
    }
}

/// What a new thread runs, handed over through `pthread_create`'s argument.
private final class ThreadStart: Sendable {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    func run() {
        // Linux allows 15 bytes plus the terminating zero; cut on a character boundary.
        var bytes: [UInt8] = []
        for character in name {
            let utf8 = Array(character.utf8)
            if bytes.count + utf8.count > 15 { break }
            bytes += utf8
        }
        bytes.append(0)
        _ = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { CSystemSupport_setThreadName($0.baseAddress!) }
        }
        body()
    }
}
