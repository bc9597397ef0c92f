import Foundation

/// The configuration file's `jitsi` key: where Jitsi Meet is and how the
/// hidden recorder logs in, as Jibri's `xmpp.environments[].base-url` and
/// `call-login`, and Jibri's `call-status-checks` (jibri
/// `src/main/resources/reference.conf` lines 181-198).
///
/// ```yaml
/// jitsi:
///   baseURL: https://meet.example.org
///   callLogin: {domain: recorder.meet.example.org, username: recorder,
///               passwordFile: /etc/recorderd/recorder.password, randomizeUsername: false}
///   displayName: ""
///   joinTimeoutSeconds: 30
///   legacyLocalStorage: true
///   checks: {intervalSeconds: 15, callEmptySeconds: 30, allMutedSeconds: 600,
///            noMediaSeconds: 180, iceDisconnectedSeconds: 30}
/// ```
public struct JitsiConfiguration: Sendable, Equatable {
    /// `https://meet.example.org` (no trailing slash, query or fragment):
    /// rooms are `baseURL/ROOM`, or `baseURL/TENANT/ROOM`.
    public var baseURL: String?
    /// The hidden recorder's XMPP login (Jibri's `call-login`); nil: none
    /// configured, and a Jitsi request is refused.
    public var callLogin: CallLogin?
    /// Written as localStorage `displayname` (Jibri writes "" when recording).
    public var displayName = ""
    /// How long the page may take to join (Jibri: `WebDriverWait` of 30 s,
    /// `AppCallPage.visit`).
    public var joinTimeoutSeconds = 30.0
    /// Also write the login into the base URL origin's localStorage before
    /// the page loads: how Jibri logged in before #581 (2025-11), for Meet
    /// deployments older than `config.useHostPageLocalStorage`.
    public var legacyLocalStorage = true
    public var checks = JitsiCallChecks.Settings()

    /// Jibri's `call-login {domain, username, password}`, with the password
    /// in a file of its own (one line; a final newline is not part of it).
    public struct CallLogin: Sendable, Equatable {
        /// `recorder.meet.example.org` (Jitsi's `hiddenDomain`).
        public var domain: String
        public var username: String
        public var passwordFile: String
        /// Jibri's `randomize-username`: `USERNAME-` and 8 random characters
        /// from `a-z0-9` for each recording.
        public var randomizeUsername = false

        public init(domain: String, username: String, passwordFile: String, randomizeUsername: Bool = false) {
            self.domain = domain
            self.username = username
            self.passwordFile = passwordFile
            self.randomizeUsername = randomizeUsername
        }
    }

    public init() {}

    /// Reads the `jitsi` object's keys (unknown keys refused).
    mutating func apply(_ reader: inout FieldReader) throws {
        if let value = try reader.string("baseURL") { baseURL = value }
        if var login = try reader.object("callLogin") {
            let domain = try login.string("domain", maxLength: 253)
            let username = try login.string("username", maxLength: 256)
            let passwordFile = try login.string("passwordFile", maxLength: 4096)
            let randomize = try login.bool("randomizeUsername") ?? false
            try login.finish()
            guard let domain, let username, let passwordFile else {
                let missing = domain == nil ? "domain" : username == nil ? "username" : "passwordFile"
                throw FieldError(field: login.name(missing), reason: "required")
            }
            callLogin = CallLogin(domain: domain, username: username, passwordFile: passwordFile, randomizeUsername: randomize)
        }
        if let value = try reader.string("displayName", maxLength: 256) { displayName = value }
        if let value = try reader.double("joinTimeoutSeconds", in: 1...600) { joinTimeoutSeconds = value }
        if let value = try reader.bool("legacyLocalStorage") { legacyLocalStorage = value }
        if var checks = try reader.object("checks") {
            try self.checks.apply(&checks)
            try checks.finish()
        }
    }

    /// Checks the keys together and that the password file can be read;
    /// errors name the key (`jitsi.baseURL`...).
    public func validate() throws {
        if let baseURL { _ = try Self.origin(ofBaseURL: baseURL) }
        if let callLogin {
            guard baseURL != nil else { throw FieldError(field: "jitsi.baseURL", reason: "required with jitsi.callLogin") }
            try JitsiRoom.checkAddressPart(callLogin.domain, field: "jitsi.callLogin.domain")
            try JitsiRoom.checkAddressPart(callLogin.username, field: "jitsi.callLogin.username")
            _ = try password()
        }
    }

    /// The call login's password, read from `passwordFile` now (so that a
    /// rotated file is used by the next recording). Never logged.
    public func password() throws -> String {
        guard let callLogin else { throw FieldError(field: "page.jitsi", reason: "no Jitsi recorder login is configured (jitsi.callLogin)") }
        let text: String
        do {
            text = try String(contentsOfFile: callLogin.passwordFile, encoding: .utf8)
        } catch {
            throw FieldError(field: "jitsi.callLogin.passwordFile", reason: "cannot read \(callLogin.passwordFile)")
        }
        var password = Substring(text)
        while password.last == "\n" || password.last == "\r" { password = password.dropLast() }
        guard !password.isEmpty, !password.contains("\n") else {
            throw FieldError(field: "jitsi.callLogin.passwordFile", reason: "\(callLogin.passwordFile) must hold the password on one line")
        }
        return String(password)
    }

    /// The request decoder's check for `"page": {"jitsi": ...}`: a 400 naming
    /// `page.jitsi` when no recorder login (or no base URL) is configured.
    public func requireRecorderLogin() throws {
        guard callLogin != nil, baseURL != nil else {
            throw FieldError(field: "page.jitsi", reason: "no Jitsi recorder login is configured on this daemon (jitsi.baseURL, jitsi.callLogin)")
        }
    }

    /// `scheme://host[:port]` of `baseURL`; refuses anything but an http(s)
    /// URL with a host and no query, fragment or trailing slash.
    static func origin(ofBaseURL text: String) throws -> String {
        let refuse = { (reason: String) in FieldError(field: "jitsi.baseURL", reason: "'\(text)': \(reason)") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "https" || scheme == "http" else {
            throw refuse("must be an http or https URL")
        }
        guard let host = components.host, !host.isEmpty else { throw refuse("has no host") }
        guard components.query == nil, components.fragment == nil else { throw refuse("must have no query or fragment") }
        guard !text.hasSuffix("/") else { throw refuse("must not end with '/'") }
        guard components.user == nil, components.password == nil else { throw refuse("must carry no user or password") }
        return components.port.map { "\(scheme)://\(host):\($0)" } ?? "\(scheme)://\(host)"
    }
}
