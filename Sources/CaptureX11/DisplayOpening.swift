import CX11
import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// `XOpenDisplay` with a deadline. A server that accepts the connection but
/// does not answer (stopped, wedged) leaves `XOpenDisplay` blocked in its
/// read of the setup reply, on a socket nobody else can see; so the call
/// runs on a detached thread of its own, and the caller waits at most the
/// timeout. A call that passes it is abandoned: if it ever returns (the
/// server resumed), its thread closes what it opened. The setup is tried
/// through xcb before Xlib (see `run`), so that a server that dies while an
/// abandoned call waits cannot end the process.
final class DisplayOpening: @unchecked Sendable {
    private enum State {
        case opening
        /// The display's address (0: `XOpenDisplay` failed).
        case opened(UInt)
        case abandoned
    }

    private let state = LockedValue<State>(.opening)
    private let done = WakeSignal()
    private let name: String?

    private init(name: String?) {
        self.name = name
    }

    /// Opens `name` (nil: `$DISPLAY`) within `timeout` nanoseconds.
    /// Throws `cannotOpenDisplay` (no server there) or `notAnswering`;
    /// `resolvedName` names the display in the error.
    static func open(_ name: String?, resolvedName: String, timeout: Int64) throws(XError) -> OpaquePointer {
        let opening = DisplayOpening(name: name)
        opening.start()
        let deadline = DisplayConnection.monotonicNow() + timeout
        while true {
            let ticket = opening.done.prepareToWait()
            if case let .opened(address) = opening.state.withLock({ $0 }) {
                opening.done.cancelWait()
                guard let display = OpaquePointer(bitPattern: address) else {
                    throw XError(.cannotOpenDisplay, display: resolvedName)
                }
                return display
            }
            let left = deadline - DisplayConnection.monotonicNow()
            if left <= 0 {
                opening.done.cancelWait()
                break
            }
            opening.done.wait(ticket, timeout: left)
        }
        // Abandoned, unless it finished just now.
        let late: UInt? = opening.state.withLock { state in
            if case let .opened(address) = state { return address }
            state = .abandoned
            return nil
        }
        if let late, let display = OpaquePointer(bitPattern: late) { return display }
        if late != nil { throw XError(.cannotOpenDisplay, display: resolvedName) }
        throw XError(.notAnswering(milliseconds: Int(timeout / 1_000_000)), display: resolvedName)
    }

    /// Starts the detached thread that calls `XOpenDisplay`.
    private func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let opening = Unmanaged<DisplayOpening>.fromOpaque(raw!).takeRetainedValue()
            opening.run()
            return nil
        }, context)
        precondition(status == 0, "pthread_create failed (\(status))")
        pthread_detach(thread)
    }

    private func run() {
        // The connection's setup through xcb first: xcb reports a connection
        // that breaks as an error, where Xlib ends the whole process (its
        // default I/O error exit) if the server dies between answering
        // XOpenDisplay's setup and its first reply, which an abandoned call
        // on a stopped server that is later resumed and ended reached
        // (StoppedServerSessionTests' test process exited 1 without a word).
        // Xlib opens it once the probe has returned: a server that answered
        // is unlikely to stop in between, and one the probe could not reach
        // is tried as before (Xlib's own failure is the answer then). The
        // probe stays connected until then: the last client leaving resets
        // a server started without -noreset, and an XOpenDisplay racing that
        // reset failed ("cannot open" of a just-started Xvfb under load).
        let probe = xcb_connect(name, nil)
        let display = XOpenDisplay(name)
        xcb_disconnect(probe)
        let address = UInt(bitPattern: Int(bitPattern: display.map { UnsafeRawPointer($0) }))
        let kept: Bool = state.withLock { state in
            if case .abandoned = state { return false }
            state = .opened(address)
            return true
        }
        if kept {
            done.notify()
        } else if let display {
            // Nobody waits for it: a server gone meanwhile ends this call, not the process.
            XSetIOErrorExitHandler(display, { _, _ in }, nil)
            XCloseDisplay(display)
        }
    }
}
