import Foundation
import Testing
import TestSupport

/// Recordings started and stopped over recorderd's HTTP API on the bench.
@Suite(.serialized, .tags(.bench)) struct RecorderdRecordingTests {
    @Test func threeRecordingsOnThreeDisplaysAndPCMs() throws {
        let bench = try TestBench.current()
        let colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
        let tones = [440, 660, 880]
        let displays = try colours.map { try ColouredDisplay($0) }
        let sinks = try ExtraSinks(bench, names: ["rd1", "rd2", "rd3"])
        let players = try zip(tones, sinks.names).map { try playTone($0, into: "\($1)_playback", alsaConfigPath: sinks.alsaConfigPath) }
        defer { for player in players { player.send(SIGTERM); player.wait() } }
        let daemon = try Daemon(bench, environment: ["ALSA_CONFIG_PATH": sinks.alsaConfigPath])

        var ids: [String] = []
        for index in 0..<3 {
            let answer = try daemon.request("POST", "/v1/recordings", body: """
                {"display": "\(displays[index].display)", "region": "640x480+0+0", "fps": 30,
                 "audioDevice": "\(sinks.names[index])_capture", "file": "three/\(index).mp4",
                 "video": {"preset": "ultrafast", "crf": 25, "gop": 60}, "audio": {"rate": 44100, "bitrate": "128k"},
                 "metadata": {"meeting": "m\(index)"}}
                """)
            try #require(answer.status == 201, "\(answer.body)\n\(daemon.log.suffix(3000))")
            #expect(answer.json["state"] as? String == "recording")
            #expect((answer.json["metadata"] as? [String: String])?["meeting"] == "m\(index)")
            ids.append(try #require(answer.json["id"] as? String))
        }
        // A second recording of a display or a device in use: 409, nothing started.
        let sameDisplay = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(displays[0].display)", "file": "x.mp4"}"#)
        #expect(sameDisplay.status == 409 && sameDisplay.json["field"] as? String == "display", "\(sameDisplay.body)")
        let sameDevice = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(bench.display)", "audioDevice": "\(sinks.names[1])_capture", "file": "y.mp4"}
            """)
        #expect(sameDevice.status == 409 && sameDevice.json["field"] as? String == "audioDevice", "\(sameDevice.body)")

        for id in ids { _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 5 } }
        let listed = try daemon.request("GET", "/v1/recordings").json["recordings"] as? [[String: Any]] ?? []
        #expect(Set(listed.compactMap { $0["id"] as? String }) == Set(ids))
        #expect(listed.allSatisfy { $0["state"] as? String == "recording" })

        var stopped: [[String: Any]] = []
        for id in ids {
            let answer = try daemon.request("POST", "/v1/recordings/\(id)/stop")
            #expect(answer.status == 200, "\(answer.body)")
            #expect(answer.json["state"] as? String == "finished", "\(answer.body)")
            stopped.append(answer.json)
        }
        let metrics = try daemon.metrics()
        for (index, view) in stopped.enumerated() {
            let path = try #require(view["file"] as? String)
            #expect(path == "\(daemon.recordings)/three/\(index).mp4" || path.hasSuffix("/three/\(index).mp4"))
            let (probe, problems) = try checkRecording(path, colour: colours[index], tone: Double(tones[index]))
            #expect(problems.isEmpty, "\(path): \(problems)")
            let frames = try #require(probe.video?.frames)
            let media = Daemon.mediaSeconds(view)
            #expect(abs(Double(frames) / 30 - media) < 0.05, "frames \(frames) against \(media) s")
            #expect(abs((probe.duration ?? 0) - media) < 0.1, "duration \(probe.duration ?? 0) against \(media) s")
            let id = view["id"] as! String
            #expect(metrics["recorder_video_frames_encoded_total{session=\"\(id)\"}"] == Double(frames),
                    "metric against the file's \(frames) frames")
            // Each display is one still colour: DAMAGE finds nearly every
            // frame unchanged, in the statistics and the metric alike.
            let unchanged = (view["statistics"] as? [String: Any])?["framesUnchanged"] as? Int ?? -1
            #expect(unchanged > frames / 2 && metrics["recorder_video_frames_unchanged_total{session=\"\(id)\"}"]
                    == Double(unchanged), "\(unchanged) unchanged of \(frames)")
            // Encoded bytes against the packets in the file (the file itself
            // also holds the index and the room reserved for it).
            let bytes = metrics["recorder_written_bytes_total{session=\"\(id)\"}"] ?? 0
            let packets = try Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=size", "-of", "csv=p=0", path])
            // A packet with side data (AAC's "Skip Samples" on the packets the
            // edit list trims) prints as "310," in CSV: its size is the first field.
            let payload = packets.standardOutput.split(separator: "\n")
                .compactMap { Int($0.split(separator: ",", omittingEmptySubsequences: false).first ?? "") }.reduce(0, +)
            // The muxer rewrites H.264's start codes as 4-byte lengths (a
            // 3-byte start code grows by one): a few bytes apart, no more.
            #expect(bytes > 0 && abs(Int(bytes) - payload) <= 64 + payload / 1000,
                    "bytes \(bytes) against \(payload) bytes of packets in the file")
        }
        #expect(metrics["recorderd_recordings_started_total"] == 3)
        #expect(metrics["recorderd_recordings_finished_total{outcome=\"finished\"}"] == 3)
        #expect(metrics["recorderd_recordings_refused_total{reason=\"busy\"}"] == 2)
        #expect(metrics["recorderd_recordings_active"] == 0)
        #expect(daemon.stop() == 0)
    }

    @Test func admissionRefusesWhatWouldExceedTheShareAndStartsNothing() throws {
        let bench = try TestBench.current()
        let small = try ColouredDisplay((255, 255, 0), width: 640, height: 480)
        // 0.25 of one core: a 640x480 recording fits, a 1080p one does not.
        let daemon = try Daemon(bench, arguments: ["--cores", "1", "--cpu-share", "0.25", "--jibri-health"])
        let first = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(small.display)", "region": "640x480+0+0", "file": "a.mp4"}"#)
        try #require(first.status == 201, "\(first.body)")
        let health = try daemon.request("GET", "/health?width=1920&height=1080&fps=30&preset=veryfast").json
        #expect((health["oneMore"] as? [String: Any])?["fits"] as? Bool == false, "\(health)")
        #expect(health["status"] as? String == "full")
        // The default probe (1080p30 ultrafast) does not fit either: Jibri's monitoring sees BUSY.
        let jibri = try daemon.request("GET", "/jibri/api/v1.0/health").json["status"] as? [String: Any]
        #expect(jibri?["busyStatus"] as? String == "BUSY")
        #expect((jibri?["health"] as? [String: Any])?["healthStatus"] as? String == "HEALTHY")

        let refused = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(bench.display)", "region": "1920x1080+0+0", "file": "b.mp4", "video": {"preset": "veryfast"}}
            """)
        #expect(refused.status == 503, "\(refused.body)")
        #expect(refused.headers["retry-after"] == "30")
        #expect(refused.json["reason"] as? String == "cpu")
        #expect((refused.json["error"] as? String ?? "").contains("CPU"), "\(refused.body)")
        let listed = try daemon.request("GET", "/v1/recordings").json["recordings"] as? [[String: Any]] ?? []
        #expect(listed.count == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/b.mp4"))
        let metrics = try daemon.metrics()
        #expect(metrics["recorderd_recordings_refused_total{reason=\"cpu\"}"] == 1)
        #expect(metrics["recorderd_can_accept_recording"] == 0)
        #expect(daemon.stop() == 0)
        // A refusal for want of disk: RecorderDaemonTests.RequestTableTests.
    }

    @Test func noMediaIsReportedEndsWhenMediaReturnsAndCanStopTheRecording() throws {
        let bench = try TestBench.current()
        let still = try ColouredDisplay((128, 128, 128))
        let changing = try ColouredDisplay((0, 128, 255))
        let daemon = try Daemon(bench)

        // Policy "stop": a silent PCM for 3 s (the picture is not checked
        // here, so that silence is what stops it).
        let stopping = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(still.display)", "audioDevice": "\(bench.capturePCM)", "file": "silent.mp4",
             "noMedia": {"silenceSeconds": 3, "frozenSeconds": null, "action": "stop"}}
            """)
        try #require(stopping.status == 201, "\(stopping.body)")
        let stopID = try #require(stopping.json["id"] as? String)
        let stopEvents = try ChildProcess(["curl", "-sN", "--max-time", "60", "-o", "\(daemon.scratch)/stop.sse",
                                           "http://\(daemon.address)/v1/recordings/\(stopID)/events"])
        // Policy "report": the picture changes after the event.
        let reporting = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(changing.display)", "file": "report.mp4", "noMedia": {"frozenSeconds": 3, "action": "report"}}
            """)
        try #require(reporting.status == 201, "\(reporting.body)")
        let reportID = try #require(reporting.json["id"] as? String)
        let sse = try ChildProcess(["curl", "-sN", "--max-time", "60", "-o", "\(daemon.scratch)/report.sse",
                                    "http://\(daemon.address)/v1/recordings/\(reportID)/events"])

        let ended = try daemon.waitFor(stopID, seconds: 30) { $0["state"] as? String == "finished" }
        #expect(ended["stopReason"] as? String == "noMedia", "\(ended)")
        let path = try #require(ended["file"] as? String)
        let (probe, problems) = try checkRecording(path, colour: (128, 128, 128), tone: nil)
        #expect(problems.isEmpty, "\(problems)")
        #expect((3.0...6.0).contains(probe.duration ?? 0), "stopped after the 3 s threshold: \(probe.duration ?? 0) s")
        // Its events, as Server-Sent Events; the stream ends after `stopped`.
        #expect(stopEvents.wait(timeout: 10)?.status == 0)
        let stopText = (try? String(contentsOfFile: "\(daemon.scratch)/stop.sse", encoding: .utf8)) ?? ""
        #expect(stopText.hasPrefix("event: started"), "\(stopText.prefix(300))")
        #expect(stopText.contains("event: noMedia"))
        #expect(stopText.contains("\"kind\":\"silence\""), "\(stopText.suffix(2000))")
        #expect(stopText.contains("event: stopped"))

        // The reporting one goes on; once frozen, a change ends the condition.
        let frozen = try daemon.waitFor(reportID, seconds: 20) { ($0["noMedia"] as? [String: Bool])?["frozenPicture"] == true }
        #expect(frozen["state"] as? String == "recording")
        changing.paint((255, 128, 0))
        _ = try daemon.waitFor(reportID, seconds: 10) { ($0["noMedia"] as? [String: Bool])?["frozenPicture"] == false }
        _ = try daemon.request("POST", "/v1/recordings/\(reportID)/stop")
        sse.wait()
        let events = (try? String(contentsOfFile: "\(daemon.scratch)/report.sse", encoding: .utf8)) ?? ""
        #expect(events.contains(#""noMedia":{"change":"began","kind":"frozenPicture""#), "\(events.suffix(2000))")
        #expect(events.contains(#""noMedia":{"change":"ended","kind":"frozenPicture""#), "\(events.suffix(2000))")
        let metrics = try daemon.metrics()
        #expect(metrics["recorder_video_frozen_periods_total{session=\"\(reportID)\"}"] == 1)
        #expect(metrics["recorder_audio_silence_periods_total{session=\"\(stopID)\"}"] == 1)
        #expect(daemon.stop() == 0)
    }
}
