import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
@testable import RecorderDaemon
import Testing
import TestSupport

/// recorderd's application in this process with `xmpp` configured, behind a
/// real prosody and the Jicofo player, the meetings being the Jitsi-like
/// page (`Tests/Pages/jitsi-like/index.html`) served by the test at every
/// room's URL: a start records the page as Jibri joins it, in Jibri's
/// layout, finalized by the script with the session's directory.
@Suite(.tags(.bench), .serialized)
struct JibriDaemonTests {
    /// The file's duration as ffprobe reads it (0 when it cannot).
    static func duration(_ path: String) -> Double {
        guard let probe = try? Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]),
              probe.status == 0 else { return 0 }
        return Double(probe.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// The participants of a meeting page that does not say otherwise.
    static let alice = JitsiLikePage.participant("alice", "Alice")
    static let bob = JitsiLikePage.participant("bob", "Bob")

    /// Serves the Jitsi-like page at every path (`rooms[NAME]` at `/NAME`
    /// when given, else the page with Alice and Bob in it), and the files
    /// of the directory `files` under `/files/` (with ranges, as a video
    /// element asks), and runs `body` with the server's base URL.
    static func withMeetingPages(_ rooms: [String: String] = [:], files: String? = nil,
                                 _ body: @Sendable (String) async throws -> Void) async throws {
        let standard = try JitsiLikePage.html(controls: ["participants": "[\(alice), \(bob)]"])
        let router = Router()
        if let files { router.middlewares.add(FileMiddleware(files, urlBasePath: "/files")) }
        router.get("**") { request, _ in
            // Not found here: the file middleware answers.
            if files != nil, request.uri.path.hasPrefix("/files/") { throw HTTPError(.notFound) }
            let room = String(request.uri.path.split(separator: "/").last ?? "")
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: rooms[room] ?? standard)))
        }
        let pages = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await pages.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))")
        }
    }

    /// Every Jibri test's scene: the meeting pages served (`withMeetingPages`),
    /// the Jicofo player in the brewery of `server`, ready; `body` with the
    /// pages' base URL and the player (which quits after it). ALSA_CONFIG_PATH
    /// is restored afterwards (an in-process daemon's workspaces set it).
    static func withJicofo(_ server: ProsodyServer, rooms: [String: String] = [:], files: String? = nil,
                           _ body: @Sendable (_ pages: String, _ player: JicofoPlayer) async throws -> Void) async throws {
        let alsaConfigPath = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"]
        defer {
            if let alsaConfigPath { setenv("ALSA_CONFIG_PATH", alsaConfigPath, 1) } else { unsetenv("ALSA_CONFIG_PATH") }
        }
        try await withMeetingPages(rooms, files: files) { pages in
            let player = try JicofoPlayer(server: server)
            defer { player.quit() }
            try await player.wait("ready") { $0.name == "ready" }
            try await body(pages, player)
        }
    }

    /// recorderd in process, `slots` Jibri slots at 640x360 behind `server`,
    /// the meetings at `pages` (the environment's base-url) joined with the
    /// recorder login, a join deadline of `joinTimeout` and a 2 s call-empty
    /// check; its recordings in `SERVER/recordings`, the finalize script
    /// appending its argument to `SERVER/finalized`.
    static func daemon(_ server: ProsodyServer, slots: Int, cores: Double = 8, pages: String, joinTimeout: Double = 40,
                       streamAllowList: [String] = [], streamURLTemplate: String? = nil) async throws -> RecorderdApplication {
        let recordings = "\(server.directory)/recordings"
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        let marker = "\(server.directory)/finalized"
        let script = "\(server.directory)/finalize.sh"
        try "#!/bin/sh\necho \"$1\" >> \(marker)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let passwordFile = "\(server.directory)/jibri.pass"
        try ProsodyServer.jibriPassword.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let recorderPasswordFile = "\(server.directory)/recorder.pass"
        try ProsodyServer.recorderPassword.write(toFile: recorderPasswordFile, atomically: true, encoding: .utf8)

        var configuration = DaemonConfiguration()
        configuration.recordingsDir = recordings
        configuration.shutdownTimeoutSeconds = 20
        configuration.finalizeScript = script
        // Admission judged on a fixed budget, not on this loaded host's cores.
        configuration.cores = cores
        configuration.browserNoSandbox = geteuid() == 0
        configuration.streamAllowList = streamAllowList
        configuration.jitsi.joinTimeoutSeconds = joinTimeout
        configuration.jitsi.checks.interval = .seconds(1)
        configuration.jitsi.checks.callEmptyTimeout = .seconds(2)
        configuration.jitsi.checks.evaluateTimeout = .seconds(5)
        var xmpp = JibriXMPPConfiguration()
        xmpp.slots = slots
        xmpp.width = 640
        xmpp.height = 360
        if let streamURLTemplate { xmpp.streamURLTemplate = streamURLTemplate }
        xmpp.environments = [JibriXMPPConfiguration.Environment(
            name: "bench", serverHosts: ["127.0.0.1:\(server.port)"], xmppDomain: ProsodyServer.domain, baseURL: pages,
            controlMUC: ("internal.auth.\(ProsodyServer.domain)", "JibriBrewery", "recorderd"),
            controlLogin: .init(domain: "auth.\(ProsodyServer.domain)", username: "jibri", passwordFile: passwordFile),
            callLogin: .init(domain: "recorder.\(ProsodyServer.domain)", username: "recorder", passwordFile: recorderPasswordFile),
            stripFromRoomDomain: "conference.", usageTimeoutMinutes: 0,
            trustAllCertificates: false, caFile: server.caFile)]
        configuration.xmpp = xmpp
        try configuration.validate()
        var logger = Logger(label: "recorderd-jibri-test")
        logger.logLevel = .notice
        let built = try await buildApplication(configuration: configuration, logger: logger, registry: PrometheusCollectorRegistry())
        return try #require(built as Any as? RecorderdApplication)
    }

    /// Waits until the MP4 in `directory` holds `seconds` of media; its name.
    static func media(in directory: String, seconds: Double, within: Double = 40) async throws -> String {
        let deadline = Date().addingTimeInterval(within)
        var mp4: String?
        while Date() < deadline {
            mp4 = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.first { $0.hasSuffix(".mp4") }
            if let mp4, duration("\(directory)/\(mp4)") >= seconds { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        return try #require(mp4, "no MP4 in \(directory)")
    }

    /// True when the frame at `time` of `path` shows the page's background at
    /// the bottom right (away from its text), within the encoder's error.
    static func showsThePage(_ path: String, at time: Double, width: Int = 640, height: Int = 360) throws -> Bool {
        let rgb = try MediaProbe.decodeFrameRGB(path, at: time)
        guard rgb.count == width * height * 3 else { return false }
        let offset = ((height - 20) * width + (width - 20)) * 3
        let expected = JitsiLikePage.background
        return abs(Int(rgb[offset]) - Int(expected.red)) <= 12 && abs(Int(rgb[offset + 1]) - Int(expected.green)) <= 12
            && abs(Int(rgb[offset + 2]) - Int(expected.blue)) <= 12
    }

    static func metadata(_ directory: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/metadata.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The identities' user ids in a metadata.json's `participants`.
    static func participantIDs(_ metadata: [String: Any]) -> [String] {
        ((metadata["participants"] as? [[String: Any]]) ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String }.sorted()
    }

    @Test func threeStartsRecordThreeMeetingPagesInJibrisLayout() async throws {
        let server = try makeProsody("daemon")
        let recordings = "\(server.directory)/recordings"
        let marker = "\(server.directory)/finalized"
        try await Self.withJicofo(server) { pages, player in
            let application = try await Self.daemon(server, slots: 3, pages: pages)
            try await application.test(.router) { client in
                try await player.waitAvailable(3)
                #expect(player.instances.count == 3)
                // Three starts in a row, each answered pending by another occupant.
                var occupants: [String] = []
                var sentAt: [String: Double] = [:]
                for meeting in 1...3 {
                    let mark = player.all.count
                    player.send(["cmd": "start", "session_id": "meeting/\(meeting)", "room": "room\(meeting)@conference.\(ProsodyServer.domain)",
                                 "mode": "file", "app_data": "{\"file_recording_metadata\":{\"upload\":\"yes-\(meeting)\"}}"])
                    let sent = try await player.wait("start sent", after: mark) { $0.name == "start_sent" }
                    let reply = try await player.wait("pending", after: mark) {
                        $0.name == "start_reply" && $0["session_id"] == "meeting/\(meeting)" && $0["status"] == "pending"
                    }
                    occupants.append(reply["occupant"] ?? "")
                    sentAt["meeting/\(meeting)"] = Double(sent["t"] ?? "0") ?? 0
                    // The occupant says busy before the next start (Jicofo picks idle ones).
                    try await player.wait("busy presence", seconds: 10, after: mark) {
                        $0.name == "instance" && $0["occupant"] == reply["occupant"] && $0["busy"] == "busy"
                    }
                }
                #expect(Set(occupants).count == 3, "\(occupants)")
                for meeting in 1...3 {
                    let on = try await player.wait("on", seconds: 120) {
                        $0.name == "status" && $0["status"] == "on" && $0["session_id"] == "meeting/\(meeting)"
                    }
                    let startToOn = (Double(on["t"] ?? "0") ?? 0) - (sentAt["meeting/\(meeting)"] ?? 0)
                    print("jibri start IQ to on (meeting \(meeting) of 3): \(String(format: "%.3f", startToOn)) s")
                }
                #expect(player.instances.values.filter { $0["busy"] == "busy" }.count == 3)

                var names: [String: String] = [:]
                for meeting in 1...3 {
                    names["meeting_\(meeting)"] = try await Self.media(in: "\(recordings)/meeting_\(meeting)", seconds: 2)
                    // metadata.json is there while it records (what a crash leaves has one).
                    let early = try Self.metadata("\(recordings)/meeting_\(meeting)")
                    #expect(early["meeting_url"] as? String == "\(pages)/room\(meeting)")
                    #expect(early["upload"] as? String == "yes-\(meeting)")
                }
                // What the daemon answers and logs carries no call password.
                let listed = try await client.execute(uri: "/v1/recordings", method: .get)
                #expect(!String(buffer: listed.body).contains(ProsodyServer.recorderPassword))
                for meeting in 1...3 {
                    let mark = player.all.count
                    player.send(["cmd": "stop", "session_id": "meeting/\(meeting)"])
                    try await player.wait("off", seconds: 60, after: mark) {
                        $0.name == "status" && $0["status"] == "off" && $0["session_id"] == "meeting/\(meeting)"
                    }
                    let stopReply = try await player.wait("stop answer", seconds: 60, after: mark) {
                        $0.name == "stop_reply" && $0["session_id"] == "meeting/\(meeting)"
                    }
                    #expect(stopReply["status"] == "off")
                    #expect(stopReply["failure_reason"] == nil)
                }
                for meeting in 1...3 {
                    let directory = "\(recordings)/meeting_\(meeting)"
                    let name = try #require(names["meeting_\(meeting)"])
                    #expect(name.hasPrefix("room\(meeting)_"))
                    #expect(Self.duration("\(directory)/\(name)") >= 2)
                    #expect(try Self.showsThePage("\(directory)/\(name)", at: 1), "\(directory)/\(name) does not show the page")
                    let metadata = try Self.metadata(directory)
                    #expect(metadata["meeting_url"] as? String == "\(pages)/room\(meeting)")
                    #expect(metadata["upload"] as? String == "yes-\(meeting)")
                    #expect(Self.participantIDs(metadata) == ["alice-id", "bob-id"], "\(metadata)")
                }
                // The finalize script ran once for each directory.
                let finalized = try String(contentsOfFile: marker, encoding: .utf8).split(separator: "\n").map(String.init)
                #expect(finalized.sorted() == (1...3).map { "\(recordings)/meeting_\($0)" }, "\(finalized)")
                // The slots are idle again.
                let idleDeadline = Date().addingTimeInterval(20)
                while player.instances.values.filter({ $0["busy"] == "idle" }).count < 3, Date() < idleDeadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(player.instances.values.filter { $0["busy"] == "idle" }.count == 3)
            }
        }
    }

    /// The last participant leaving ends one session (`off`, no error, the
    /// slot idle again, the file and metadata.json there); a room that never
    /// joins is `off` with `error` and retry after the join deadline.
    @Test func theMeetingEndsASessionAndARoomNeverJoinedIsAnErrorWithRetry() async throws {
        let server = try makeProsody("meeting-ends")
        let recordings = "\(server.directory)/recordings"
        let rooms = [
            "lonely": try JitsiLikePage.html(controls: ["participants": "[\(Self.alice)]"],
                                             after: "setTimeout(() => jitsiLike.leave('alice'), 5000);"),
            "never": try JitsiLikePage.html(controls: ["neverJoin": "true", "joinDelayMs": "200"]),
        ]
        try await Self.withJicofo(server, rooms: rooms) { pages, player in
            let application = try await Self.daemon(server, slots: 2, pages: pages, joinTimeout: 8)
            try await application.test(.router) { _ in
                try await player.waitAvailable(2)
                let mark = player.all.count
                player.send(["cmd": "start", "session_id": "lonely", "room": "lonely@conference.\(ProsodyServer.domain)", "mode": "file"])
                let on = try await player.wait("on", seconds: 120, after: mark) {
                    $0.name == "status" && $0["status"] == "on" && $0["session_id"] == "lonely"
                }
                // Alice leaves 5 s after the page loaded; 2 s alone ends it.
                let off = try await player.wait("off", seconds: 60, after: mark) {
                    $0.name == "status" && $0["status"] == "off" && $0["session_id"] == "lonely"
                }
                #expect(off["failure_reason"] == nil, "\(off.fields)")
                try await player.wait("session ended", seconds: 10, after: mark) { $0.name == "session_ended" && $0["session_id"] == "lonely" }
                try await player.wait("idle again", seconds: 20, after: mark) {
                    $0.name == "instance" && $0["occupant"] == on["occupant"] && $0["busy"] == "idle"
                }
                let directory = "\(recordings)/lonely"
                let name = try #require((try? FileManager.default.contentsOfDirectory(atPath: directory))?.first { $0.hasSuffix(".mp4") })
                #expect(Self.duration("\(directory)/\(name)") >= 1)
                #expect(Self.participantIDs(try Self.metadata(directory)) == ["alice-id"])

                let neverMark = player.all.count
                player.send(["cmd": "start", "session_id": "never", "room": "never@conference.\(ProsodyServer.domain)", "mode": "file"])
                let sent = try await player.wait("start sent", after: neverMark) { $0.name == "start_sent" }
                let failed = try await player.wait("off error", seconds: 90, after: neverMark) {
                    $0.name == "status" && $0["status"] == "off" && $0["session_id"] == "never"
                }
                #expect(failed["failure_reason"] == "error", "\(failed.fields)")
                #expect(failed["should_retry"] == "true", "\(failed.fields)")
                let took = (Double(failed["t"] ?? "0") ?? 0) - (Double(sent["t"] ?? "0") ?? 0)
                #expect(took >= 8, "the join deadline is 8 s: \(took)")
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(recordings)/never")) ?? []).filter { $0.hasSuffix(".mp4") }.isEmpty)
            }
        }
    }

    /// Stream mode: a YouTube-style key goes to the stream URL template (the
    /// bench's RTMP server here), which receives the page; a stream URL
    /// outside the allow-list is `off`, `error`, no retry. No key in answers.
    @Test func streamModeSendsTheKeyThroughTheTemplateAndTheAllowListRefusesOthers() async throws {
        let server = try makeProsody("stream")
        let rtmp = try RTMPServer(directory: "\(server.directory)/rtmp")
        defer { rtmp.stop() }
        let rtmpURL = rtmp.url, rtmpPort = rtmp.port, received = rtmp.recordDirectory
        /// The FLV files the RTMP server recorded for the key, oldest first.
        @Sendable func flvs(_ key: String) -> [String] {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: received)) ?? []
            return files.filter { $0.hasPrefix(key) && $0.hasSuffix(".flv") }.sorted().map { "\(received)/\($0)" }
        }
        let key = "abcd-1234-efgh-5678"
        try await Self.withJicofo(server) { pages, player in
            let application = try await Self.daemon(
                server, slots: 1, pages: pages, streamAllowList: ["rtmp://127\\.0\\.0\\.1:\(rtmpPort)/live/.*"],
                streamURLTemplate: "\(rtmpURL)/{key}")
            try await application.test(.router) { client in
                try await player.waitAvailable(1)
                let mark = player.all.count
                player.send(["cmd": "start", "session_id": "live1", "room": "room9@conference.\(ProsodyServer.domain)",
                             "mode": "stream", "streamid": key])
                try await player.wait("on", seconds: 120, after: mark) { $0.name == "status" && $0["status"] == "on" }
                let mediaDeadline = Date().addingTimeInterval(30)
                while Date() < mediaDeadline, (flvs(key).last.map { Self.duration($0) } ?? 0) < 2 {
                    try await Task.sleep(for: .milliseconds(250))
                }
                let listed = try await client.execute(uri: "/v1/recordings", method: .get)
                #expect(!String(buffer: listed.body).contains(key))
                let stopMark = player.all.count
                player.send(["cmd": "stop", "session_id": "live1"])
                try await player.wait("off", seconds: 60, after: stopMark) { $0.name == "status" && $0["status"] == "off" }
                try await player.wait("idle again", seconds: 20, after: stopMark) { $0.name == "instance" && $0["busy"] == "idle" }
                let flv = try #require(flvs(key).last, "the RTMP server got nothing for the key")
                let probe = try MediaProbe(path: flv, countFrames: false)
                #expect(probe.video?.codec == "h264")
                #expect(probe.video?.width == 640 && probe.video?.height == 360)
                #expect(Self.duration(flv) >= 1.5, "\(Self.duration(flv))")
                #expect(try Self.showsThePage(flv, at: 1), "\(flv) does not show the page")

                let refusedMark = player.all.count
                player.send(["cmd": "start", "session_id": "live2", "room": "room9@conference.\(ProsodyServer.domain)",
                             "mode": "stream", "streamid": "rtmp://127.0.0.2:1935/elsewhere/\(key)"])
                let refused = try await player.wait("refusal", seconds: 30, after: refusedMark) {
                    ($0.name == "status" && $0["status"] == "off") || ($0.name == "start_reply" && $0["status"] == "off")
                }
                #expect(refused["failure_reason"] == "error", "\(refused.fields)")
                #expect(refused["should_retry"] == "false", "\(refused.fields)")
                try await player.wait("session failed", seconds: 10, after: refusedMark) { $0.name == "session_failed" }
            }
        }
    }

    @Test func prosodyRestartedMidRecordingLeavesAWholeFileAndFreshPresence() async throws {
        let server = try makeProsody("restart-daemon")
        let recordings = "\(server.directory)/recordings"
        let marker = "\(server.directory)/finalized"
        try await Self.withJicofo(server) { pages, player in
            let application = try await Self.daemon(server, slots: 2, pages: pages)
            try await application.test(.router) { _ in
                try await player.waitAvailable(1)
                let mark = player.all.count
                player.send(["cmd": "start", "session_id": "r1", "room": "room7@conference.\(ProsodyServer.domain)", "mode": "file"])
                try await player.wait("on", seconds: 120, after: mark) { $0.name == "status" && $0["status"] == "on" }
                let directory = "\(recordings)/r1"
                let name = try await Self.media(in: directory, seconds: 1)
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
        }
    }

    @Test func aSmallCPUBudgetLeavesFewerSlotsIdleThanConfigured() async throws {
        let server = try makeProsody("budget")
        // Room for one and a half 640x360 page recordings (cpuShare 0.8 of `cores`).
        let one = CostTable.measured.estimate(width: 640, height: 360, fps: 30, preset: DaemonConfiguration().probePreset)
            + PageCost.measured.estimate(width: 640, height: 360)
        try await Self.withJicofo(server) { _, player in
            let application = try await Self.daemon(server, slots: 3, cores: 1.5 * one / 0.8, pages: "http://127.0.0.1:9")
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
        }
    }
}
