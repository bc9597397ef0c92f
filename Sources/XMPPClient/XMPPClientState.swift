/// Where a client's connection stands, as its `states` stream reports it.
public enum XMPPClientState: Sendable, Equatable {
    /// A connection attempt is under way.
    case connecting
    /// Logged in over TLS; rooms are (re)joined next.
    case connected
    /// The room's presence of our own occupant came back: we are in `room`
    /// (bare room JID).
    case joined(room: String)
    /// The room refused the join (`condition`: conflict, not-authorized, ...).
    case joinRefused(room: String, condition: String)
    /// The connection ended or an attempt failed; a new attempt follows
    /// after the backoff unless the client is closing.
    case disconnected(XMPPClientError)
    /// `close()` finished: the thread is gone, no attempt follows.
    case closed
}

/// Why a connection ended or could not be made. Each names the login,
/// never the password.
public enum XMPPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused the login (wrong password or unknown user).
    case authenticationFailed(jid: String)
    /// The server's certificate did not verify (libssl's reason).
    case certificateNotTrusted(jid: String, reason: String)
    /// The server offered no STARTTLS; plaintext is never used.
    case tlsUnavailable(jid: String)
    /// The TCP connection or TLS handshake failed (`reason`: the system's or
    /// libstrophe's words).
    case connectionFailed(jid: String, server: String, reason: String)
    /// The server closed the stream with an RFC 6120 stream error.
    case streamError(jid: String, condition: String, text: String?)
    /// An established connection was lost.
    case connectionLost(jid: String, reason: String)
    /// The process holds too many open files for libstrophe's `select()`
    /// (its sockets must be below 1024).
    case tooManyOpenFiles(jid: String, lowestFree: Int32)

    public var description: String {
        switch self {
        case .authenticationFailed(let jid): "XMPP login \(jid) refused by the server (wrong password or unknown user)"
        case .certificateNotTrusted(let jid, let reason): "XMPP server certificate for \(jid) not trusted: \(reason)"
        case .tlsUnavailable(let jid): "XMPP server for \(jid) offers no TLS; plaintext refused"
        case .connectionFailed(let jid, let server, let reason): "XMPP connection of \(jid) to \(server) failed: \(reason)"
        case .streamError(let jid, let condition, let text): "XMPP server closed the stream of \(jid): \(condition)\(text.map { " (\($0))" } ?? "")"
        case .connectionLost(let jid, let reason): "XMPP connection of \(jid) lost: \(reason)"
        case .tooManyOpenFiles(let jid, let fd): "XMPP connection of \(jid) not attempted: the lowest free fd is \(fd), libstrophe's select() needs fds below 1024"
        }
    }
}
