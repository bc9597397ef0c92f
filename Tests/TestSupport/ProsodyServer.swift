import Foundation

/// Debian's prosody on loopback, in a private directory, configured as the
/// Jibri guide configures a Jitsi deployment for Jibri (jibri README,
/// "Configuring a Jitsi Meet environment for Jibri"): the internal MUC
/// component `internal.auth.DOMAIN` (ping, memory storage), the
/// `recorder.DOMAIN` virtual host (internal_hashed), `auth.DOMAIN`, the
/// `conference.DOMAIN` MUC, and the accounts `jibri@auth.DOMAIN`,
/// `recorder@recorder.DOMAIN` and `focus@auth.DOMAIN` (the Jicofo player)
/// registered with `prosodyctl --config ... register`. TLS (STARTTLS,
/// required) with a certificate for all those names, signed by a CA made
/// here with openssl (`caFile`). Runs as root when the tests do
/// (`run_as_root`), on a free port; `stop()` and `start()` restart it on the
/// same port; deinit stops it.
public final class ProsodyServer: @unchecked Sendable {
    public static let domain = "meet.test"
    public static let jibriPassword = "jibriauthpass"
    public static let recorderPassword = "jibrirecorderpass"
    public static let focusPassword = "focusauthpass"

    public let directory: String
    public let port: Int
    public var caFile: String { "\(directory)/ca.pem" }
    public var configFile: String { "\(directory)/prosody.cfg.lua" }
    public var breweryJID: String { "JibriBrewery@internal.auth.\(Self.domain)" }
    private var process: ChildProcess?

    public init(directory: String) throws {
        self.directory = directory
        for tool in ["prosody", "prosodyctl", "openssl"] where !Self.onPath(tool) {
            throw FixtureError.failed("\(tool) is not installed (scripts/setup installs prosody and openssl)")
        }
        port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: "\(directory)/data", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(directory)/certs", withIntermediateDirectories: true)
        try makeCertificates()
        try configuration().write(toFile: configFile, atomically: true, encoding: .utf8)
        try register("jibri", "auth.\(Self.domain)", Self.jibriPassword)
        try register("recorder", "recorder.\(Self.domain)", Self.recorderPassword)
        try register("focus", "auth.\(Self.domain)", Self.focusPassword)
        try start()
    }

    deinit { stop() }

    public func start() throws {
        precondition(process == nil)
        process = try ChildProcess(["prosody", "--config", configFile, "-F"],
                                   standardOutput: .file("\(directory)/stdout.log"),
                                   standardError: .file("\(directory)/stderr.log"))
        guard waitForListener(port: port, seconds: 15) else {
            let log = (try? String(contentsOfFile: "\(directory)/prosody.log", encoding: .utf8)) ?? ""
            stop()
            throw FixtureError.failed("prosody did not listen on \(port): \(log.suffix(800))")
        }
    }

    public func stop() {
        guard let process else { return }
        process.send(SIGTERM)
        if process.wait(timeout: 10) == nil {
            process.send(SIGKILL)
            process.wait()
        }
        self.process = nil
    }

    /// Registers (or re-registers with a new password) an account.
    public func register(_ user: String, _ host: String, _ password: String) throws {
        let result = try Subprocess.run(["prosodyctl", "--config", configFile, "register", user, host, password])
        guard result.status == 0 else {
            throw FixtureError.failed("prosodyctl register \(user)@\(host) failed: \(result.standardError)")
        }
    }

    private func makeCertificates() throws {
        let d = Self.domain
        let names = [d, "auth.\(d)", "recorder.\(d)", "internal.auth.\(d)", "conference.\(d)"]
        try "subjectAltName=\(names.map { "DNS:\($0)" }.joined(separator: ","))\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: "\(directory)/server.ext", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/ca.key", "-out", caFile,
             "-days", "2", "-subj", "/CN=recorderd test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign"],
            ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/server.key",
             "-out", "\(directory)/server.csr", "-subj", "/CN=\(d)"],
            ["openssl", "x509", "-req", "-in", "\(directory)/server.csr", "-CA", caFile, "-CAkey", "\(directory)/ca.key",
             "-CAcreateserial", "-out", "\(directory)/server.pem", "-days", "2", "-extfile", "\(directory)/server.ext"],
        ]
        for step in steps {
            let result = try Subprocess.run(step)
            guard result.status == 0 else { throw FixtureError.failed("\(step.prefix(3).joined(separator: " ")): \(result.standardError)") }
        }
        // prosody runs as root here but reads its key as any user would.
        chmod("\(directory)/server.key", 0o644)
    }

    private func configuration() -> String {
        let d = Self.domain
        return """
            -- The test's prosody: the Jibri guide's components, loopback only.
            run_as_root = true
            pidfile = "\(directory)/prosody.pid"
            data_path = "\(directory)/data"
            certificates = "\(directory)/certs"
            log = { { levels = { min = "info" }, to = "file", filename = "\(directory)/prosody.log" } }
            modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix" }
            modules_disabled = { "s2s" }
            c2s_ports = { \(port) }
            c2s_interfaces = { "127.0.0.1" }
            s2s_ports = { }
            component_ports = { }
            http_ports = { }
            https_ports = { }
            c2s_require_encryption = true
            authentication = "internal_hashed"
            storage = "internal"
            ssl = { certificate = "\(directory)/server.pem"; key = "\(directory)/server.key" }
            VirtualHost "\(d)"
            VirtualHost "auth.\(d)"
            -- internal muc component, meant to enable pools of jibri and jigasi clients
            Component "internal.auth.\(d)" "muc"
                modules_enabled = { "ping"; }
                storage = "memory"
                muc_room_cache_size = 1000
            VirtualHost "recorder.\(d)"
                modules_enabled = { "ping"; }
                authentication = "internal_hashed"
            Component "conference.\(d)" "muc"

            """
    }

    private static func onPath(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }
}
