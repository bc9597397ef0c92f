import Foundation
@testable import RecorderDaemon
import Testing

/// The `jitsi` configuration keys: read, checked, each error naming its key.
@Suite struct JitsiConfigurationTests {
    /// The configuration file `yaml`, read as recorderd reads `--config`.
    static func decode(_ yaml: String) throws -> DaemonConfiguration {
        let path = NSTemporaryDirectory() + "recorderd-\(UUID().uuidString.prefix(8)).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var configuration = DaemonConfiguration()
        try configuration.load(file: path)
        return configuration
    }

    /// `body` with a password file holding `password`.
    static func withPasswordFile<T>(_ password: String, _ body: (String) throws -> T) throws -> T {
        let path = NSTemporaryDirectory() + "jitsi-password-\(UUID().uuidString.prefix(8))"
        try password.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    static func fieldName(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return (error as? FieldError)?.field ?? "\(error)"
        }
    }

    @Test func everyKeyIsRead() throws {
        let configuration = try Self.decode("""
            jitsi:
              baseURL: https://meet.example.org
              callLogin: {domain: recorder.meet.example.org, username: recorder, passwordFile: /etc/p, randomizeUsername: true}
              displayName: Recorder
              joinTimeoutSeconds: 12
              legacyLocalStorage: false
              checks: {intervalSeconds: 1.5, callEmptySeconds: 2, allMutedSeconds: 3, noMediaSeconds: 4,
                       iceDisconnectedSeconds: 5, evaluateTimeoutSeconds: 6}
            """)
        let jitsi = configuration.jitsi
        #expect(jitsi.baseURL == "https://meet.example.org")
        #expect(jitsi.callLogin == .init(domain: "recorder.meet.example.org", username: "recorder", passwordFile: "/etc/p", randomizeUsername: true))
        #expect(jitsi.displayName == "Recorder")
        #expect(jitsi.joinTimeoutSeconds == 12)
        #expect(!jitsi.legacyLocalStorage)
        #expect(jitsi.checks.interval == .milliseconds(1500))
        #expect(jitsi.checks.callEmptyTimeout == .seconds(2))
        #expect(jitsi.checks.allMutedTimeout == .seconds(3))
        #expect(jitsi.checks.noMediaTimeout == .seconds(4))
        #expect(jitsi.checks.iceConnectionTimeout == .seconds(5))
        #expect(jitsi.checks.evaluateTimeout == .seconds(6))
    }

    @Test func theDefaultsAreJibris() {
        let jitsi = DaemonConfiguration().jitsi
        #expect(jitsi.callLogin == nil)
        #expect(jitsi.joinTimeoutSeconds == 30)
        #expect(jitsi.checks.interval == .seconds(15))
        #expect(jitsi.checks.callEmptyTimeout == .seconds(30))
        #expect(jitsi.checks.allMutedTimeout == .seconds(600))
        #expect(jitsi.checks.noMediaTimeout == .seconds(180))
        #expect(jitsi.checks.iceConnectionTimeout == .seconds(30))
    }

    @Test func badKeysAreNamed() {
        #expect(Self.fieldName { _ = try Self.decode("jitsi: {bogus: 1}") } == "jitsi.bogus")
        #expect(Self.fieldName { _ = try Self.decode("jitsi: {callLogin: {domain: d, username: u, passwordFile: f, extra: 1}}") } == "jitsi.callLogin.extra")
        #expect(Self.fieldName { _ = try Self.decode("jitsi: {callLogin: {domain: d, username: u}}") } == "jitsi.callLogin.passwordFile")
        #expect(Self.fieldName { _ = try Self.decode("jitsi: {joinTimeoutSeconds: 0}") } == "jitsi.joinTimeoutSeconds")
        #expect(Self.fieldName { _ = try Self.decode("jitsi: {checks: {noMediaSeconds: -1}}") } == "jitsi.checks.noMediaSeconds")
        #expect(Self.fieldName { _ = try Self.decode("jitsi: {checks: {later: 1}}") } == "jitsi.checks.later")
    }

    @Test func validationChecksTheURLTheAddressAndThePasswordFile() throws {
        func validate(_ change: (inout JitsiConfiguration) -> Void) -> String? {
            var jitsi = JitsiConfiguration()
            jitsi.baseURL = "https://meet.example.org"
            jitsi.callLogin = .init(domain: "recorder.meet.example.org", username: "recorder", passwordFile: "/nonexistent/password")
            change(&jitsi)
            return Self.fieldName { try jitsi.validate() }
        }
        #expect(validate { _ in } == "jitsi.callLogin.passwordFile")
        try Self.withPasswordFile("secret\n") { path throws in
            #expect(validate { $0.callLogin?.passwordFile = path } == nil)
            #expect(validate { $0.callLogin?.passwordFile = path; $0.baseURL = "https://meet.example.org/" } == "jitsi.baseURL")
            #expect(validate { $0.callLogin?.passwordFile = path; $0.baseURL = "ftp://meet.example.org" } == "jitsi.baseURL")
            #expect(validate { $0.callLogin?.passwordFile = path; $0.baseURL = "https://meet.example.org/#x" } == "jitsi.baseURL")
            #expect(validate { $0.callLogin?.passwordFile = path; $0.baseURL = nil } == "jitsi.baseURL")
            #expect(validate { $0.callLogin?.passwordFile = path; $0.callLogin?.username = "rec order" } == "jitsi.callLogin.username")
            #expect(validate { $0.callLogin?.passwordFile = path; $0.callLogin?.domain = "a@b" } == "jitsi.callLogin.domain")
        }
        try Self.withPasswordFile("") { path throws in
            #expect(validate { $0.callLogin?.passwordFile = path } == "jitsi.callLogin.passwordFile")
        }
    }

    @Test func thePasswordIsTheFilesLineAndNeverInAnError() throws {
        try Self.withPasswordFile("s3cr3t\n") { path throws in
            var jitsi = JitsiConfiguration()
            jitsi.baseURL = "https://meet.example.org"
            jitsi.callLogin = .init(domain: "d", username: "u", passwordFile: path)
            #expect(try jitsi.password() == "s3cr3t")
        }
        try Self.withPasswordFile("two\nlines\n") { path throws in
            var jitsi = JitsiConfiguration()
            jitsi.callLogin = .init(domain: "d", username: "u", passwordFile: path)
            #expect { try jitsi.password() } throws: { !"\($0)".contains("two") && !"\($0)".contains("lines\n") }
        }
    }

    @Test func aJitsiRequestWithoutARecorderLoginNamesPageJitsi() throws {
        #expect(Self.fieldName { try JitsiConfiguration().requireRecorderLogin() } == "page.jitsi")
        var onlyURL = JitsiConfiguration()
        onlyURL.baseURL = "https://meet.example.org"
        #expect(Self.fieldName { try onlyURL.requireRecorderLogin() } == "page.jitsi")
        var configured = onlyURL
        configured.callLogin = .init(domain: "d", username: "u", passwordFile: "/p")
        #expect(Self.fieldName { try configured.requireRecorderLogin() } == nil)
    }
}
