import Foundation
import Testing
import TestSupport

/// jibri-ffmpeg on the bench, given Jibri's own argument lists, its output
/// read as Jibri reads it (`JibriCapturerState`, from Jibri's source), and
/// what it wrote or streamed read back with ffprobe.
@Suite(.serialized, .tags(.bench)) struct JibriFFmpegBenchTests {
    /// How long Jibri may wait for a recording to start here: ffmpeg shows
    /// progress within about a second; the test allows three.
    static let startLimit = 3.0
    /// Jibri sends SIGKILL 10 s after SIGINT (`JibriSubprocess.stop`).
    static let stopLimit = 10.0

    private func playTone(_ bench: TestBench, seconds: Int) throws -> ChildProcess {
        try ChildProcess.tone(pcm: bench.playbackPCM, seconds: Double(seconds))
    }

    /// Runs `arguments` until Jibri would call it running and `seconds` of
    /// media are done, then stops it as Jibri does; checks Jibri's view.
    private func recordThenStop(_ arguments: [String], seconds: Double) throws -> JibriProcess {
        let recorder = try JibriProcess(arguments)
        #expect(recorder.waitUntil(seconds: Self.startLimit) { $0.state == .running },
                "not running within \(Self.startLimit) s:\n\(recorder.log)")
        #expect(recorder.waitUntil(seconds: seconds + 10) { $0.mediaSeconds >= seconds }, "\(recorder.log)")
        let stop = Date()
        recorder.interrupt()
        let status = recorder.waitForExit(seconds: Self.stopLimit)
        #expect(status == 0, "exit status \(status.map(String.init) ?? "none within \(Self.stopLimit) s"):\n\(recorder.log)")
        #expect(Date().timeIntervalSince(stop) < Self.stopLimit)
        #expect(recorder.lines.last == "Exiting normally, received signal 2.", "\(recorder.log)")
        #expect(recorder.state == .finished && recorder.transitions == [.running, .finished], "\(recorder.transitions)")
        #expect(recorder.misleadingLines.isEmpty, "lines Jibri would misread: \(recorder.misleadingLines)")
        return recorder
    }

    /// The file holds what the progress lines said: H.264 and AAC, the
    /// frames, the length.
    private func checkRecording(_ path: String, _ recorder: JibriProcess, width: Int, height: Int, level: Int) throws {
        let probe = try MediaProbe(path: path)
        let video = try #require(probe.video), audio = try #require(probe.audio)
        #expect(probe.streams.count == 2)
        #expect(video.codec == "h264" && video.width == width && video.height == height && video.level == level)
        #expect(audio.codec == "aac" && audio.sampleRate == 44_100)
        #expect(video.frameRate == "30/1")
        let frames = try #require(recorder.frames)
        #expect(abs((video.frames ?? 0) - frames) <= 1, "file \(video.frames ?? 0) frames, last progress line \(frames)")
        #expect(abs((probe.duration ?? 0) - Double(video.frames ?? 0) / 30) < 0.1, "duration \(probe.duration ?? 0)")
    }

    @Test func todaysRecordingListRecordsAndFinishesAsJibriExpects() throws {
        let bench = try TestBench.current()
        let tone = try playTone(bench, seconds: 16)
        defer { tone.send(SIGTERM); tone.wait() }
        let directory = try bench.scratchDirectory("jibri-recording")
        let output = "\(directory)/meeting_2026-11-30-12-00-00.mp4"
        let recorder = try recordThenStop(JibriArguments.recording(display: bench.display, pcm: bench.capturePCM, output: output),
                                          seconds: 6)
        try checkRecording(output, recorder, width: 1920, height: 1080, level: 40)
        #expect(recorder.lines.contains { $0.contains("-level 3.1 is too low for 1920x1080 at 30 fps") }, "\(recorder.log)")
        let samples = try MediaProbe.decodeAudio(output, start: 2, seconds: 3)
        let frequency = try #require(ToneAnalysis.medianFrequency(of: samples, sampleRate: 44_100))
        #expect(abs(frequency - 440) < 1, "tone at \(frequency) Hz")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["meeting_2026-11-30-12-00-00.mp4"])
    }

    @Test func todaysStreamingListStreamsAndFinishesAsJibriExpects() throws {
        let bench = try TestBench.current()
        let key = "jibri-\(UUID().uuidString.prefix(8))"
        let recorder = try recordThenStop(JibriArguments.streaming(display: bench.display, pcm: bench.capturePCM,
                                                                   url: "\(bench.rtmpURL)/\(key)"), seconds: 5)
        #expect(!recorder.log.contains(key), "the stream key was printed:\n\(recorder.log)")
        try checkStreamed("\(bench.rtmpRecordDirectory)/\(key).flv", atLeast: 4)
    }

    /// What nginx recorded: H.264 and AAC, at least `seconds` long.
    private func checkStreamed(_ path: String, atLeast seconds: Double, width: Int = 1920) throws {
        #expect(FileManager.default.fileExists(atPath: path), "nginx recorded nothing at \(path)")
        let probe = try MediaProbe(path: path, countFrames: false)
        #expect(probe.video?.codec == "h264" && probe.video?.width == width)
        #expect(probe.audio?.codec == "aac")
        #expect((probe.duration ?? 0) >= seconds, "nginx recorded \(probe.duration ?? 0) s")
    }

    @Test func jibri2018StreamingListAt720p() throws {
        let bench = try TestBench.current()
        let key = "jibri2018-\(UUID().uuidString.prefix(8))"
        _ = try recordThenStop(JibriArguments.streaming2018(display: bench.display, pcm: bench.capturePCM,
                                                            url: "\(bench.rtmpURL)/\(key)"), seconds: 4)
        try checkStreamed("\(bench.rtmpRecordDirectory)/\(key).flv", atLeast: 3, width: 1280)
    }

    @Test func jibri2023RecordingListAt720p() throws {
        let bench = try TestBench.current()
        let output = "\(try bench.scratchDirectory("jibri-2023"))/recording.mp4"
        let recorder = try recordThenStop(JibriArguments.recording2023(display: bench.display, pcm: bench.capturePCM,
                                                                       output: output), seconds: 4)
        try checkRecording(output, recorder, width: 1280, height: 720, level: 31)
    }

    /// An operator's list: a PulseAudio source (`-f pulse`, read through
    /// ALSA's pulse plugin), the demuxer options' own names, a length (`-t`)
    /// that ends it without a signal, as ffmpeg ends: exit 0, no finished line.
    @Test func anOperatorsPulseListRecordsTheSourceForItsLength() throws {
        let bench = try TestBench.current()
        let tone = try playTone(bench, seconds: 8)
        defer { tone.send(SIGTERM); tone.wait() }
        let output = "\(try bench.scratchDirectory("jibri-pulse"))/pulse.mp4"
        // scripts/testbench's null sink is "bench"; its monitor is the source.
        let recorder = try JibriProcess(["-nostdin", "-hide_banner", "-f", "x11grab", "-framerate", "25", "-video_size", "nhd",
                                         "-i", "\(bench.display)+0,0", "-f", "pulse", "-i", "bench.monitor",
                                         "-c:a", "aac", "-ar", "48000", "-c:v", "libx264", "-preset", "superfast", "-b:v", "800k",
                                         "-t", "4", "-movflags", "+faststart", output])
        #expect(recorder.waitUntil(seconds: Self.startLimit) { $0.state == .running }, "\(recorder.log)")
        #expect(recorder.waitForExit(seconds: 15) == 0, "\(recorder.log)")
        #expect(recorder.lines.last?.hasPrefix("jibri-ffmpeg: wrote \(output)") == true, "\(recorder.log)")
        #expect(recorder.misleadingLines.isEmpty, "\(recorder.misleadingLines)")
        let probe = try MediaProbe(path: output)
        #expect(probe.video?.width == 640 && probe.video?.height == 360 && probe.video?.frameRate == "25/1")
        #expect(probe.video?.frames == 100, "4 s at 25 fps: \(probe.video?.frames ?? 0)")
        #expect(probe.audio?.sampleRate == 48_000)
        let samples = try MediaProbe.decodeAudio(output, rate: 48_000, start: 1, seconds: 2)
        let frequency = try #require(ToneAnalysis.medianFrequency(of: samples, sampleRate: 48_000))
        #expect(abs(frequency - 440) < 1, "tone at \(frequency) Hz")
    }

    /// A refused stream must end in Jibri's bad-URL error, which Jibri does
    /// not retry, with the key hidden: an application nginx does not have,
    /// and a port nothing listens on.
    @Test(arguments: ["application", "port"])
    func aRefusedStreamEndsInJibrisBadURLError(refusal: String) throws {
        let bench = try TestBench.current()
        let key = "secret-\(UUID().uuidString.prefix(8))"
        let url = refusal == "application"
            ? bench.rtmpURL.replacingOccurrences(of: "/live", with: "/nosuchapp") + "/\(key)"
            : "rtmp://127.0.0.1:\(try freeLoopbackPort())/live/\(key)"
        let recorder = try JibriProcess(JibriArguments.streaming(display: bench.display, pcm: bench.capturePCM,
                                                                 size: "1280x720", url: url))
        let status = recorder.waitForExit(seconds: 15)
        #expect(status == 1, "exit status \(status.map(String.init) ?? "none: still running"):\n\(recorder.log)")
        #expect(recorder.state == .error(.badRtmpUrl), "\(recorder.state):\n\(recorder.log)")
        #expect(recorder.transitions == [.error(.badRtmpUrl)], "it must not look running first: \(recorder.transitions)")
        #expect(recorder.lines.last?.hasSuffix("/***: Input/output error") == true, "\(recorder.log)")
        #expect(!recorder.log.contains(key), "the stream key was printed:\n\(recorder.log)")
        #expect(recorder.misleadingLines.isEmpty, "\(recorder.misleadingLines)")
    }

    /// The server goes away mid-stream and comes back: the progress lines go
    /// on, Jibri never sees an error, and the server receives media again.
    @Test func aServerRestartKeepsTheSessionRunning() throws {
        let bench = try TestBench.current()
        let server = try RTMPServer(directory: try bench.scratchDirectory("jibri-restart"))
        let recorder = try JibriProcess(JibriArguments.streaming(display: bench.display, pcm: bench.capturePCM,
                                                                 size: "1280x720", url: "\(server.url)/restart"))
        #expect(recorder.waitUntil(seconds: Self.startLimit) { $0.state == .running }, "\(recorder.log)")
        #expect(recorder.waitUntil(seconds: 10) { $0.mediaSeconds >= 3 }, "\(recorder.log)")

        server.stop()
        #expect(recorder.waitUntil(seconds: 10) { $0.lines.contains { $0.contains("disconnected") } }, "\(recorder.log)")
        let downAt = recorder.progressLines.count, downMedia = recorder.mediaSeconds
        #expect(recorder.waitUntil(seconds: 5) { $0.progressLines.count >= downAt + 4 && $0.mediaSeconds > downMedia + 1.5 },
                "progress must go on while the server is away:\n\(recorder.log)")
        try server.start()
        #expect(recorder.waitUntil(seconds: 20) { $0.lines.contains { $0.contains("reconnected") } }, "\(recorder.log)")
        let backMedia = recorder.mediaSeconds
        #expect(recorder.waitUntil(seconds: 10) { $0.mediaSeconds >= backMedia + 3 }, "\(recorder.log)")
        #expect(recorder.state == .running, "\(recorder.state)")

        recorder.interrupt()
        #expect(recorder.waitForExit(seconds: Self.stopLimit) == 0, "\(recorder.log)")
        #expect(recorder.state == .finished && recorder.transitions == [.running, .finished], "\(recorder.transitions)")
        #expect(recorder.misleadingLines.isEmpty, "\(recorder.misleadingLines)")
        let recordings = server.recordings("restart")
        #expect(recordings.count == 2, "one recording per connection: \(recordings)")
        if let after = recordings.last {
            let probe = try MediaProbe(path: after, countFrames: false)
            #expect(probe.video?.codec == "h264" && probe.audio?.codec == "aac")
            #expect((probe.duration ?? 0) >= 2, "after the restart nginx recorded \(probe.duration ?? 0) s")
        }
    }
}
