import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The state a child shares with the thread that reaps it: the termination
/// once known, and the waiters (threads on the condition, tasks by
/// continuation) to wake then. The thread holds this, never the
/// `ChildProcess`, so dropping the owner still ends and reaps the child.
final class Reaper: @unchecked Sendable {
    let pid: pid_t
    private let started: ContinuousClock.Instant
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var exited = false
    private var termination: Termination?
    private var waiters: [UInt64: CheckedContinuation<Termination, any Error>] = [:]
    private var cancelled: Set<UInt64> = []
    private var nextWaiter: UInt64 = 0

    init(pid: pid_t, started: ContinuousClock.Instant) {
        self.pid = pid
        self.started = started
    }

    /// Starts the thread that waits for the child: blocked in `waitid`, no polling.
    func start() {
        let thread = Thread { [self] in reap() }
        thread.stackSize = 128 << 10
        thread.start()
    }

    private func reap() {
        // Wait without reaping first, so that the pid stays the child's
        // until `send` can no longer signal it (no signal to a reused pid).
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        condition.lock()
        exited = true
        var status: Int32 = 0
        var usage = rusage()
        var reaped: pid_t
        repeat { reaped = wait4(pid, &status, 0, &usage) } while reaped < 0 && errno == EINTR
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        let exitCode: Int32? = reaped == pid && (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
        let signal: Int32? = reaped == pid && (status & 0x7f) != 0 ? status & 0x7f : nil
        let result = Termination(
            exitCode: exitCode, signal: signal,
            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
            peakRSSBytes: usage.ru_maxrss * 1024, contextSwitches: usage.ru_nvcsw + usage.ru_nivcsw,
            wallSeconds: seconds)
        termination = result
        let woken = waiters
        waiters = [:]
        condition.broadcast()
        condition.unlock()
        for continuation in woken.values { continuation.resume(returning: result) }
    }

    /// The termination, once the child is reaped.
    var result: Termination? {
        condition.lock()
        defer { condition.unlock() }
        return termination
    }

    /// Whether the child has not exited yet (a stopped child is running).
    var running: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !exited
    }

    /// Signals the child (only before it exits) or its process group
    /// (whose members may outlive the leader).
    func send(_ signal: Int32, group: Bool) {
        condition.lock()
        defer { condition.unlock() }
        if group { kill(-pid, signal) } else if !exited { kill(pid, signal) }
    }

    /// Blocks until the child is reaped, or until `deadline` (nil: no limit).
    func wait(until deadline: Date?) -> Termination? {
        condition.lock()
        defer { condition.unlock() }
        while termination == nil {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        return termination
    }

    // MARK: Tasks

    func newWaiter() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        nextWaiter += 1
        return nextWaiter
    }

    /// Resumes `continuation` with the termination, now if known; with
    /// `CancellationError` if `id` was cancelled before it got here.
    func register(_ id: UInt64, _ continuation: CheckedContinuation<Termination, any Error>) {
        condition.lock()
        if let termination {
            condition.unlock()
            continuation.resume(returning: termination)
        } else if cancelled.remove(id) != nil {
            condition.unlock()
            continuation.resume(throwing: CancellationError())
        } else {
            waiters[id] = continuation
            condition.unlock()
        }
    }

    /// Ends waiter `id` with `CancellationError` (now, or when it registers).
    func cancel(_ id: UInt64) {
        condition.lock()
        if let continuation = waiters.removeValue(forKey: id) {
            condition.unlock()
            continuation.resume(throwing: CancellationError())
        } else {
            if termination == nil { cancelled.insert(id) }
            condition.unlock()
        }
    }
}
