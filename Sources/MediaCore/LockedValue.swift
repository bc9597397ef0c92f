#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a `pthread_mutex_t`: for state a few threads share off
/// the media paths (registries, statistics sources, lifecycle states).
///
/// Why not the standard library's `Synchronization.Mutex`: on Linux it locks
/// with futex calls inside the runtime, which ThreadSanitizer does not see,
/// so every contended `withLock` is reported as a data race (measured with
/// Swift 6.3.1: two threads appending to a `Mutex<[Int]>` give "Swift access
/// race" inside `withLock`). The test command runs a whole recording session
/// under ThreadSanitizer; pthread mutexes are intercepted, so its reports are
/// real ones. The media paths take no lock at all.
public final class LockedValue<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let status = pthread_mutex_init(mutex, nil)
        precondition(status == 0, "pthread_mutex_init failed (\(status))")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
