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

    /// The first state that `matches`, within `seconds`.
    func state(_ client: XMPPClient, within seconds: Double = 15,
               _ matches: @escaping @Sendable (XMPPClientState) -> Bool) async throws -> XMPPClientState {
        try await withThrowingTaskGroup(of: XMPPClientState?.self) { group in
            group.addTask {
                for await state in client.states where matches(state) { return state }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw FixtureError.failed("no matching state within \(seconds) s; last: \(client.state)") }
            return first
        }
    }

    @Test func connectsOverVerifiedTLSAndJoinsTheBrewery() async throws {
        let server = try makeProsody("connect")
        let player = try JicofoPlayer(server: server)
        try player.wait("ready") { $0.name == "ready" }
        let client = client(server)
        _ = try await state(client) { $0 == .connected }
        let status = XMLElement("jibri-status", namespace: "http://jitsi.org/protocol/jibri", children: [
            XMLElement("busy-status", namespace: "http://jitsi.org/protocol/jibri", attributes: ["status": "idle"]),
            XMLElement("health-status", namespace: "http://jitsi.org/protocol/health", attributes: ["status": "healthy"]),
        ])
        client.setRoomPresence(room: server.breweryJID, nickname: "slot-a", extensions: [status])
        _ = try await state(client) { if case .joined = $0 { true } else { false } }
        let seen = try player.wait("slot-a's presence") { $0.name == "instance" && ($0["occupant"] ?? "").hasSuffix("/slot-a") }
        #expect(seen["available"] == "1" || seen["available"] == "true")
        await client.close()
        try player.wait("slot-a leaving") { $0.name == "instance_left" }
        #expect(client.state == .closed)
    }

    @Test func refusesAnUntrustedCertificateUnlessTrustAll() async throws {
        let server = try makeProsody("untrusted")
        let refused = client(server, ca: false)
        let failure = try await state(refused) { $0.isDisconnectedState }
        guard case .disconnected(.certificateNotTrusted(let jid, let reason)) = failure else {
            Issue.record("expected certificateNotTrusted, got \(failure)")
            await refused.close()
            return
        }
        #expect(jid == "jibri@auth.\(ProsodyServer.domain)")
        #expect(!reason.isEmpty)
        await refused.close()
        let trusting = client(server, trustAll: true, ca: false)
        _ = try await state(trusting) { $0 == .connected }
        await trusting.close()
    }

    @Test func wrongPasswordIsOneErrorNamingTheLogin() async throws {
        let server = try makeProsody("password")
        let secret = "not-the-password-31337"
        let client = client(server, password: secret)
        let failure = try await state(client) { $0.isDisconnectedState }
        #expect(failure == .disconnected(.authenticationFailed(jid: "jibri@auth.\(ProsodyServer.domain)")))
        let text = "\(failure) \(client.configuration)"
        #expect(text.contains("jibri@auth.\(ProsodyServer.domain)"))
        #expect(!text.contains(secret))
        await client.close()
    }

    @Test func reconnectsAfterARestartAndRestoresItsPresence() async throws {
        let server = try makeProsody("restart")
        let client = client(server)
        let busy = XMLElement("jibri-status", namespace: "http://jitsi.org/protocol/jibri", children: [
            XMLElement("busy-status", namespace: "http://jitsi.org/protocol/jibri", attributes: ["status": "busy"]),
            XMLElement("health-status", namespace: "http://jitsi.org/protocol/health", attributes: ["status": "healthy"]),
        ])
        client.setRoomPresence(room: server.breweryJID, nickname: "slot-r", extensions: [busy])
        _ = try await state(client) { if case .joined = $0 { true } else { false } }
        server.stop()
        _ = try await state(client) { $0.isDisconnectedState }
        try server.start()
        _ = try await state(client, within: 30) { if case .joined = $0 { true } else { false } }
        // A Jicofo that joins now sees the presence as it was before the restart.
        let player = try JicofoPlayer(server: server)
        let seen = try player.wait("slot-r after the restart") { $0.name == "instance" && ($0["occupant"] ?? "").hasSuffix("/slot-r") }
        #expect(seen["busy"] == "busy")
        await client.close()
    }
}

extension XMPPClientState {
    var isDisconnectedState: Bool { if case .disconnected = self { true } else { false } }
}
