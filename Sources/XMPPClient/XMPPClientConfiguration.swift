/// How one XMPP connection logs in and where it connects.
///
/// `description` names the login and server, never the password.
public struct XMPPClientConfiguration: Sendable, CustomStringConvertible {
    /// The login, `user@domain` (the domain is also the name the server's
    /// certificate must carry, as libstrophe checks it).
    public var jid: String
    public var password: String
    /// The server to connect to; nil: the JID's domain through its SRV record.
    public var host: String?
    /// The server's client port (5222).
    public var port: Int
    /// Accept any server certificate (jibri.conf's `trust-all-xmpp-certs`).
    /// Off: the certificate must verify against the system's CAs (plus `caFile`)
    /// for the JID's domain, or the connection is refused.
    public var trustAllCertificates: Bool
    /// A PEM file of extra trusted CAs (a private deployment's own CA).
    public var caFile: String?
    /// The first wait before reconnecting; doubled on each failure up to
    /// `maximumReconnectDelay`, with ±20 % jitter; reset once connected.
    public var initialReconnectDelay: Duration
    public var maximumReconnectDelay: Duration
    /// A `urn:xmpp:ping` to the server this often while connected (Jibri's
    /// Smack PingManager: 30 s), so a dead server is found.
    public var pingInterval: Duration

    public init(jid: String, password: String, host: String? = nil, port: Int = 5222,
                trustAllCertificates: Bool = false, caFile: String? = nil,
                initialReconnectDelay: Duration = .seconds(1), maximumReconnectDelay: Duration = .seconds(30),
                pingInterval: Duration = .seconds(30)) {
        self.jid = jid
        self.password = password
        self.host = host
        self.port = port
        self.trustAllCertificates = trustAllCertificates
        self.caFile = caFile
        self.initialReconnectDelay = initialReconnectDelay
        self.maximumReconnectDelay = maximumReconnectDelay
        self.pingInterval = pingInterval
    }

    public var description: String {
        "\(jid) at \(host ?? "(SRV)"):\(port)\(trustAllCertificates ? " (any certificate)" : "")"
    }
}
