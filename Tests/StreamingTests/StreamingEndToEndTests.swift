import Foundation
import Testing
import TestSupport

/// record-display streaming on the bench: what nginx-rtmp received, read back
/// with ffprobe, and what the recorder reported on stderr and in its stats.
@Suite(.serialized, .tags(.bench)) struct StreamingEndToEndTests {
    /// A stream name that looks like a key, so the tests can check it never shows.
    private func secretName(_ label: String) -> String { "\(label)-key-\(UUID().uuidString.prefix(12))" }

    private func statistics(_ path: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return try #require(json?["statistics"] as? [String: Any])
    }

    private func streamStatistics(_ path: String) throws -> [[String: Any]] {
        try #require(try statistics(path)["streams"] as? [[String: Any]])
    }

    @Test func tenSecondsToOneStreamArriveWithH264AndAACAndTheRightDuration() throws {
        let bench = try TestBench.current()
        let scene = MovingScene(display: bench.display, width: 640, height: 480)
        defer { scene.stop() }
        let directory = try bench.scratchDirectory("one-stream")
        let name = secretName("one")
        let recorder = try RecorderRun(bench, ["--region", "640x480+0+0", "--duration", "10",
                                               "--stream", "\(bench.rtmpURL)/\(name)",
                                               "--stats-json", "\(directory)/stats.json"], log: "\(directory)/record.log")
        #expect(recorder.process.wait(timeout: 40)?.status == 0, "\(recorder.log)")
        #expect(!recorder.log.contains(name), "the stream key was printed: \(recorder.log)")
        #expect(recorder.log.contains("stream \(bench.rtmpURL)/***: connected"), "\(recorder.log)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".mp4") },
                "no file without --output")

        let probe = try MediaProbe(path: "\(bench.rtmpRecordDirectory)/\(name).flv")
        let video = try #require(probe.video), audio = try #require(probe.audio)
        #expect(video.codec == "h264" && audio.codec == "aac")
        #expect(video.width == 640 && video.height == 480)
        #expect(abs((probe.duration ?? 0) - 10) <= 0.3, "duration \(probe.duration ?? 0)")
        #expect((video.frames ?? 0) >= 291, "video frames \(video.frames ?? 0)")
        #expect(try MediaProbe.decodeErrors("\(bench.rtmpRecordDirectory)/\(name).flv").isEmpty)
        let stream = try #require(try streamStatistics("\(directory)/stats.json").first)
        #expect(stream["url"] as? String == "\(bench.rtmpURL)/***")
        #expect(stream["videoPacketsDroppedToKeyframe"] as? Int == 0 && stream["connections"] as? Int == 1)
    }

    @Test func aFileAndTwoStreamsFromOneEncodeAllCompleteAndAgree() throws {
        let bench = try TestBench.current()
        let scene = MovingScene(display: bench.display, width: 640, height: 480)
        defer { scene.stop() }
        let directory = try bench.scratchDirectory("two-streams")
        let first = secretName("first"), second = secretName("second")
        let output = "\(directory)/both.mp4"
        let recorder = try RecorderRun(bench, ["--region", "640x480+0+0", "--duration", "10", "--output", output,
                                               "--stream", "\(bench.rtmpURL)/\(first)", "--stream", "\(bench.rtmpURL)/\(second)",
                                               "--stats-json", "\(directory)/stats.json"], log: "\(directory)/record.log")
        #expect(recorder.process.wait(timeout: 40)?.status == 0, "\(recorder.log)")
        #expect(!recorder.log.contains(first) && !recorder.log.contains(second), "a key was printed: \(recorder.log)")

        let file = try MediaProbe(path: output)
        let streams = try [first, second].map { try MediaProbe(path: "\(bench.rtmpRecordDirectory)/\($0).flv") }
        #expect(file.video?.frames == 300)
        for probe in [file] + streams {
            #expect(probe.video?.codec == "h264" && probe.audio?.codec == "aac", "\(probe.path)")
            #expect(abs((probe.duration ?? 0) - 10) <= 0.3, "\(probe.path): \(probe.duration ?? 0)")
            #expect(abs((probe.duration ?? 0) - (file.duration ?? 0)) <= 0.3, "\(probe.path) disagrees with the file")
        }
        #expect(streams[0].video?.frames == streams[1].video?.frames, "both streams carry the same frames")
        // One encode: 300 frames encoded in all, not 300 per output.
        let figures = try statistics("\(directory)/stats.json")
        #expect(figures["framesEncoded"] as? Int == 300)
        let sent = try streamStatistics("\(directory)/stats.json").map { $0["packetsSent"] as? Int ?? -1 }
        #expect(sent.count == 2 && sent[0] == sent[1] && sent[0] > 700, "packets sent \(sent)")
    }

    @Test func theStreamReconnectsAfterTheServerRestartsAndTheFileHasNoGap() throws {
        let bench = try TestBench.current()
        let scene = MovingScene(display: bench.display, width: 640, height: 480)
        defer { scene.stop() }
        let directory = try bench.scratchDirectory("reconnect")
        let server = try RTMPServer(directory: "\(directory)/nginx")
        let name = secretName("again")
        let output = "\(directory)/through.mp4"
        let recorder = try RecorderRun(bench, ["--region", "640x480+0+0", "--duration", "16", "--output", output,
                                               "--stream", "\(server.url)/\(name)", "--stats-json", "\(directory)/stats.json"],
                                       log: "\(directory)/record.log")
        let connected = try #require(recorder.waitForLog(": connected", seconds: 10), "\(recorder.log)")
        Thread.sleep(until: connected.addingTimeInterval(4))
        server.stop()
        Thread.sleep(forTimeInterval: 2)
        try server.start()
        let restarted = Date()
        let reconnected = recorder.waitForLog("reconnected after", seconds: 8)
        #expect(reconnected != nil, "no reconnection: \(recorder.log)")
        if let reconnected {
            #expect(reconnected.timeIntervalSince(restarted) <= 5, "reconnected \(reconnected.timeIntervalSince(restarted)) s after the restart")
        }
        #expect(recorder.process.wait(timeout: 40)?.status == 0, "\(recorder.log)")
        let log = recorder.log
        #expect(log.contains("stream \(server.url)/***: disconnected:"), "\(log)")
        #expect(log.contains("stream \(server.url)/***: reconnected after"), "\(log)")
        #expect(!log.contains(name), "the stream key was printed: \(log)")

        // The file: all 16 s, every frame, nothing broken.
        let file = try MediaProbe(path: output)
        #expect(file.video?.frames == 480, "frames \(file.video?.frames ?? 0)")
        #expect(abs((file.duration ?? 0) - 16) <= 0.1, "duration \(file.duration ?? 0)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
        // The server: one recording per connection. The second starts at a
        // keyframe, on the session's timeline (timestamps continue from the
        // media time of the reconnection, at a GOP boundary: every 2 s), and
        // goes on to the end.
        let recordings = server.recordings(name)
        #expect(recordings.count == 2, "\(recordings)")
        if let after = recordings.last, let reconnected {
            let probe = try MediaProbe(path: after)
            #expect(probe.video?.codec == "h264" && probe.audio?.codec == "aac")
            let mediaTimeOfReconnection = reconnected.timeIntervalSince(connected)
            let times = try Subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                            "packet=pts_time,flags", "-of", "csv=p=0", after])
                .standardOutput.split(separator: "\n").map { $0.split(separator: ",") }
            let start = try #require(times.first.flatMap { Double($0[0]) }), end = try #require(times.last.flatMap { Double($0[0]) })
            #expect(times.first?.last?.hasPrefix("K") == true, "the new connection starts with a keyframe")
            #expect(start > 5.5 && start < mediaTimeOfReconnection + 2.5, "resumed at \(start) s, reconnected at \(mediaTimeOfReconnection)")
            #expect(abs(start / 2 - (start / 2).rounded()) < 0.02, "resumed at \(start) s: not a keyframe time")
            #expect(end > 15.5, "the stream went on to \(end) s")
            #expect(Double(times.count) > (end - start) * 30 - 5, "\(times.count) frames from \(start) to \(end) s")
            #expect(try MediaProbe.decodeErrors(after).isEmpty)
        }
        let stream = try #require(try streamStatistics("\(directory)/stats.json").first)
        #expect(stream["connections"] as? Int == 2 && stream["disconnects"] as? Int == 1, "\(stream)")
    }

    @Test func aSlowReaderCostsVideoDropsNotMemoryNorTheFile() throws {
        let bench = try TestBench.current()
        let scene = MovingScene(display: bench.display, width: 640, height: 480)
        defer { scene.stop() }
        let directory = try bench.scratchDirectory("slow")
        let port = try #require(URLComponents(string: bench.rtmpURL)?.port)
        // 40 kB/s (320 kbit/s): room for the audio, far less than the video.
        let proxy = try SlowProxy(targetPort: port, bytesPerSecond: 40_000, directory: directory)
        let name = secretName("slow")
        let output = "\(directory)/unaffected.mp4"
        let recorder = try RecorderRun(bench, ["--region", "640x480+0+0", "--duration", "16", "--output", output,
                                               "--stream", "rtmp://127.0.0.1:\(proxy.port)/live/\(name)",
                                               "--stats-json", "\(directory)/stats.json"], log: "\(directory)/record.log")
        Thread.sleep(forTimeInterval: 5)
        let early = recorder.residentKilobytes ?? 0
        Thread.sleep(forTimeInterval: 9)
        let late = recorder.residentKilobytes ?? 0
        #expect(recorder.process.wait(timeout: 40)?.status == 0, "\(recorder.log)")
        #expect(early > 0 && late > 0)
        #expect(late - early < 12_000, "resident memory grew from \(early) kB to \(late) kB")

        let stream = try #require(try streamStatistics("\(directory)/stats.json").first)
        let dropped = (stream["videoPacketsDroppedToKeyframe"] as? Int ?? 0) + (stream["videoPacketsDroppedDisposable"] as? Int ?? 0)
        #expect(dropped > 30, "video drops counted: \(stream)")
        #expect((stream["packetsSent"] as? Int ?? 0) > 300, "\(stream)")
        // The file got everything, at full rate.
        let file = try MediaProbe(path: output)
        #expect(file.video?.frames == 480, "frames \(file.video?.frames ?? 0)")
        #expect(abs((file.duration ?? 0) - 16) <= 0.1)
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
        let figures = try statistics("\(directory)/stats.json")
        #expect(figures["framesDropped"] as? Int == 0, "the encoder side dropped frames: \(figures)")
        withExtendedLifetime(proxy) {}
    }

    @Test func rtmpsVerifiesTheServerCertificate() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("tls")
        let port = try #require(URLComponents(string: bench.rtmpURL)?.port)
        let tunnel = try TLSTunnel(targetPort: port, directory: "\(directory)/tunnel")
        let base = "rtmps://127.0.0.1:\(tunnel.port)/live"
        func run(_ label: String, _ options: [String]) throws -> (status: Int32?, log: String, name: String) {
            let name = secretName(label)
            let recorder = try RecorderRun(bench, ["--region", "320x240+0+0", "--duration", "3", "--max-reconnects", "0",
                                                   "--stream", "\(base)/\(name)"] + options, log: "\(directory)/\(label).log")
            return (recorder.process.wait(timeout: 30)?.status, recorder.log, name)
        }

        let trusted = try run("trusted", ["--tls-ca", tunnel.authorityPath])
        #expect(trusted.status == 0, "\(trusted.log)")
        #expect(trusted.log.contains("stream \(base)/***: connected"), "\(trusted.log)")
        let received = try MediaProbe(path: "\(bench.rtmpRecordDirectory)/\(trusted.name).flv", countFrames: false)
        #expect(received.video?.codec == "h264" && received.audio?.codec == "aac")

        // Without the test CA the certificate does not verify: a connection
        // failure event, no retry (--max-reconnects 0), exit 1.
        let refused = try run("refused", [])
        #expect(refused.status == 1, "\(refused.log)")
        #expect(refused.log.contains("stream \(base)/***: connection attempt 1 failed:"), "\(refused.log)")
        #expect(refused.log.contains("gave up"), "\(refused.log)")
        #expect(!FileManager.default.fileExists(atPath: "\(bench.rtmpRecordDirectory)/\(refused.name).flv"),
                "nothing reached the server")

        let insecure = try run("insecure", ["--insecure-tls"])
        #expect(insecure.status == 0, "\(insecure.log)")
        #expect(insecure.log.contains("TLS certificate verification is off for \(base)/***"), "\(insecure.log)")
        #expect(FileManager.default.fileExists(atPath: "\(bench.rtmpRecordDirectory)/\(insecure.name).flv"))
        for result in [trusted, refused, insecure] {
            #expect(!result.log.contains(result.name), "the stream key was printed: \(result.log)")
        }
    }

    @Test func anUnreachableServerIsARuntimeEventNotACrash() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("unreachable")
        let port = try freeLoopbackPort()
        let output = "\(directory)/kept.mp4"
        let recorder = try RecorderRun(bench, ["--region", "320x240+0+0", "--duration", "4", "--output", output,
                                               "--stream", "rtmp://127.0.0.1:\(port)/live/unreachable-key"],
                                       log: "\(directory)/record.log")
        #expect(recorder.process.wait(timeout: 30)?.status == 0, "\(recorder.log)")
        let log = recorder.log
        #expect(log.contains("stream rtmp://127.0.0.1:\(port)/live/***: connection attempt 1 failed: avio_open2: Connection refused"),
                "\(log)")
        #expect(log.contains("retrying in"), "\(log)")
        #expect(!log.contains("unreachable-key"))
        #expect(try MediaProbe(path: output).video?.frames == 120)
    }
}
