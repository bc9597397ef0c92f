import Foundation
import Testing
import TestSupport

/// recorderd as a process behind a real prosody and the Jicofo player: what
/// its signals, `/health`, `/metrics` and log say about the slots.
@Suite(.tags(.bench), .serialized)
struct JibriDaemonProcessTests {
    /// The player's occupants whose latest presence says idle and healthy.
    static func idle(_ player: JicofoPlayer) -> Int {
        player.instances.values.filter { $0["available"] == "1" || $0["available"] == "true" }.count
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }

    @Test func sigtermMakesEverySlotBusyBeforeTheRecordingsOffAndExitsZero() async throws {
        // A start records the Jitsi-like meeting page, as Jibri's would.
        try await JibriDaemonTests.withMeetingPages { pages in
            let server = try makeProsody("sigterm")
            let daemon = try RecorderdProcess(server, name: "daemon", environments: [.init(name: "bench")], slots: 3,
                                              shutdownTimeoutSeconds: 20, pages: pages)
            let player = try JicofoPlayer(server: server)
            try await player.wait("ready") { $0.name == "ready" }
            #expect(try await Self.eventually(30) { Self.idle(player) == 3 }, "\(player.instances)")

            let mark = player.all.count
            player.send(["cmd": "start", "session_id": "term-1", "room": "room9@conference.\(ProsodyServer.domain)", "mode": "file"])
            let on = try await player.wait("on", seconds: 30, after: mark) { $0.name == "status" && $0["status"] == "on" }
            let recorder = try #require(on["occupant"])
            let directory = "\(daemon.recordings)/term-1"
            var mp4: String?
            _ = try await Self.eventually(30) {
                mp4 = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.first { $0.hasSuffix(".mp4") }
                return mp4.map { JibriDaemonTests.duration("\(directory)/\($0)") >= 1 } ?? false
            }
            let name = try #require(mp4)

            // While it records: /health names the session on its slot, /metrics counts the start.
            let health = try #require(try daemon.xmppHealth()["bench"])
            let slots = health["slots"] as? [[String: Any]] ?? []
            #expect(slots.count == 3)
            #expect(slots.filter { $0["sessionId"] as? String == "term-1" && $0["status"] as? String == "busy" }.count == 1)
            #expect(health["healthy"] as? Bool == true)
            #expect(health["login"] as? String == "jibri@auth.\(ProsodyServer.domain)")
            let metrics = try daemon.metrics("recorderd_")
            #expect(metrics.first { $0.key.hasPrefix("recorderd_jibri_starts_total{") }?.value == 1)
            #expect(metrics.filter { $0.key.hasPrefix("recorderd_xmpp_joined{") && $0.value == 1 }.count == 3)
            #expect(metrics.filter { $0.key.hasPrefix("recorderd_jibri_slot_busy{") && $0.value == 1 }.count == 1)
            #expect(!metrics.keys.contains { $0.contains("term-1") }, "no session id as a label")

            // SIGTERM: every occupant busy first, then the recording's `off`.
            let termMark = player.all.count
            let signalled = Date()
            daemon.process.send(SIGTERM, groupWide: false)
            let off = try await player.wait("off", seconds: 30, after: termMark) { $0.name == "status" && $0["status"] == "off" }
            #expect(off["occupant"] == recorder)
            #expect(off["failure_reason"] == nil)
            let events = player.all
            let offIndex = try #require(events.indices.last { events[$0].name == "status" && events[$0]["status"] == "off" })
            var latest: [String: String] = [:]
            for event in events[..<offIndex] where event.name == "instance" {
                latest[event["occupant"] ?? ""] = event["busy"]
            }
            #expect(latest.count == 3)
            #expect(latest.values.allSatisfy { $0 == "busy" }, "presence before off: \(latest)")

            // Exits 0 within the shutdown timeout; the file is whole and finalized.
            #expect(try await Self.eventually(25) { !daemon.process.isRunning })
            let termination = daemon.process.wait()
            #expect(termination.status == 0)
            let seconds = Date().timeIntervalSince(signalled)
            print("jibri SIGTERM to exit: \(String(format: "%.2f", seconds)) s")
            #expect(seconds < 20)
            #expect(JibriDaemonTests.duration("\(directory)/\(name)") >= 1)
            #expect((try? String(contentsOfFile: daemon.finalized, encoding: .utf8))?.contains(directory) == true)
            // The session's log lines carry its id.
            let sessionLines = daemon.log.split(separator: "\n").filter { $0.contains("\"session\":\"term-1\"") }
            #expect(sessionLines.contains { $0.contains("jibri start") })
            #expect(sessionLines.contains { $0.contains("jibri recording on") })
            #expect(sessionLines.contains { $0.contains("jibri recording off") })
            player.quit()
        }
    }

    @Test func aWrongControlPasswordMakesItsEnvironmentUnhealthyAndTheOthersStillJoin() async throws {
        let server = try makeProsody("wrongpass")
        let secret = "wrong-secret-4711"
        let daemon = try RecorderdProcess(server, name: "daemon", environments: [.init(name: "bad", password: secret),
                                                                                 .init(name: "good")], slots: 2)
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }
        // The other environment's slots join and say idle.
        #expect(try await Self.eventually(30) { Self.idle(player) == 2 }, "\(player.instances)")
        #expect(player.instances.keys.allSatisfy { $0.hasSuffix("/good-1") || $0.hasSuffix("/good-2") })

        var environments: [String: [String: Any]] = [:]
        _ = try await Self.eventually(15) {
            environments = try daemon.xmppHealth()
            return environments["bad"]?["error"] != nil && environments["good"]?["healthy"] as? Bool == true
        }
        let bad = try #require(environments["bad"])
        let login = "jibri@auth.\(ProsodyServer.domain)"
        #expect(bad["healthy"] as? Bool == false)
        #expect(bad["login"] as? String == login)
        let error = try #require(bad["error"] as? String)
        #expect(error.contains(login) && error.contains("refused"))
        #expect((bad["slots"] as? [[String: Any]])?.allSatisfy { $0["joined"] as? Bool == false } == true)
        let good = try #require(environments["good"])
        #expect((good["slots"] as? [[String: Any]])?.allSatisfy { $0["joined"] as? Bool == true && $0["status"] as? String == "idle" } == true)

        let metrics = try daemon.metrics("recorderd_xmpp_environment_healthy")
        #expect(metrics.first { $0.key.contains("\"bad\"") }?.value == 0)
        #expect(metrics.first { $0.key.contains("\"good\"") }?.value == 1)
        // One log line naming the environment and the login; the password nowhere.
        let lines = daemon.log.split(separator: "\n").filter { $0.contains("xmpp environment bad") && $0.contains(login) }
        #expect(lines.count == 1, "\(lines)")
        #expect(!daemon.log.contains(secret))
        #expect(try !daemon.get("/health").contains(secret))
        #expect(try !daemon.get("/metrics").contains(secret))
        player.quit()
    }
}
