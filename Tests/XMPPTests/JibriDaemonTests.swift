import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
@testable import RecorderDaemon
import Testing
import TestSupport

/// recorderd's application in this process with `xmpp` configured, behind a
/// real prosody and the Jicofo player: what the daemon can record today
/// (a private workspace, as the Jibri session's recording) in Jibri's
/// layout, finalized by the script with the session's directory.
@Suite(.tags(.bench), .serialized)
struct JibriDaemonTests {
    /// The file's duration as ffprobe reads it (0 when it cannot).
    static func duration(_ path: String) -> Double {
        guard let probe = try? Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]),
              probe.status == 0 else { return 0 }
        return Double(probe.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// recorderd in process, `slots` Jibri slots at 640x360 behind `server`,
    /// its recordings in `SERVER/recordings`, the finalize script appending
    /// its argument to `SERVER/finalized`.
    static func daemon(_ server: ProsodyServer, slots: Int, cores: Double = 8) async throws -> RecorderdApplication {
        let recordings = "\(server.directory)/recordings"
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let marker = "\(server.directory)/finalized"
        let script = "\(server.directory)/finalize.sh"
        try "#!/bin/sh\necho \"$1\" >> \(marker)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let passwordFile = "\(server.directory)/jibri.pass"
        try ProsodyServer.jibriPassword.write(toFile: passwordFile, atomically: true, encoding: .utf8)

        var configuration = DaemonConfiguration()
        configuration.recordingsDir = recordings
        configuration.shutdownTimeoutSeconds = 20
        configuration.finalizeScript = script
        // Admission judged on a fixed budget, not on this loaded host's cores.
        configuration.cores = cores
        var xmpp = JibriXMPPConfiguration()
        xmpp.slots = slots
        xmpp.width = 640
        xmpp.height = 360
        xmpp.environments = [JibriXMPPConfiguration.Environment(
            name: "bench", serverHosts: ["127.0.0.1:\(server.port)"], xmppDomain: ProsodyServer.domain, baseURL: nil,
            controlMUC: ("internal.auth.\(ProsodyServer.domain)", "JibriBrewery", "recorderd"),
            controlLogin: .init(domain: "auth.\(ProsodyServer.domain)", username: "jibri", passwordFile: passwordFile),
            callLogin: nil, stripFromRoomDomain: "conference.", usageTimeoutMinutes: 0,
            trustAllCertificates: false, caFile: server.caFile)]
        configuration.xmpp = xmpp
        try configuration.validate()
        var logger = Logger(label: "recorderd-jibri-test")
        logger.logLevel = .notice
        let built = try await buildApplication(configuration: configuration, logger: logger, registry: PrometheusCollectorRegistry())
        return try #require(built as Any as? RecorderdApplication)
    }

    @Test func aStartRecordsInJibrisLayoutAndTheFinalizeScriptGetsTheDirectory() async throws {
        let server = try makeProsody("daemon")
        let recordings = "\(server.directory)/recordings"
        let marker = "\(server.directory)/finalized"
        let alsaConfigPath = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"]
        defer {
            if let alsaConfigPath { setenv("ALSA_CONFIG_PATH", alsaConfigPath, 1) } else { unsetenv("ALSA_CONFIG_PATH") }
        }
        let application = try await Self.daemon(server, slots: 2)
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }

        try await application.test(.router) { _ in
            let deadline = Date().addingTimeInterval(30)
            while player.instances.filter({ $0.value["available"] == "1" }).count < 2, Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(player.instances.count == 2)
            let mark = player.all.count
            player.send(["cmd": "start", "session_id": "meeting/1", "room": "room42@conference.\(ProsodyServer.domain)",
                         "mode": "file", "app_data": "{\"file_recording_metadata\":{\"upload\":\"yes\"}}"])
            let sent = try await player.wait("start sent", after: mark) { $0.name == "start_sent" }
            let reply = try await player.wait("start reply", after: mark) { $0.name == "start_reply" }
            #expect(reply["status"] == "pending")
            let on = try await player.wait("on", seconds: 60, after: mark) { $0.name == "status" && $0["status"] == "on" }
            let startToOn = (Double(on["t"] ?? "0") ?? 0) - (Double(sent["t"] ?? "0") ?? 0)
            print("jibri start IQ to on: \(String(format: "%.3f", startToOn)) s")

            // Some media (a second of it, as ffprobe reads the growing file), then Jicofo's stop.
            let directory = "\(recordings)/meeting_1"
            let mediaDeadline = Date().addingTimeInterval(30)
            var mp4: String?
            while Date() < mediaDeadline {
                mp4 = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.first { $0.hasSuffix(".mp4") }
                if let mp4, Self.duration("\(directory)/\(mp4)") >= 1 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            let name = try #require(mp4)
            #expect(name.hasPrefix("room42_"))
            let stopMark = player.all.count
            player.send(["cmd": "stop", "session_id": "meeting/1"])
            try await player.wait("off", seconds: 60, after: stopMark) { $0.name == "status" && $0["status"] == "off" }
            let stopReply = try await player.wait("stop answer", seconds: 60, after: stopMark) { $0.name == "stop_reply" }
            #expect(stopReply["status"] == "off")
            #expect(stopReply["failure_reason"] == nil)

            #expect(Self.duration("\(directory)/\(name)") >= 1)
            let metadata = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/metadata.json")))
                as? [String: Any]
            #expect(metadata?["meeting_url"] as? String == "https://\(ProsodyServer.domain)/room42")
            #expect(metadata?["upload"] as? String == "yes")
            let finalized = try String(contentsOfFile: marker, encoding: .utf8)
            #expect(finalized.split(separator: "\n").map(String.init) == [directory])
            // The slot is idle again.
            try await player.wait("idle again", seconds: 20, after: stopMark) { $0.name == "instance" && $0["busy"] == "idle" }
        }
        player.quit()
    }

    @Test func prosodyRestartedMidRecordingLeavesAWholeFileAndFreshPresence() async throws {
        let server = try makeProsody("restart-daemon")
        let recordings = "\(server.directory)/recordings"
        let marker = "\(server.directory)/finalized"
        let alsaConfigPath = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"]
        defer {
            if let alsaConfigPath { setenv("ALSA_CONFIG_PATH", alsaConfigPath, 1) } else { unsetenv("ALSA_CONFIG_PATH") }
        }
        let application = try await Self.daemon(server, slots: 2)
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }
        try await application.test(.router) { _ in
            try await player.wait("an idle occupant", seconds: 30) { $0.name == "instance" && $0["available"] == "1" }
            let mark = player.all.count
            player.send(["cmd": "start", "session_id": "r1", "room": "room7@conference.\(ProsodyServer.domain)", "mode": "file"])
            try await player.wait("on", seconds: 60, after: mark) { $0.name == "status" && $0["status"] == "on" }
            let directory = "\(recordings)/r1"
            let mediaDeadline = Date().addingTimeInterval(30)
            var mp4: String?
            while Date() < mediaDeadline {
                mp4 = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.first { $0.hasSuffix(".mp4") }
                if let mp4, Self.duration("\(directory)/\(mp4)") >= 1 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            let name = try #require(mp4)
            player.quit()
            server.stop()
            // The recording is stopped (Jicofo gives the meeting to another
            // recorder when the occupant leaves); its file is whole and finalized.
            let finalizeDeadline = Date().addingTimeInterval(60)
            while Date() < finalizeDeadline, (try? String(contentsOfFile: marker, encoding: .utf8)) == nil {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect((try? String(contentsOfFile: marker, encoding: .utf8))?.contains(directory) == true)
            #expect(Self.duration("\(directory)/\(name)") >= 1)
            try server.start()
            // A Jicofo that joins after the restart sees both occupants idle and healthy.
            let after = try JicofoPlayer(server: server, nick: "focus2")
            try await after.wait("ready") { $0.name == "ready" }
            let deadline = Date().addingTimeInterval(40)
            while after.instances.filter({ $0.value["available"] == "1" }).count < 2, Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(after.instances.filter { $0.value["available"] == "1" }.count == 2)
            after.quit()
        }
        player.quit()
    }

    @Test func aSmallCPUBudgetLeavesFewerSlotsIdleThanConfigured() async throws {
        let server = try makeProsody("budget")
        let alsaConfigPath = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"]
        defer {
            if let alsaConfigPath { setenv("ALSA_CONFIG_PATH", alsaConfigPath, 1) } else { unsetenv("ALSA_CONFIG_PATH") }
        }
        // Room for one and a half 640x360 recordings (cpuShare 0.8 of `cores`).
        let one = CostTable.measured.estimate(width: 640, height: 360, fps: 30, preset: DaemonConfiguration().probePreset)
        let application = try await Self.daemon(server, slots: 3, cores: 1.5 * one / 0.8)
        let player = try JicofoPlayer(server: server)
        try await player.wait("ready") { $0.name == "ready" }
        try await application.test(.router) { _ in
            let deadline = Date().addingTimeInterval(30)
            while player.instances.count < 3, Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let instances = player.instances
            #expect(instances.count == 3)
            #expect(instances.values.filter { $0["busy"] == "idle" }.count == 1)
            #expect(instances.values.filter { $0["busy"] == "busy" }.count == 2)
            #expect(instances.values.allSatisfy { $0["health"] == "healthy" })
        }
        player.quit()
    }
}
