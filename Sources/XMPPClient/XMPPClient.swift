public import Logging
import MediaCore

/// One XMPP client connection (libstrophe) on a thread it owns.
///
/// The thread starts with the client and connects at once; it reconnects
/// with backoff whenever the connection is lost, and rejoins the rooms given
/// to `setRoomPresence` with their latest presence. Other threads only queue
/// commands (`send`, `setRoomPresence`, `leaveRoom`), sent within one loop
/// turn (50 ms). `close()` leaves the rooms, disconnects, and joins the thread;
/// the owner must call it before dropping the client.
///
/// TLS (STARTTLS) is mandatory; the certificate is verified for the JID's
/// domain unless `trustAllCertificates`. The password is given to libstrophe
/// only; it appears in no log, state, error or description.
public final class XMPPClient: Sendable {
    /// State changes, in order (single consumer; the newest 64 are kept when
    /// nobody reads). Finishes after `.closed`.
    public let states: AsyncStream<XMPPClientState>
    /// Received `iq`, `presence` and `message` stanzas (single consumer; the
    /// newest 1024 are kept). Pings are answered by the client itself.
    public let stanzas: AsyncStream<XMLElement>
    public let configuration: XMPPClientConfiguration
    private let loop: ConnectionLoop
    private let thread: MediaThread
    private let shared: LockedValue<Shared>

    private struct Shared {
        var state: XMPPClientState = .connecting
        var closers: [CheckedContinuation<Void, Never>] = []
        var exited = false
        var joined = false
    }

    /// Starts the connection's thread (named `xmpp:TAG`).
    public init(configuration: XMPPClientConfiguration, tag: String? = nil, logger: Logger) {
        self.configuration = configuration
        let (states, stateContinuation) = AsyncStream.makeStream(of: XMPPClientState.self, bufferingPolicy: .bufferingNewest(64))
        let (stanzas, stanzaContinuation) = AsyncStream.makeStream(of: XMLElement.self, bufferingPolicy: .bufferingNewest(1024))
        self.states = states
        self.stanzas = stanzas
        let shared = LockedValue(Shared())
        self.shared = shared
        let loop = ConnectionLoop(configuration: configuration, logger: logger,
                                  states: stateContinuation, stanzas: stanzaContinuation) { state in
            shared.withLock { $0.state = state }
            stateContinuation.yield(state)
        }
        self.loop = loop
        thread = MediaThread(role: "xmpp", context: MediaThread.Context(tag: tag)) {
            loop.run()
            let closers = shared.withLock { shared in
                shared.exited = true
                defer { shared.closers = [] }
                return shared.closers
            }
            for closer in closers { closer.resume() }
        }
    }

    deinit {
        assert(shared.withLock { $0.joined }, "XMPPClient released without close()")
    }

    /// The latest state.
    public var state: XMPPClientState { shared.withLock { $0.state } }

    /// Sends `stanza` if connected (dropped, not queued, while disconnected:
    /// presence is restored on reconnect by `setRoomPresence`).
    public func send(_ stanza: XMLElement) {
        enqueue(.send(stanza))
    }

    /// Joins `room` (bare JID) as `nickname` with `extensions` in the
    /// presence, or sends the new presence when already there; after a
    /// reconnect the client rejoins with the latest one.
    public func setRoomPresence(room: String, nickname: String, extensions: [XMLElement]) {
        enqueue(.roomPresence(room: room, nickname: nickname, extensions: extensions))
    }

    /// Leaves `room` (unavailable presence) and stops rejoining it.
    public func leaveRoom(_ room: String) {
        enqueue(.leaveRoom(room: room))
    }

    /// Leaves the rooms, closes the stream (at most 3 s), stops and joins the
    /// thread. Later calls return at once.
    public func close() async {
        loop.inbox.withLock { $0.closing = true }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = shared.withLock { shared in
                if !shared.exited { shared.closers.append(continuation) }
                return shared.exited
            }
            if exited { continuation.resume() }
        }
        thread.join()
        shared.withLock { $0.joined = true }
    }

    private func enqueue(_ command: ConnectionLoop.Command) {
        loop.inbox.withLock { $0.commands.append(command) }
    }
}
