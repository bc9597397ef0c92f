import Foundation
import Logging
import Testing
import TestSupport
import XMPPClient

/// libstrophe through XMPPClient against a real prosody (the Jibri guide's
/// configuration) and a slixmpp peer.
@Suite(.tags(.bench), .serialized)
struct XMPPClientTests {
    static let logger = Logger(label: "xmpp-test")

    func client(_ server: ProsodyServer, password: String = ProsodyServer.jibriPassword, trustAll: Bool = false,
                ca: Bool = true) -> XMPPClient {
        XMPPClient(configuration: XMPPClientConfiguration(
            jid: "jibri@auth.\(ProsodyServer.domain)", password: password, host: "127.0.0.1", port: server.port,
            trustAllCertificates: trustAll, caFile: ca ? server.caFile : nil,
            initialReconnectDelay: .milliseconds(200), maximumReconnectDelay: .seconds(1)), logger: Self.logger)
    }

    /// Runs `body` with a client and its state log; closes the client after,
    /// also when `body` throws.
    func withClient(_ server: ProsodyServer, password: String = ProsodyServer.jibriPassword, trustAll: Bool = false,
                    ca: Bool = true, _ body: (XMPPClient, StateLog) async throws -> Void) async throws {
        let client = client(server, password: password, trustAll: trustAll, ca: ca)
        let log = StateLog(client)
        do {
            try await body(client, log)
        } catch {
            await client.close()
            throw error
        }
        await client.close()
    }

    @Test func connectsOverVerifiedTLSAndJoinsTheBrewery() async throws {
        let server = try makeProsody("connect")
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }
        try await withClient(server) { client, log in
        _ = try await log.wait { $0 == .connected }
        let status = XMLElement("jibri-status", namespace: "http://jitsi.org/protocol/jibri", children: [
            XMLElement("busy-status", namespace: "http://jitsi.org/protocol/jibri", attributes: ["status": "idle"]),
            XMLElement("health-status", namespace: "http://jitsi.org/protocol/health", attributes: ["status": "healthy"]),
        ])
        client.setRoomPresence(room: server.breweryJID, nickname: "slot-a", extensions: [status])
        _ = try await log.wait { if case .joined = $0 { true } else { false } }
        let seen = try await player.wait("slot-a's presence") { $0.name == "instance" && ($0["occupant"] ?? "").hasSuffix("/slot-a") }
        #expect(seen["available"] == "1" || seen["available"] == "true")
        await client.close()
        try await player.wait("slot-a leaving") { $0.name == "instance_left" }
        #expect(client.state == .closed)
        }
    }

    @Test func refusesAnUntrustedCertificateUnlessTrustAll() async throws {
        let server = try makeProsody("untrusted")
        try await withClient(server, ca: false) { _, log in
            let failure = try await log.wait { $0.isDisconnectedState }
            guard case .disconnected(.certificateNotTrusted(let jid, let reason)) = failure else {
                Issue.record("expected certificateNotTrusted, got \(failure)")
                return
            }
            #expect(jid == "jibri@auth.\(ProsodyServer.domain)")
            #expect(!reason.isEmpty)
        }
        try await withClient(server, trustAll: true, ca: false) { _, log in
            _ = try await log.wait { $0 == .connected }
        }
    }

    @Test func wrongPasswordIsOneErrorNamingTheLogin() async throws {
        let server = try makeProsody("password")
        let secret = "not-the-password-31337"
        try await withClient(server, password: secret) { client, log in
            let failure = try await log.wait { $0.isDisconnectedState }
            #expect(failure == .disconnected(.authenticationFailed(jid: "jibri@auth.\(ProsodyServer.domain)")))
            let text = "\(failure) \(client.configuration)"
            #expect(text.contains("jibri@auth.\(ProsodyServer.domain)"))
            #expect(!text.contains(secret))
        }
    }

    @Test func reconnectsAfterARestartAndRestoresItsPresence() async throws {
        let server = try makeProsody("restart")
        try await withClient(server) { client, log in
        let busy = XMLElement("jibri-status", namespace: "http://jitsi.org/protocol/jibri", children: [
            XMLElement("busy-status", namespace: "http://jitsi.org/protocol/jibri", attributes: ["status": "busy"]),
            XMLElement("health-status", namespace: "http://jitsi.org/protocol/health", attributes: ["status": "healthy"]),
        ])
        client.setRoomPresence(room: server.breweryJID, nickname: "slot-r", extensions: [busy])
        _ = try await log.wait { if case .joined = $0 { true } else { false } }
        let before = log.count
        server.stop()
        _ = try await log.wait(after: before) { $0.isDisconnectedState }
        try server.start()
        _ = try await log.wait(after: before, within: 30) { if case .joined = $0 { true } else { false } }
        // A Jicofo that joins now sees the presence as it was before the restart.
        let player = try JicofoPlayer(server: server)
        let seen = try await player.wait("slot-r after the restart") { $0.name == "instance" && ($0["occupant"] ?? "").hasSuffix("/slot-r") }
        #expect(seen["busy"] == "busy")
        }
    }
}

extension XMPPClientState {
    var isDisconnectedState: Bool { if case .disconnected = self { true } else { false } }
}

/// Every state of one client, read by one iterator for the client's life
/// (an AsyncStream ends when its iterator goes).
final class StateLog: @unchecked Sendable {
    private let lock = NSLock()
    private var states: [XMPPClientState] = []
    private var reader: Task<Void, Never>?

    init(_ client: XMPPClient) {
        reader = Task { [weak self] in
            for await state in client.states { self?.lock.withLock { self?.states.append(state) } }
        }
    }

    var count: Int { lock.withLock { states.count } }

    /// The first state from `after` on that `matches`, within `seconds`.
    func wait(after: Int = 0, within seconds: Double = 15,
              _ matches: (XMPPClientState) -> Bool) async throws -> XMPPClientState {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let found = lock.withLock({ states.dropFirst(after).first(where: matches) }) { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw FixtureError.failed("no matching state within \(seconds) s; saw \(lock.withLock { states })")
    }
}
