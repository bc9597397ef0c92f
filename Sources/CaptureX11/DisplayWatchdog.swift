import MediaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Bounds every call on the process's X connections: one thread, started
/// with the first connection, that sleeps until the earliest deadline a
/// connection has armed (`DisplayConnection.arm()`) and interrupts a
/// connection whose call passed it (`DisplayConnection.interrupt()`: its
/// socket is shut down, so the read or write Xlib is blocked in fails and
/// Xlib's I/O-error path marks the connection broken).
///
/// Arming is two atomic stores on the caller's side and never wakes this
/// thread: a call armed after the thread went to sleep has a later deadline
/// than any it saw, and the thread sleeps at most the shortest answer
/// timeout of the connections it watches. Only a deadline made shorter
/// (a stop, a teardown) wakes it, through `deadlineShortened()`.
final class DisplayWatchdog: @unchecked Sendable {
    static let shared = DisplayWatchdog()

    /// The connections watched, by address (not retained: a connection
    /// leaves in its `deinit`, before it closes its socket).
    private let watched = LockedValue<[UInt: Unmanaged<DisplayConnection>]>([:])
    private let wake = WakeSignal()
    /// The thread, started once and never stopped (it sleeps without a
    /// deadline while no connection is open).
    private let thread = LockedValue<MediaThread?>(nil)

    private init() {}

    func watch(_ connection: DisplayConnection) {
        let key = UInt(bitPattern: Int(bitPattern: Unmanaged.passUnretained(connection).toOpaque()))
        watched.withLock { $0[key] = .passUnretained(connection) }
        thread.withLock { thread in
            if thread == nil {
                thread = MediaThread(role: "xwatch") { [self] in run() }
            }
        }
        wake.notify()
    }

    /// After this returns the thread does not touch `connection` again.
    func unwatch(_ connection: DisplayConnection) {
        let key = UInt(bitPattern: Int(bitPattern: Unmanaged.passUnretained(connection).toOpaque()))
        _ = watched.withLock { $0.removeValue(forKey: key) }
    }

    /// A connection's deadline moved earlier than an arm would put it.
    func deadlineShortened() { wake.notify() }

    private func run() {
        while true {
            let ticket = wake.prepareToWait()
            let now = DisplayConnection.monotonicNow()
            let sleep: Int64? = watched.withLock { table in
                guard !table.isEmpty else { return nil }
                var next = Int64.max
                for (_, entry) in table {
                    let connection = entry.takeUnretainedValue()
                    next = min(next, now + connection.answerTimeout)
                    let deadline = connection.callDeadline.load(ordering: .sequentiallyConsistent)
                    guard deadline != 0 else { continue }
                    if deadline <= now {
                        connection.interrupt()
                    } else {
                        next = min(next, deadline)
                    }
                }
                return next - now
            }
            wake.wait(ticket, timeout: sleep)
        }
    }
}
