import Foundation
import Logging
@testable import RecorderDaemon
import Synchronization
import Testing
import TestSupport
import XMPPClient

/// Jibri's protocol (`JibriService`) in the brewery of a real prosody, with
/// the Jicofo player (python3-slixmpp, from Jicofo's source) selecting and
/// starting; the recordings are the test host's (`CountingHost`).
@Suite(.tags(.bench), .serialized)
struct JibriProtocolTests {
    static let logger = Logger(label: "jibri-test")

    func configuration(_ server: ProsodyServer, slots: Int, directory: String,
                       password: String = ProsodyServer.jibriPassword) throws -> JibriXMPPConfiguration {
        let passwordFile = "\(directory)/jibri-\(UUID().uuidString.prefix(6)).pass"
        try password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        var configuration = JibriXMPPConfiguration()
        configuration.slots = slots
        configuration.environments = [JibriXMPPConfiguration.Environment(
            name: "bench", serverHosts: ["127.0.0.1:\(server.port)"], xmppDomain: ProsodyServer.domain, baseURL: nil,
            controlMUC: ("internal.auth.\(ProsodyServer.domain)", "JibriBrewery", "recorderd"),
            controlLogin: .init(domain: "auth.\(ProsodyServer.domain)", username: "jibri", passwordFile: passwordFile),
            callLogin: nil, stripFromRoomDomain: "conference.", usageTimeoutMinutes: 0,
            trustAllCertificates: false, caFile: server.caFile)]
        return configuration
    }

    /// Runs `body` with the service running (cancelled and joined after).
    func withService(_ configuration: JibriXMPPConfiguration, host: some JibriRecordingHost,
                     _ body: (JibriService) async throws -> Void) async throws {
        let service = JibriService(configuration: configuration, host: host, logger: Self.logger,
                                   refreshInterval: .milliseconds(500), drainTimeout: .seconds(10))
        let running = Task { try await service.run() }
        do {
            try await body(service)
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
        running.cancel()
        _ = await running.result
    }

    @Test func threeSlotsAreThreeIdleOccupantsAndAFourthStartIsBusy() async throws {
        let server = try makeProsody("slots")
        let host = CountingHost(capacity: 3)
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }
        try await withService(configuration(server, slots: 3, directory: server.directory), host: host) { service in
            // Three occupants, all healthy and idle.
            let deadline = Date().addingTimeInterval(20)
            while player.instances.filter({ $0.value["available"] == "1" }).count < 3, Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            let occupants = player.instances
            #expect(occupants.count == 3, "\(occupants.keys)")
            #expect(occupants.values.allSatisfy { $0["busy"] == "idle" && $0["health"] == "healthy" })

            // Three starts as Jicofo makes them: three different occupants, each pending then on.
            var chosen: Set<String> = []
            for number in 1...3 {
                let mark = player.all.count
                player.send(["cmd": "start", "session_id": "s\(number)", "room": "room\(number)@conference.\(ProsodyServer.domain)",
                             "mode": "file"])
                let reply = try await player.wait("start reply \(number)", after: mark) { $0.name == "start_reply" }
                #expect(reply["status"] == "pending")
                let on = try await player.wait("on \(number)", after: mark) { $0.name == "status" && $0["status"] == "on" }
                #expect(on["session_id"] == "s\(number)")
                chosen.insert(reply["occupant"] ?? "")
                // JibriDetector's 200 ms select timeout, and the presence now busy.
                try await player.wait("busy presence \(number)", after: mark) {
                    $0.name == "instance" && $0["occupant"] == reply["occupant"] && $0["busy"] == "busy"
                }
            }
            #expect(chosen.count == 3)
            #expect(host.started.withLock { $0 } == ["https://\(ProsodyServer.domain)/room1", "https://\(ProsodyServer.domain)/room2",
                                                    "https://\(ProsodyServer.domain)/room3"])
            let status = await service.brewery.status()
            #expect(status.allSatisfy { $0.busy && $0.joined && $0.sessionID != nil })

            // A fourth start, straight to a busy occupant: busy, retry.
            let mark = player.all.count
            player.send(["cmd": "start_to", "occupant": chosen.first!, "session_id": "s4",
                         "room": "room4@conference.\(ProsodyServer.domain)", "mode": "file"])
            let busy = try await player.wait("busy reply", after: mark) { $0.name == "start_reply" }
            #expect(busy["status"] == "off")
            #expect(busy["failure_reason"] == "busy")
            #expect(busy["should_retry"] == "true")
            // And as Jicofo would: no occupant to select.
            player.send(["cmd": "start", "session_id": "s5", "room": "room5@conference.\(ProsodyServer.domain)", "mode": "file"])
            try await player.wait("no jibri", after: mark) { $0.name == "no_jibri" && $0["reason"] == "all_busy" }

            // Stop: off (clean end), the slot idle again.
            let stopMark = player.all.count
            player.send(["cmd": "stop", "session_id": "s2"])
            try await player.wait("off for s2", after: stopMark) { $0.name == "status" && $0["status"] == "off" && $0["session_id"] == "s2" }
            try await player.wait("stop answer", after: stopMark) { $0.name == "stop_reply" && $0["status"] == "off" }
            try await player.wait("an idle occupant again", after: stopMark) { $0.name == "instance" && $0["busy"] == "idle" }
        }
        player.quit()
    }

    @Test func aStartThatCannotRecordIsOffWithErrorAndJibrisRetryFlag() async throws {
        let server = try makeProsody("failing")
        let host = CountingHost(capacity: 2, failWith: .failed("stream refused", retry: false))
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }
        try await withService(configuration(server, slots: 1, directory: server.directory), host: host) { _ in
            try await player.wait("an idle occupant", seconds: 20) { $0.name == "instance" && $0["busy"] == "idle" }
            let mark = player.all.count
            player.send(["cmd": "start", "session_id": "f1", "room": "room1@conference.\(ProsodyServer.domain)",
                         "mode": "stream", "streamid": "abcd-efgh-ijkl"])
            let reply = try await player.wait("start reply", after: mark) { $0.name == "start_reply" }
            #expect(reply["status"] == "pending")
            let off = try await player.wait("off", after: mark) { $0.name == "status" && $0["status"] == "off" }
            #expect(off["failure_reason"] == "error")
            #expect(off["should_retry"] == "false")
            try await player.wait("the session failed, no retry", after: mark) { $0.name == "session_failed" }
            // The YouTube key became the YouTube URL.
            #expect(host.streams.withLock { $0 } == ["rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl"])
        }
        player.quit()
    }
}

/// A recording host that records nothing: it admits `capacity` at once and
/// each "recording" runs until stopped.
final class CountingHost: JibriRecordingHost {
    let capacity: Int
    let failure: JibriStartFailure?
    let started = Mutex<[String]>([])
    let streams = Mutex<[String]>([])
    let running = Mutex(0)

    init(capacity: Int, failWith failure: JibriStartFailure? = nil) {
        self.capacity = capacity
        self.failure = failure
    }

    func jibriCapacity(width: Int, height: Int, fps: Int) async -> JibriCapacity {
        JibriCapacity(more: max(0, capacity - running.withLock { $0 }), healthy: true)
    }

    func startJibriRecording(_ request: JibriRecordingRequest) async throws(JibriStartFailure) -> any JibriRecordingHandle {
        if let stream = request.streamURL { streams.withLock { $0.append(stream) } }
        if let failure { throw failure }
        started.withLock { $0.append(request.meetingURL) }
        running.withLock { $0 += 1 }
        return Handle(host: self)
    }

    final class Handle: JibriRecordingHandle {
        let host: CountingHost
        let stopped = AsyncStream<Void>.makeStream()
        init(host: CountingHost) { self.host = host }
        func stop() { stopped.continuation.finish() }
        func ended() async -> JibriRecordingOutcome {
            for await _ in stopped.stream {}
            host.running.withLock { $0 -= 1 }
            return .finished
        }
    }
}
