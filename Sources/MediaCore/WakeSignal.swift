import CLinux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Lets a consumer thread sleep until a producer has something for it, beside
/// a lock-free ring: the data path stays lock-free, only sleeping and waking go
/// through the kernel (a futex), and only when the consumer really sleeps.
///
/// An event count, the shape of FFmpeg's `thread_queue` wake-ups and of
/// swift-nio's eventfd doorbell without the fd: the consumer announces that it
/// is about to wait, checks its ring once more, and sleeps only if the ring is
/// still empty; a producer that published something then sees the waiter and
/// wakes it. No wake-up can be lost between the check and the sleep, because
/// the sleep is on a counter the producer bumps (the futex returns at once
/// when the counter moved).
///
/// ```swift
/// while true {
///     if let item = ring.pop() { handle(item); continue }
///     let ticket = signal.prepareToWait()
///     if let item = ring.pop() { signal.cancelWait(); handle(item); continue }
///     if done { signal.cancelWait(); break }
///     signal.wait(ticket)
/// }
/// // producer: ring.push(item); signal.notify()
/// ```
///
/// `notify()` costs a fence and one load when nobody waits: no system call
/// per item while the consumer is busy. Any number of producers may notify and
/// any number of consumers may wait (each wakes every waiter).
public final class WakeSignal: @unchecked Sendable {
    /// The counter a waiter sleeps on (`futex` needs a stable 32-bit address).
    private let epoch: UnsafeMutablePointer<Atomic<UInt32>>
    /// Threads between `prepareToWait()` and the end of their wait.
    private let waiters = Atomic<Int>(0)

    public init() {
        epoch = .allocate(capacity: 1)
        epoch.initialize(to: Atomic(0))
    }

    deinit {
        epoch.deinitialize(count: 1)
        epoch.deallocate()
    }

    /// What `wait` sleeps on; taken before the consumer's last check.
    public struct Ticket: Sendable {
        fileprivate let epoch: UInt32
    }

    /// Announces a wait. The caller must then check its condition once more
    /// and either `cancelWait()` or `wait(_:)`.
    @inline(__always)
    public func prepareToWait() -> Ticket {
        // Sequentially consistent: the announcement must be visible before
        // the consumer's re-check reads the ring (pairs with `notify`'s fence).
        waiters.add(1, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return Ticket(epoch: epoch.pointee.load(ordering: .sequentiallyConsistent))
    }

    /// Withdraws the announcement: the re-check found work.
    @inline(__always)
    public func cancelWait() {
        waiters.subtract(1, ordering: .relaxed)
    }

    /// Sleeps until a `notify()` after `ticket` was taken, or `timeout`
    /// nanoseconds pass (nil: no limit). Returns false on a timeout. May
    /// return early (a signal interrupted the sleep): callers re-check anyway.
    @discardableResult
    public func wait(_ ticket: Ticket, timeout nanoseconds: Int64? = nil) -> Bool {
        defer { waiters.subtract(1, ordering: .relaxed) }
        let address = UnsafeMutableRawPointer(epoch).assumingMemoryBound(to: UInt32.self)
        guard let nanoseconds else {
            _ = clinux_futex_wait(address, ticket.epoch, nil)
            return true
        }
        guard nanoseconds > 0 else { return false }
        var relative = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        let status = clinux_futex_wait(address, ticket.epoch, &relative)
        return !(status == -1 && errno == ETIMEDOUT)
    }

    /// Wakes every thread waiting on this signal. Call after publishing the
    /// data (a ring push, a flag store) the waiters check.
    @inline(__always)
    public func notify() {
        // Orders the producer's publication before its read of `waiters`
        // (Dekker's pattern with `prepareToWait`'s increment and load).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard waiters.load(ordering: .relaxed) > 0 else { return }
        epoch.pointee.add(1, ordering: .sequentiallyConsistent)
        _ = clinux_futex_wake(UnsafeMutableRawPointer(epoch).assumingMemoryBound(to: UInt32.self), Int32.max)
    }
}
