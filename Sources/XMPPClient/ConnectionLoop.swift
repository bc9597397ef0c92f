import CStrophe
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What the client's thread does: it owns libstrophe's context and
/// connection, runs `xmpp_run_once` with a short timeout (libstrophe's own
/// loop; it has no way to add a wake-up fd to its `select()`), drains the
/// commands other threads queue between runs, reconnects with backoff and
/// rejoins its rooms. Everything but `inbox` is touched only on that thread.
final class ConnectionLoop: @unchecked Sendable {
    /// Commands from other threads, taken at each turn of the loop.
    enum Command: Sendable {
        case send(XMLElement)
        case roomPresence(room: String, nickname: String, extensions: [XMLElement])
        case leaveRoom(room: String)
    }

    struct Inbox: Sendable {
        var commands: [Command] = []
        var closing = false
    }

    /// A room we are in or joining: the presence sent there on each change and
    /// again after each reconnect.
    private struct Room {
        var nickname: String
        var extensions: [XMLElement]
        var joinSent = false
        var joined = false
        /// A join refused because the room was still locked: tried again then.
        var retryAt: ContinuousClock.Instant?
    }

    /// How long one `xmpp_run_once` may wait in `select()`: the most a
    /// queued command waits before it is sent.
    static let turn: UInt = 50

    let inbox = Mutex(Inbox())
    private let configuration: XMPPClientConfiguration
    private let logger: Logger
    private let states: AsyncStream<XMPPClientState>.Continuation
    private let stanzas: AsyncStream<XMLElement>.Continuation
    private let publish: @Sendable (XMPPClientState) -> Void
    private var context: OpaquePointer?
    private var connection: OpaquePointer?
    /// libstrophe keeps a pointer to it for the context's life.
    private let log = UnsafeMutablePointer<xmpp_log_t>.allocate(capacity: 1)
    private var closing = false
    private var rooms: [String: Room] = [:]
    private var connected = false
    private var attempting = false
    private var nextAttempt = ContinuousClock.now
    private var delay: Duration
    private var lastLibraryError: (area: String, message: String)?
    private var pingCounter = 0

    init(configuration: XMPPClientConfiguration, logger: Logger,
         states: AsyncStream<XMPPClientState>.Continuation, stanzas: AsyncStream<XMLElement>.Continuation,
         publish: @escaping @Sendable (XMPPClientState) -> Void) {
        self.configuration = configuration
        self.logger = logger
        self.states = states
        self.stanzas = stanzas
        self.publish = publish
        delay = configuration.initialReconnectDelay
    }

    /// The thread's body: returns once closing was asked and the connection
    /// is released.
    func run() {
        Self.initializeLibrary
        // libstrophe and OpenSSL write with send(fd, ..., 0): a peer that has
        // closed would raise SIGPIPE and end the process. Blocked on this
        // thread, the write fails with EPIPE and the connection is lost, as
        // it should be; the pending signal goes with the thread.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        let me = Unmanaged.passUnretained(self).toOpaque()
        log.initialize(to: xmpp_log_t(handler: { userdata, level, area, message in
            let loop = Unmanaged<ConnectionLoop>.fromOpaque(userdata!).takeUnretainedValue()
            loop.libraryLog(level: level, area: area.map { String(cString: $0) } ?? "", message: message.map { String(cString: $0) } ?? "")
        }, userdata: me))
        context = xmpp_ctx_new(nil, log)
        while true {
            let (commands, closing) = inbox.withLock { inbox in
                defer { inbox.commands.removeAll(keepingCapacity: true) }
                return (inbox.commands, inbox.closing)
            }
            for command in commands { apply(command) }
            if closing { break }
            if !attempting && !connected && ContinuousClock.now >= nextAttempt { attempt() }
            if connected { retryJoins() }
            if attempting, let connection, xmpp_conn_is_secured(connection) != 0 {
                // The login (SASL, after TLS) runs inside xmpp_run_once: one
                // connection of the process at a time, in short turns. The
                // TLS handshake before it (OpenSSL's, which may block for
                // seconds on a slow server) runs unlocked.
                Self.handshake.withLock { _ in xmpp_run_once(context, Self.handshakeTurn) }
            } else {
                xmpp_run_once(context, Self.turn)
            }
        }
        shutDown()
    }

    private static let initializeLibrary: Void = xmpp_initialize()

    /// Held while a connection of this process logs in (TLS up, not yet
    /// connected).
    /// libstrophe 0.12.2's SHA-1 (`src/sha1.c`, `SHA1_Transform`) hashes in a
    /// static workspace, and SCRAM-SHA-1 (what prosody offers) runs thousands
    /// of rounds of it per login: two logins on two threads at once corrupt
    /// each other's proof (measured: 2 of 3 simultaneous logins refused).
    /// Once logged in, a connection hashes nothing and runs unlocked.
    private static let handshake = Mutex(())
    /// A handshaking connection's `xmpp_run_once` wait, so that the lock is
    /// never held long in `select()`.
    static let handshakeTurn: UInt = 5

    // MARK: Commands

    private func apply(_ command: Command) {
        switch command {
        case .send(let element):
            send(element)
        case .roomPresence(let room, let nickname, let extensions):
            // Room JIDs are case-insensitive (nodeprep); the server answers in lower case.
            let room = room.lowercased()
            var entry = rooms[room] ?? Room(nickname: nickname, extensions: extensions)
            if entry.nickname != nickname { entry = Room(nickname: nickname, extensions: extensions) }
            entry.extensions = extensions
            rooms[room] = entry
            if connected { sendPresence(room: room) }
        case .leaveRoom(let room):
            if let entry = rooms.removeValue(forKey: room.lowercased()), connected {
                send(XMLElement("presence", attributes: ["to": "\(room)/\(entry.nickname)", "type": "unavailable"]))
            }
        }
    }

    /// Joins again the rooms that were locked.
    private func retryJoins() {
        let now = ContinuousClock.now
        for (room, entry) in rooms where !entry.joined {
            guard let at = entry.retryAt, at <= now else { continue }
            rooms[room]?.retryAt = nil
            sendPresence(room: room)
        }
    }

    private func send(_ element: XMLElement) {
        guard connected, let connection, let context else {
            logger.debug("XMPP stanza dropped while disconnected", metadata: ["stanza": "\(element.name)"])
            return
        }
        let stanza = StanzaConversion.stanza(element, context: context)
        xmpp_send(connection, stanza)
        xmpp_stanza_release(stanza)
    }

    /// Our presence in `room`: the MUC join element the first time on this
    /// connection, then the extensions alone.
    private func sendPresence(room: String) {
        guard var entry = rooms[room] else { return }
        var children = entry.extensions
        if !entry.joinSent {
            // No history: Jibri's joins ask none either.
            children.insert(XMLElement("x", namespace: "http://jabber.org/protocol/muc", children: [
                XMLElement("history", attributes: ["maxstanzas": "0"]),
            ]), at: 0)
            entry.joinSent = true
            rooms[room] = entry
        }
        send(XMLElement("presence", attributes: ["to": "\(room)/\(entry.nickname)"], children: children))
    }

    // MARK: Connecting

    private func attempt() {
        if let old = connection {
            xmpp_conn_release(old)
            connection = nil
        }
        lastLibraryError = nil
        // libstrophe watches its socket with select(): an fd of 1024 or more
        // would overflow its fd_set. A new socket takes the lowest free fd.
        let probe = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if probe >= 0 { close(probe) }
        if probe >= 1000 {
            failed(.tooManyOpenFiles(jid: configuration.jid, lowestFree: probe))
            return
        }
        let connection = xmpp_conn_new(context)!
        self.connection = connection
        var flags = cstrophe_flag_mandatory_tls
        if configuration.trustAllCertificates { flags |= cstrophe_flag_trust_tls }
        xmpp_conn_set_flags(connection, flags)
        xmpp_conn_set_jid(connection, configuration.jid)
        xmpp_conn_set_pass(connection, configuration.password)
        if let caFile = configuration.caFile { xmpp_conn_set_cafile(connection, caFile) }
        if !configuration.trustAllCertificates {
            xmpp_conn_set_certfail_handler(connection) { certificate, reason in
                // libstrophe 0.12.2 builds the certificate from the context
                // alone (its connection is NULL): one context per client.
                if let certificate, let context = xmpp_tlscert_get_ctx(certificate) {
                    CertificateFailures.record(context: context, reason: reason.map { String(cString: $0) } ?? "unknown")
                }
                return 0
            }
        }
        xmpp_conn_set_sockopt_callback(connection, xmpp_sockopt_cb_keepalive)
        let me = Unmanaged.passUnretained(self).toOpaque()
        xmpp_handler_add(connection, { connection, stanza, userdata in
            let loop = Unmanaged<ConnectionLoop>.fromOpaque(userdata!).takeUnretainedValue()
            if let stanza { loop.received(StanzaConversion.element(stanza)) }
            return 1
        }, nil, nil, nil, me)
        let pingMilliseconds = UInt(max(1, configuration.pingInterval.components.seconds * 1000))
        xmpp_timed_handler_add(connection, { _, userdata in
            Unmanaged<ConnectionLoop>.fromOpaque(userdata!).takeUnretainedValue().ping()
            return 1
        }, pingMilliseconds, me)
        attempting = true
        publish(.connecting)
        let status = xmpp_connect_client(connection, configuration.host, UInt16(configuration.port), { connection, event, error, streamError, userdata in
            let loop = Unmanaged<ConnectionLoop>.fromOpaque(userdata!).takeUnretainedValue()
            var stream: (condition: String, text: String?)?
            if let streamError {
                stream = (StreamErrorNames.name(streamError.pointee.type), streamError.pointee.text.map { String(cString: $0) })
            }
            loop.connectionEvent(event, error: error, stream: stream, connection: connection)
        }, me)
        if status != XMPP_EOK {
            failed(.connectionFailed(jid: configuration.jid, server: server, reason: lastLibraryError?.message ?? "libstrophe error \(status)"))
        }
    }

    private var server: String { "\(configuration.host ?? "(SRV)"):\(configuration.port)" }

    private func connectionEvent(_ event: xmpp_conn_event_t, error: Int32, stream: (condition: String, text: String?)?,
                                 connection: OpaquePointer?) {
        switch event {
        case XMPP_CONN_CONNECT:
            attempting = false
            connected = true
            delay = configuration.initialReconnectDelay
            logger.debug("XMPP connected", metadata: ["login": "\(configuration.jid)"])
            publish(.connected)
            for room in rooms.keys.sorted() {
                rooms[room]?.joinSent = false
                rooms[room]?.joined = false
                sendPresence(room: room)
            }
        case XMPP_CONN_RAW_CONNECT:
            break
        default:
            let wasConnected = connected
            connected = false
            attempting = false
            // Our own disconnect while closing: not a failure.
            if closing { return }
            let certificateReason = context.flatMap { CertificateFailures.take(context: $0) }
            let jid = configuration.jid
            let reason: XMPPClientError
            if let stream {
                reason = stream.condition == "not-authorized"
                    ? .authenticationFailed(jid: jid) : .streamError(jid: jid, condition: stream.condition, text: stream.text)
            } else if let certificateReason {
                reason = .certificateNotTrusted(jid: jid, reason: certificateReason)
            } else if wasConnected {
                reason = .connectionLost(jid: jid, reason: error != 0 ? Self.errnoText(error) : "closed by the server")
            } else if let library = lastLibraryError, library.message.contains("Cannot authenticate") {
                reason = .authenticationFailed(jid: jid)
            } else if let library = lastLibraryError, library.message.contains("TLS is not supported") {
                reason = .tlsUnavailable(jid: jid)
            } else if let library = lastLibraryError, library.area == "tls" {
                reason = .certificateNotTrusted(jid: jid, reason: library.message)
            } else {
                reason = .connectionFailed(jid: jid, server: server,
                                           reason: error != 0 ? Self.errnoText(error) : lastLibraryError?.message ?? "no stream (refused, or closed before it opened)")
            }
            failed(reason)
        }
    }

    /// Reports `reason` and schedules the next attempt after the backoff.
    private func failed(_ reason: XMPPClientError) {
        attempting = false
        connected = false
        publish(.disconnected(reason))
        let jitter = Double.random(in: 0.8...1.2)
        nextAttempt = ContinuousClock.now + delay * jitter
        delay = min(delay * 2, configuration.maximumReconnectDelay)
    }

    private static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    // MARK: Receiving

    private func received(_ element: XMLElement) {
        switch element.name {
        case "iq":
            if element.type == "get", element.child("ping", namespace: "urn:xmpp:ping") != nil {
                send(.result(to: element))
                return
            }
            // Answers to our pings and to libstrophe's own requests (bind, session).
            if element.type == "result" || element.type == "error",
               element.id?.hasPrefix("ping-") == true || element.id?.hasPrefix("_xmpp_") == true { return }
        case "presence":
            roomPresence(element)
        default:
            break
        }
        stanzas.yield(element)
    }

    /// Our own occupant's presence coming back is the join's confirmation.
    private func roomPresence(_ presence: XMLElement) {
        guard let from = presence.from, let slash = from.firstIndex(of: "/") else { return }
        let room = String(from[..<slash]).lowercased()
        let nickname = String(from[from.index(after: slash)...])
        guard let entry = rooms[room], entry.nickname == nickname else { return }
        if presence.type == "error" {
            let condition = presence.child("error")?.children.first?.name ?? "undefined-condition"
            if condition == "item-not-found" {
                // Another occupant created the room a moment ago and has not
                // configured it yet (a locked room): join again shortly.
                rooms[room]?.joinSent = false
                rooms[room]?.retryAt = ContinuousClock.now + .milliseconds(500)
                return
            }
            publish(.joinRefused(room: room, condition: condition))
        } else if presence.type == nil, !entry.joined {
            rooms[room]?.joined = true
            // Status 201: we created the room, which stays locked to others
            // until its owner configures it; the empty form makes it an
            // instant room (XEP-0045 10.1.2), as Jicofo and Jibri's MUC
            // clients do.
            let codes = presence.child("x", namespace: "http://jabber.org/protocol/muc#user")?.children
                .filter { $0.name == "status" }.compactMap { $0["code"] } ?? []
            if codes.contains("201") {
                pingCounter += 1
                send(.iq(type: "set", id: "ping-room-\(pingCounter)", to: room, children: [
                    XMLElement("query", namespace: "http://jabber.org/protocol/muc#owner", children: [
                        XMLElement("x", namespace: "jabber:x:data", attributes: ["type": "submit"]),
                    ]),
                ]))
            }
            publish(.joined(room: room))
        }
    }

    private func ping() {
        pingCounter += 1
        send(.iq(type: "get", id: "ping-\(pingCounter)", to: nil, children: [XMLElement("ping", namespace: "urn:xmpp:ping")]))
    }

    /// libstrophe's own lines: DEBUG (which holds the raw stream, SASL
    /// included) is never read; the last WARN/ERROR explains a failure.
    private func libraryLog(level: xmpp_log_level_t, area: String, message: String) {
        guard level.rawValue >= XMPP_LEVEL_WARN.rawValue else { return }
        if level == XMPP_LEVEL_ERROR { lastLibraryError = (area, message) }
        logger.debug("libstrophe \(area): \(message)")
    }

    // MARK: Closing

    private func shutDown() {
        if let connection {
            closing = true
            if connected || attempting {
                if connected {
                    for (room, entry) in rooms {
                        send(XMLElement("presence", attributes: ["to": "\(room)/\(entry.nickname)", "type": "unavailable"]))
                    }
                }
                xmpp_disconnect(connection)
                // libstrophe closes the stream and calls back DISCONNECT;
                // its own disconnect timeout is 2 s.
                let deadline = ContinuousClock.now + .seconds(3)
                while xmpp_conn_is_disconnected(connection) == 0 && ContinuousClock.now < deadline {
                    xmpp_run_once(context, Self.turn)
                }
            }
            xmpp_conn_release(connection)
            self.connection = nil
        }
        connected = false
        if let context {
            CertificateFailures.take(context: context)
            xmpp_ctx_free(context)
        }
        context = nil
        log.deinitialize(count: 1)
        log.deallocate()
        publish(.closed)
        states.finish()
        stanzas.finish()
    }
}

/// The reason libssl gave for the last certificate refused, per libstrophe
/// context: its certificate callback carries no userdata.
enum CertificateFailures {
    private static let reasons = Mutex<[UInt: String]>([:])

    static func record(context: OpaquePointer, reason: String) {
        reasons.withLock { $0[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(context)))] = reason }
    }

    @discardableResult
    static func take(context: OpaquePointer) -> String? {
        reasons.withLock { $0.removeValue(forKey: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(context)))) }
    }
}

/// RFC 6120's names of libstrophe's stream error codes.
enum StreamErrorNames {
    static func name(_ type: xmpp_error_type_t) -> String {
        switch type {
        case XMPP_SE_CONFLICT: "conflict"
        case XMPP_SE_CONN_TIMEOUT: "connection-timeout"
        case XMPP_SE_HOST_GONE: "host-gone"
        case XMPP_SE_HOST_UNKNOWN: "host-unknown"
        case XMPP_SE_NOT_AUTHORIZED: "not-authorized"
        case XMPP_SE_POLICY_VIOLATION: "policy-violation"
        case XMPP_SE_RESOURCE_CONSTRAINT: "resource-constraint"
        case XMPP_SE_SEE_OTHER_HOST: "see-other-host"
        case XMPP_SE_SYSTEM_SHUTDOWN: "system-shutdown"
        case XMPP_SE_INTERNAL_SERVER_ERROR: "internal-server-error"
        default: "undefined-condition"
        }
    }
}
