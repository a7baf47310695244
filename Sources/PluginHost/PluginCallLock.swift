#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Serialises every call into the instances of one plugin that declared
/// `RDT4NN_CAP_SINGLE_THREADED` (global state, a library that is not
/// re-entrant): create, start, collect/write/admit/on_tick..., stop and
/// destroy of all its instances run one at a time, whichever thread makes
/// them.  Plugins without the capability get no lock.
///
/// `@unchecked Sendable` is sound: the only state is the pthread mutex,
/// which lives at a fixed address for the object's lifetime and is used only
/// through `pthread_mutex_lock`/`unlock`.
final class PluginCallLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` while no other call into the plugin runs.
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
