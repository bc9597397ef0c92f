import Foundation
import Testing
import TestSupport

/// Issue 24 item 1 over recorderd's HTTP API on the bench: sound alone,
/// segmented files, HLS, an SRT stream with the daemon's passphrase, and a
/// rendition streamed beside the file. Each checks what was written or
/// received with ffprobe/ffmpeg.
@Suite(.serialized, .tags(.bench)) struct RecorderdOutputsTests {
    /// Starts a recording; returns its id.
    private func start(_ daemon: Daemon, _ body: String) throws -> String {
        let answer = try daemon.request("POST", "/v1/recordings", body: body)
        try #require(answer.status == 201, "\(answer.body)\n\(daemon.log.suffix(3000))")
        return try #require(answer.json["id"] as? String)
    }

    private func finished(_ daemon: Daemon, _ id: String, seconds: Double = 60) throws -> [String: Any] {
        try daemon.waitFor(id, seconds: seconds) { $0["state"] as? String == "finished" }
    }

    @Test func soundAloneIsOneAACStreamWithTheToneAndTheDuration() throws {
        let bench = try TestBench.current()
        let tone = try playTone(440, into: bench.playbackPCM, seconds: 10)
        defer { tone.send(SIGTERM); tone.wait() }
        let daemon = try Daemon(bench)
        let id = try start(daemon, """
            {"noVideo": true, "audioDevice": "\(bench.capturePCM)", "file": "sound/meeting.m4a", "duration": 4}
            """)
        let view = try finished(daemon, id)
        #expect(view["display"] as? String == "", "no display: \(view)")
        #expect((view["outputs"] as? [String: Any])?["noVideo"] as? Bool == true, "\(view)")
        let problems = try RecordedOutputChecks.soundAloneProblems("\(daemon.recordings)/sound/meeting.m4a", tone: 440, seconds: 4)
        #expect(problems.isEmpty, "\(problems)")
        #expect(daemon.stop() == 0)
    }

    @Test func segmentsEveryFourSecondsOfTenAreListedAsFinishedDecodeAddUpAndTheScriptRunsOnce() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((0, 160, 80))
        let scratch = try bench.scratchDirectory("segments")
        let script = "\(scratch)/finalize.sh"
        try """
            #!/bin/sh
            echo "$1 $(ls "$1" | grep -c 'part-[0-9]*.mp4$')" >> \(scratch)/calls
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let daemon = try Daemon(bench, arguments: ["--finalize-script", script])
        let id = try start(daemon, """
            {"display": "\(display.display)", "region": "640x480+0+0", "file": "meeting/part.mp4",
             "segments": {"time": 4}, "duration": 10}
            """)
        // The first segment is listed once it is finished, while recording.
        let listing = try daemon.waitFor(id, seconds: 30) { view in
            !((view["outputs"] as? [String: Any])?["segments"] as? [Any] ?? []).isEmpty
        }
        #expect(listing["state"] as? String == "recording", "\(listing)")
        let view = try finished(daemon, id)
        let segments = (view["outputs"] as? [String: Any])?["segments"] as? [[String: Any]] ?? []
        let names = segments.compactMap { ($0["file"] as? String)?.split(separator: "/").last.map(String.init) }
        #expect(names == ["part-000.mp4", "part-001.mp4", "part-002.mp4"], "\(segments)")
        #expect(segments.allSatisfy { $0["outcome"] as? String == "finishedInPlace" }, "\(segments)")
        var total = 0.0
        for name in names {
            let path = "\(daemon.recordings)/meeting/\(name)"
            let errors = try RecordedOutputChecks.strictDecodeErrors(path)
            #expect(errors.isEmpty, "\(name): \(errors)")
            total += Double(try #require(try MediaProbe(path: path).video?.frames)) / 30
        }
        #expect(abs(total - 10) <= 1.0 / 30 + 1e-9, "the segments hold \(total) s of the 10 recorded")
        let listed = segments.compactMap { $0["durationSeconds"] as? Double }.reduce(0, +)
        #expect(abs(listed - total) < 0.05, "listed \(listed) s against \(total) s in the files")
        _ = try daemon.waitFor(id) { $0["finalizeScript"] as? String != "running" }
        let calls = try String(contentsOfFile: "\(scratch)/calls", encoding: .utf8).split(separator: "\n")
        #expect(calls == ["\(daemon.recordings)/meeting 3"] || calls.count == 1 && calls[0].hasSuffix("/meeting 3"),
                "the script runs once, after the last segment: \(calls)")
        #expect(daemon.stop() == 0)
    }

    @Test func hlsUnderTheRecordingsDirectoryIsReadEndToEndByFFmpeg() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((200, 40, 40))
        let daemon = try Daemon(bench)
        let id = try start(daemon, """
            {"display": "\(display.display)", "region": "640x480+0+0", "file": "live/meeting.mp4",
             "hls": {"playlist": "live/hls/index.m3u8"}, "duration": 6}
            """)
        let view = try finished(daemon, id)
        let playlist = "\(daemon.recordings)/live/hls/index.m3u8"
        #expect((view["outputs"] as? [String: Any])?["hlsPlaylist"] as? String == playlist, "\(view)")
        let text = try String(contentsOfFile: playlist, encoding: .utf8)
        #expect(text.contains("#EXT-X-ENDLIST"), "\(text)")
        let errors = try RecordedOutputChecks.strictDecodeErrors(playlist)
        #expect(errors.isEmpty, "\(errors)")
        let probe = try MediaProbe(path: playlist)
        #expect(probe.video?.width == 640 && probe.video?.frames == 180, "\(String(describing: probe.video))")
        #expect(daemon.stop() == 0)
    }

    @Test func anSRTStreamWithTheDaemonsPassphraseIsReceivedAndThePassphraseNeverShown() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((40, 40, 200))
        let scratch = try bench.scratchDirectory("srt")
        let passphrase = "never-shown-\(UUID().uuidString.prefix(8))"
        let passphraseFile = "\(scratch)/passphrase"
        try passphrase.write(toFile: passphraseFile, atomically: true, encoding: .utf8)
        let listener = try SRTListener(directory: "\(scratch)/received", passphrase: passphrase)
        let daemon = try Daemon(bench, arguments: ["--allow", #"srt://127\.0\.0\.1:[0-9]+"#, "--allow-srt",
                                                   "--srt-passphrase-file", passphraseFile])
        let id = try start(daemon, """
            {"display": "\(display.display)", "region": "640x480+0+0", "file": "srt/meeting.mp4",
             "streams": [{"url": "\(listener.url)", "srtLatency": 200}], "duration": 5}
            """)
        let running = try daemon.waitFor(id) { (($0["streams"] as? [[String: Any]])?.first?["connected"] as? Bool) == true }
        let view = try finished(daemon, id)
        listener.stop(signal: SIGTERM)
        let received = try MediaProbe(path: try #require(listener.files.first))
        #expect(received.video?.codec == "h264" && received.video?.width == 640, "\(received.streams.map(\.codec))")
        #expect((received.duration ?? 0) > 3, "received \(received.duration ?? 0) s")
        for text in ["\(running)", "\(view)", daemon.log, try daemon.request("GET", "/metrics").body] {
            #expect(!text.contains(passphrase), "the passphrase shown: \(text.prefix(300))")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func a1080pFileAndA720pRenditionStreamedToTheBenchsRTMPServer() throws {
        let bench = try TestBench.current()
        // The bench's 1920x1080 display, one colour over it.
        let window = try TestWindow(displayName: bench.display, x: 0, y: 0, width: 1920, height: 1080)
        window.fill(0x20A040, x: 0, y: 0, width: 1920, height: 1080)
        window.sync()
        let name = "rendition-\(UUID().uuidString.prefix(8))"
        // Admission counts 1080p plus 720p against this host's two cores: counted as more here.
        let daemon = try Daemon(bench, arguments: ["--cores", "16", "--allow", #"rtmp://127\.0\.0\.1:[0-9]+/live/.*"#])
        let id = try start(daemon, """
            {"display": "\(bench.display)", "region": "1920x1080+0+0", "file": "both/meeting.mp4",
             "renditions": [{"name": "live", "size": "1280x720", "preset": "veryfast", "tune": "zerolatency",
                             "maxrate": "2976k", "bufsize": "5952k"}],
             "streams": [{"url": "\(bench.rtmpURL)/\(name)", "rendition": "live"}], "duration": 5}
            """)
        let view = try finished(daemon, id, seconds: 90)
        withExtendedLifetime(window) {}
        #expect((view["outputs"] as? [String: Any])?["renditions"] as? [String] == ["live"], "\(view)")
        #expect(!"\(view)".contains(name), "the stream key shown: \(view)")
        let file = try MediaProbe(path: "\(daemon.recordings)/both/meeting.mp4")
        #expect(file.video?.width == 1920 && file.video?.height == 1080, "\(String(describing: file.video))")
        let flv = try #require(try FileManager.default.contentsOfDirectory(atPath: bench.rtmpRecordDirectory)
            .filter { $0.hasPrefix(name) }.first, "nginx recorded nothing for \(name)")
        let stream = try MediaProbe(path: "\(bench.rtmpRecordDirectory)/\(flv)")
        #expect(stream.video?.width == 1280 && stream.video?.height == 720, "\(String(describing: stream.video))")
        #expect((stream.duration ?? 0) > 3, "received \(stream.duration ?? 0) s")
        #expect(daemon.stop() == 0)
    }
}
