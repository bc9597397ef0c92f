import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads one line a child writes to a pipe (Xvfb's display number on
/// `-displayfd`), blocked in `poll` with a deadline; never polling in a loop.
enum LineReader {
    /// The text up to the first newline; nil when the writer closed first
    /// (the child exited) or at `deadline`, or when `wake` became readable.
    static func readLine(_ descriptor: Int32, deadline: ContinuousClock.Instant, wake: Int32? = nil) -> String? {
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return nil }
            let milliseconds = Int32(min(left / .milliseconds(1), Double(Int32.max)).rounded(.up))
            var fds = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
            if let wake { fds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            if fds.count > 1 && fds[1].revents != 0 { return nil }
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            text += buffer[0..<count]
            if let newline = text.firstIndex(of: UInt8(ascii: "\n")) {
                return String(decoding: text[..<newline], as: UTF8.self)
            }
        }
    }

    /// The same on a thread of its own, for a task: the task's
    /// cancellation wakes the thread at once (an eventfd beside the pipe),
    /// so this wait ends by its deadline or its cancellation, whichever is first.
    /// - Throws: `CancellationError`.
    static func readLine(_ descriptor: Int32, deadline: ContinuousClock.Instant) async throws -> String? {
        let wake = clinux_eventfd_cloexec()
        // No eventfd (descriptors exhausted): still bounded by the deadline.
        guard wake >= 0 else { return readLine(descriptor, deadline: deadline, wake: nil) }
        defer { close(wake) }
        let line: String? = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: readLine(descriptor, deadline: deadline, wake: wake))
                }
                thread.stackSize = 128 << 10
                thread.start()
            }
        } onCancel: {
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
        }
        try Task.checkCancellation()
        return line
    }
}
