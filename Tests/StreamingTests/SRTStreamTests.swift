import Foundation
import Testing
import TestSupport

/// Issue 14, part 3: `srt://` streams (MPEG-TS over SRT, caller mode) to a
/// real listener, `srt-live-transmit`, writing what it receives to a file;
/// and SRT's bad input, refused before any datagram is sent.
@Suite(.serialized, .tags(.bench)) struct SRTStreamTests {
    /// A secret that looks like one, so the tests can check it never shows.
    private func secret(_ label: String) -> String { "\(label)-\(UUID().uuidString.prefix(12))" }

    private func writePassphrase(_ passphrase: String, in directory: String) throws -> String {
        let path = "\(directory)/passphrase"
        try "\(passphrase)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func statisticsText(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    @Test func anEncryptedStreamArrivesWithH264AndAACAndNeitherSecretIsEverPrinted() throws {
        let bench = try TestBench.current()
        let scene = MovingScene(display: bench.display, width: 640, height: 480)
        defer { scene.stop() }
        let directory = try bench.scratchDirectory("srt")
        let passphrase = secret("passphrase"), key = secret("streamkey")
        let listener = try SRTListener(directory: "\(directory)/listener", passphrase: passphrase)
        let recorder = try RecorderRun(bench, [
            "--region", "640x480+0+0", "--duration", "8", "--stream", "\(listener.url)?streamid=\(key)",
            "--allow-scheme", "srt", "--srt-passphrase-file", try writePassphrase(passphrase, in: directory),
            "--srt-latency", "200", "--stats-json", "\(directory)/stats.json", "--log-level", "trace",
        ], log: "\(directory)/record.log")
        #expect(recorder.process.wait(timeout: 40)?.status == 0, "\(recorder.log)")
        listener.stop(signal: SIGTERM)
        let log = recorder.log, stats = statisticsText("\(directory)/stats.json")
        #expect(log.contains("stream \(listener.url)?***: connected"), "\(log)")
        // Every line the engine, libav and libsrt logged, at trace level, and the statistics.
        for text in [log, stats] {
            #expect(!text.contains(passphrase), "the passphrase was printed")
            #expect(!text.contains(key), "the stream id was printed")
        }
        let json = try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any]
        let streams = (json?["statistics"] as? [String: Any])?["streams"] as? [[String: Any]]
        #expect(streams?.first?["url"] as? String == "\(listener.url)?***", "\(stats)")
        #expect(streams?.first?["connections"] as? Int == 1, "\(stats)")

        let received = try #require(listener.files.first)
        let probe = try MediaProbe(path: received)
        let video = try #require(probe.video), audio = try #require(probe.audio)
        #expect(video.codec == "h264" && audio.codec == "aac")
        #expect(video.width == 640 && video.height == 480)
        #expect(abs((probe.duration ?? 0) - 8) <= 0.5, "duration \(probe.duration ?? 0)")
        #expect((video.frames ?? 0) >= 230, "video frames \(video.frames ?? 0)")
        #expect(try MediaProbe.decodeErrors(received).isEmpty)
    }

    @Test func theStreamSurvivesTheListenerDyingAndComingBack() throws {
        let bench = try TestBench.current()
        let scene = MovingScene(display: bench.display, width: 640, height: 480)
        defer { scene.stop() }
        let directory = try bench.scratchDirectory("srt-restart")
        let passphrase = secret("passphrase")
        let listener = try SRTListener(directory: "\(directory)/listener", passphrase: passphrase)
        let output = "\(directory)/through.mp4"
        let recorder = try RecorderRun(bench, [
            "--region", "640x480+0+0", "--duration", "20", "--output", output, "--stream", listener.url,
            "--allow-scheme", "srt", "--srt-passphrase-file", try writePassphrase(passphrase, in: directory),
            "--stats-json", "\(directory)/stats.json",
        ], log: "\(directory)/record.log")
        let connected = try #require(recorder.waitForLog(": connected", seconds: 10), "\(recorder.log)")
        Thread.sleep(until: connected.addingTimeInterval(4))
        // A crash: no SRT shutdown reaches the caller, which finds out when
        // the peer has been silent for SRT's idle timeout (5 s).
        listener.stop(signal: SIGKILL)
        Thread.sleep(forTimeInterval: 1)
        try listener.start()
        let restarted = Date()
        let reconnected = recorder.waitForLog("reconnected after", seconds: 12)
        #expect(reconnected != nil, "no reconnection: \(recorder.log)")
        if let reconnected {
            // SRT's 5 s idle timeout, then the first backoff (1.5 to 2 s).
            #expect(reconnected.timeIntervalSince(restarted) <= 9, "reconnected \(reconnected.timeIntervalSince(restarted)) s after the restart")
        }
        #expect(recorder.process.wait(timeout: 40)?.status == 0, "\(recorder.log)")
        listener.stop(signal: SIGTERM)
        let log = recorder.log
        #expect(log.contains("stream \(listener.url): disconnected:"), "\(log)")
        #expect(!log.contains(passphrase))

        // The file went on through it all.
        let file = try MediaProbe(path: output)
        #expect(file.video?.frames == 600, "frames \(file.video?.frames ?? 0)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
        // Media before the crash, and media after the restart: it starts at
        // a keyframe and runs to the end of the recording.
        #expect(listener.files.count == 2)
        let before = try MediaProbe(path: listener.files[0])
        #expect((before.duration ?? 0) >= 3, "before the crash: \(before.duration ?? 0) s")
        let after = try MediaProbe(path: listener.files[1])
        #expect(after.video?.codec == "h264" && after.audio?.codec == "aac", "\(listener.files[1])")
        if let reconnected {
            let expected = 20 - reconnected.timeIntervalSince(connected)
            #expect((after.duration ?? 0) >= expected - 2.5, "after the restart: \(after.duration ?? 0) s, expected about \(expected)")
        }
        #expect(try MediaProbe.decodeErrors(listener.files[1]).isEmpty)
    }

    @Test func aWrongPassphraseIsReportedAsSuchAndTheFileGoesOn() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("srt-wrong")
        let right = secret("right-passphrase"), wrong = secret("wrong-passphrase")
        let listener = try SRTListener(directory: "\(directory)/listener", passphrase: right)
        let output = "\(directory)/kept.mp4"
        let recorder = try RecorderRun(bench, [
            "--region", "320x240+0+0", "--duration", "4", "--output", output, "--stream", listener.url,
            "--allow-scheme", "srt", "--srt-passphrase-file", try writePassphrase(wrong, in: directory),
            "--max-reconnects", "0", "--log-level", "trace",
        ], log: "\(directory)/record.log")
        // The stream gave up: the recording did not do all it was asked.
        #expect(recorder.process.wait(timeout: 30)?.status == 1, "\(recorder.log)")
        let log = recorder.log
        #expect(log.contains("stream \(listener.url): connection attempt 1 failed: the SRT listener rejected the passphrase"
                             + " (SRT_REJ_BADSECRET); no more attempts"), "\(log)")
        #expect(!log.contains(wrong) && !log.contains(right), "a passphrase was printed")
        #expect(try MediaProbe(path: output).video?.frames == 120)
    }

    /// `PORT` becomes the trap's port; `SECRET` marks what must not show.
    @Test(arguments: [
        (["--stream", "srt://127.0.0.1:PORT?streamid=SECRETKEY"],
         "invalid --stream 'srt://127.0.0.1:PORT?***': srt:// URLs are accepted only when allowed (--allow-scheme srt)"),
        (["--stream", "srt://127.0.0.1:PORT?streamid=SECRETKEY", "--allow-scheme", "srt", "--allow", #"srt://ingest\.example:9000\?.*"#],
         "invalid --stream 'srt://127.0.0.1:PORT?***': not in the allow-list"),
        (["--stream", "srt://127.0.0.1:PORT?passphrase=SECRETSECRET", "--allow-scheme", "srt"],
         "invalid --stream 'srt://127.0.0.1:PORT?***': a passphrase in the URL"),
        (["--stream", "srt://127.0.0.1:PORT?streamid=SECRETKEY&latency=200", "--allow-scheme", "srt"],
         "give the latency with --srt-latency"),
        (["--stream", "srt://127.0.0.1?streamid=SECRETKEY", "--allow-scheme", "srt"], "no port"),
        (["--stream", "srt://127.0.0.1:PORT", "--allow-scheme", "srt", "--srt-passphrase-file", "/nonexistent/passphrase"],
         "invalid --srt-passphrase-file '/nonexistent/passphrase': cannot be read"),
        (["--stream", "srt://127.0.0.1:PORT", "--allow-scheme", "srt", "--srt-passphrase-file", "SHORTFILE"],
         "has 7 characters; SRT takes 10 to 79"),
        (["--stream", "srt://127.0.0.1:PORT", "--allow-scheme", "srt", "--srt-latency", "5"],
         "invalid --srt-latency '5': must be 10 to 10000 milliseconds"),
        (["--stream", "srt://127.0.0.1:PORT", "--allow-scheme", "srt", "--srt-latency", "20000"],
         "invalid --srt-latency '20000': must be 10 to 10000 milliseconds"),
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRETKEY", "--srt-latency", "200"], "--srt-latency '200': applies to srt://"),
        (["--stream", "srt://127.0.0.1:PORT", "--allow-scheme", "ftp"], "invalid --allow-scheme 'ftp': valid values"),
    ])
    func badSRTInputExitsWithTwoAndOneLineAndSendsNothing(arguments: [String], expected: String) throws {
        let bench = try TestBench.current()
        let trap = try DatagramTrap()
        let directory = try bench.scratchDirectory("bad-srt")
        let short = "\(directory)-short"
        try "SECRET1\n".write(toFile: short, atomically: true, encoding: .utf8)
        let port = String(trap.port)
        let arguments = arguments.map {
            $0.replacingOccurrences(of: "PORT", with: port).replacingOccurrences(of: "SHORTFILE", with: short)
        }
        let expected = expected.replacingOccurrences(of: "PORT", with: port)
        let result = try Subprocess.run([RecorderRun.binary, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--duration", "1", "--output", "\(directory)/never.mp4"] + arguments)
        #expect(result.status == 2, "\(arguments): \(result.standardError)")
        let lines = result.standardError.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 1, "one line: \(result.standardError)")
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(!result.standardError.contains("SECRET"), "a secret was printed: \(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing may be written")
        #expect(trap.received() == 0, "an SRT handshake was sent")
    }
}
