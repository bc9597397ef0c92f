import MediaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Bounds every call on the process's X connections: one thread, running
/// while at least one connection is open, that sleeps until the earliest
/// deadline a connection armed (`DisplayConnection.arm()`) and interrupts
/// a connection whose call passed it (`DisplayConnection.interrupt()`: its
/// socket is shut down, so the read or write Xlib is blocked in fails and
/// Xlib's I/O-error path marks the connection broken).
///
/// Arming is two atomic stores on the caller's side and never wakes this
/// thread: a call armed after the thread went to sleep has a later deadline
/// than any it saw, and the thread sleeps at most the shortest answer
/// timeout of the connections it watches (about once every 5 s while
/// recording). Only a deadline made shorter (a stop, a teardown) wakes it,
/// through `deadlineShortened()`. The last connection to close joins it, so
/// a process with no display open has no such thread.
final class DisplayWatchdog: @unchecked Sendable {
    static let shared = DisplayWatchdog()

    private struct State {
        /// The connections watched, by address (not retained: a connection
        /// leaves in its `deinit`, before it closes its socket).
        var watched: [UInt: Unmanaged<DisplayConnection>] = [:]
        var thread: MediaThread?
        /// Which thread is the current one: an older one that wakes ends.
        var generation = 0
    }

    private let state = LockedValue(State())
    private let wake = WakeSignal()

    private init() {}

    func watch(_ connection: DisplayConnection) {
        let key = Self.key(connection)
        state.withLock { state in
            state.watched[key] = .passUnretained(connection)
            if state.thread == nil {
                state.generation += 1
                let generation = state.generation
                state.thread = MediaThread(role: "xwatch") { [self] in run(generation: generation) }
            }
        }
        wake.notify()
    }

    /// After this returns the thread does not touch `connection` again; the
    /// last connection's call ends the thread and waits for it.
    func unwatch(_ connection: DisplayConnection) {
        let key = Self.key(connection)
        let ending: MediaThread? = state.withLock { state in
            state.watched.removeValue(forKey: key)
            guard state.watched.isEmpty, let thread = state.thread else { return nil }
            state.thread = nil
            state.generation += 1
            return thread
        }
        if let ending {
            wake.notify()
            ending.join()
        }
    }

    /// A connection's deadline moved earlier than an arm would put it.
    func deadlineShortened() { wake.notify() }

    private static func key(_ connection: DisplayConnection) -> UInt {
        UInt(bitPattern: Int(bitPattern: Unmanaged.passUnretained(connection).toOpaque()))
    }

    private func run(generation: Int) {
        while true {
            let ticket = wake.prepareToWait()
            let now = DisplayConnection.monotonicNow()
            // nil: this thread is no longer the current one.
            let sleep: Int64? = state.withLock { state in
                guard state.generation == generation else { return nil }
                var next = Int64.max
                for (_, entry) in state.watched {
                    // No retain: the connection may be in its `deinit`, before `unwatch`.
                    entry._withUnsafeGuaranteedRef { connection in
                        next = min(next, now + connection.answerTimeout)
                        let deadline = connection.callDeadline.load(ordering: .sequentiallyConsistent)
                        guard deadline != 0 else { return }
                        if deadline <= now {
                            connection.interrupt()
                        } else {
                            next = min(next, deadline)
                        }
                    }
                }
                return next == .max ? 1_000_000_000 : next - now
            }
            guard let sleep else {
                wake.cancelWait()
                return
            }
            wake.wait(ticket, timeout: sleep)
        }
    }
}
