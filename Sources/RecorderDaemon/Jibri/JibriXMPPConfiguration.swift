import Foundation

/// The daemon as Jicofo's recorders (configuration key `xmpp`): `slots`
/// recorders per environment, each environment named and shaped as
/// jibri.conf's `jibri.xmpp.environments` entries are (the same keys), except
/// that passwords are read from files (`password-file`), never written in
/// the configuration.
///
/// ```yaml
/// xmpp:
///   slots: 3
///   streamURLTemplate: "rtmp://a.rtmp.youtube.com/live2/{key}"   # a streamid that is no rtmp(s) URL
///   environments:
///     - name: prod
///       xmpp-server-hosts: ["xmpp.example.org"]      # host or host:port
///       xmpp-domain: meet.example.org
///       control-muc: {domain: internal.auth.meet.example.org, room-name: JibriBrewery, nickname: recorderd}
///       control-login: {domain: auth.meet.example.org, username: jibri, password-file: /etc/recorderd/jibri.pass}
///       call-login: {domain: recorder.meet.example.org, username: recorder, password-file: /etc/recorderd/recorder.pass}
///       strip-from-room-domain: "conference."
///       usage-timeout: 0                              # minutes, 0: none
///       trust-all-xmpp-certs: false
/// ```
public struct JibriXMPPConfiguration: Sendable {
    /// Recorders each environment's brewery sees (one XMPP connection each).
    public var slots = 1
    public var environments: [Environment] = []
    /// The size a Jibri page recording is admitted at (Jibri's 1920x1080).
    public var width = 1920
    public var height = 1080
    public var fps = 30
    /// Where a stream mode's `streamid` goes when it is a key, not an
    /// `rtmp(s)://` URL: `{key}` is replaced by it. Jibri's is YouTube's
    /// (`JibriMeeting.defaultStreamURLTemplate`); the URL still has to
    /// pass the stream allow-list.
    public var streamURLTemplate = JibriMeeting.defaultStreamURLTemplate

    public struct Login: Sendable {
        public var domain: String
        public var username: String
        /// A file holding the password (its first line).
        public var passwordFile: String
        /// The client port (jibri.conf's `control-login.port`, 5222).
        public var port: Int?

        /// `username@domain`.
        public var jid: String { "\(username)@\(domain)" }

        /// The password, read from `passwordFile` now.
        func password() throws -> String {
            let text = try String(contentsOfFile: passwordFile, encoding: .utf8)
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
    }

    public struct Environment: Sendable {
        public var name: String
        /// `host` or `host:port` (jibri.conf's `xmpp-server-hosts`).
        public var serverHosts: [String]
        public var xmppDomain: String
        /// Meeting URL base; default `https://XMPP-DOMAIN`.
        public var baseURL: String?
        public var controlMUC: (domain: String, roomName: String, nickname: String)
        public var controlLogin: Login
        public var callLogin: Login?
        public var stripFromRoomDomain: String
        /// Minutes; 0: no limit.
        public var usageTimeoutMinutes: Int
        public var trustAllCertificates: Bool
        /// Extra CA file (PEM) the server's certificate may chain to.
        public var caFile: String?

        /// The brewery's room JID, `room-name@domain`.
        public var breweryJID: String { "\(controlMUC.roomName)@\(controlMUC.domain)" }

        /// `(host, port)` of each `xmpp-server-hosts` entry.
        var servers: [(host: String, port: Int)] {
            serverHosts.map { entry in
                if let colon = entry.lastIndex(of: ":"), let port = Int(entry[entry.index(after: colon)...]) {
                    return (String(entry[..<colon]), port)
                }
                return (entry, controlLogin.port ?? 5222)
            }
        }
    }

    public init() {}

    /// Checks what decoding cannot: password files readable, names unique.
    public func validate() throws {
        var names = Set<String>()
        for (index, environment) in environments.enumerated() {
            let path = "xmpp.environments[\(index)]"
            guard names.insert(environment.name).inserted else {
                throw FieldError(field: "\(path).name", reason: "'\(environment.name)' is used twice")
            }
            for (key, login) in [("control-login", environment.controlLogin), ("call-login", environment.callLogin)] {
                guard let login else { continue }
                guard access(login.passwordFile, R_OK) == 0 else {
                    throw FieldError(field: "\(path).\(key).password-file", reason: "\(login.passwordFile) is not readable")
                }
            }
        }
    }
}

extension JibriXMPPConfiguration: Decodable {
    public init(from decoder: any Decoder) throws {
        self.init()
        var reader = try FieldReader(decoder, path: "xmpp")
        if let value = try reader.int("slots", in: 1...64) { slots = value }
        if let value = try reader.int("width", in: 16...8192) { width = value }
        if let value = try reader.int("height", in: 16...8192) { height = value }
        if let value = try reader.int("fps", in: 1...60) { fps = value }
        if let value = try reader.string("streamURLTemplate", maxLength: 2048) {
            let lower = value.lowercased()
            guard value.contains("{key}"), lower.hasPrefix("rtmp://") || lower.hasPrefix("rtmps://") else {
                throw FieldError(field: reader.name("streamURLTemplate"),
                                 reason: "'\(value)' must be an rtmp:// or rtmps:// URL holding {key}")
            }
            streamURLTemplate = value
        }
        if reader.has("environments") {
            _ = reader.value("environments")
            var list = try reader.decode([Environment].self, "environments")
            for index in list.indices where list[index].name.isEmpty { list[index].name = "environment\(index)" }
            environments = list
        }
        try reader.finish()
    }
}

extension JibriXMPPConfiguration.Login {
    init(_ reader: inout FieldReader, password required: Bool) throws {
        guard let domain = try reader.string("domain") else { throw FieldError(field: reader.name("domain"), reason: "required") }
        guard let username = try reader.string("username") else {
            throw FieldError(field: reader.name("username"), reason: "required")
        }
        guard let passwordFile = try reader.string("password-file") else {
            throw FieldError(field: reader.name("password-file"),
                             reason: "required (a file holding the password; 'password' itself is not read from here)")
        }
        self.init(domain: domain, username: username, passwordFile: passwordFile,
                  port: try reader.int("port", in: 1...65_535))
        try reader.finish()
    }
}

extension JibriXMPPConfiguration.Environment: Decodable {
    public init(from decoder: any Decoder) throws {
        let index = decoder.codingPath.last?.intValue ?? 0
        var reader = try FieldReader(decoder, path: "xmpp.environments[\(index)]")
        func required<T>(_ key: String, _ value: T?) throws -> T {
            guard let value else { throw FieldError(field: reader.name(key), reason: "required") }
            return value
        }
        name = try reader.string("name") ?? ""
        serverHosts = try required("xmpp-server-hosts", try reader.strings("xmpp-server-hosts", maxCount: 16))
        guard !serverHosts.isEmpty else { throw FieldError(field: reader.name("xmpp-server-hosts"), reason: "needs at least one host") }
        xmppDomain = try required("xmpp-domain", try reader.string("xmpp-domain"))
        baseURL = try reader.string("base-url")
        guard var muc = try reader.object("control-muc") else { throw FieldError(field: reader.name("control-muc"), reason: "required") }
        let mucDomain = try muc.string("domain"), roomName = try muc.string("room-name"), nickname = try muc.string("nickname")
        guard let mucDomain, let roomName, let nickname else {
            throw FieldError(field: reader.name("control-muc"), reason: "needs domain, room-name and nickname")
        }
        try muc.finish()
        controlMUC = (mucDomain, roomName, nickname)
        guard var control = try reader.object("control-login") else {
            throw FieldError(field: reader.name("control-login"), reason: "required")
        }
        controlLogin = try JibriXMPPConfiguration.Login(&control, password: true)
        if var call = try reader.object("call-login") {
            callLogin = try JibriXMPPConfiguration.Login(&call, password: true)
        } else {
            callLogin = nil
        }
        stripFromRoomDomain = try reader.string("strip-from-room-domain") ?? ""
        usageTimeoutMinutes = try reader.int("usage-timeout", in: 0...100_000) ?? 0
        // Required in jibri.conf; here it defaults to verifying.
        trustAllCertificates = try reader.bool("trust-all-xmpp-certs") ?? false
        caFile = try reader.string("ca-file")
        try reader.finish()
    }
}
