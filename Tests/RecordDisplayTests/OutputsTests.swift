import Foundation
import Testing
import TestSupport

/// Issue 14's outputs through record-display on the bench: two renditions
/// from one capture (a file and a stream), numbered segments, HLS, and
/// sound alone; checked with ffprobe/ffmpeg and nginx's copy of the stream.
@Suite(.serialized, .tags(.bench)) struct OutputsTests {
    /// Quadrant centres of the 1920x1080 scene (away from the noise band).
    static let quadrants: [(x: Int, y: Int, rgb: (Int, Int, Int))] = [
        (480, 270, (255, 0, 0)), (1440, 270, (0, 255, 0)), (480, 810, (0, 0, 255)), (1440, 810, (255, 255, 255)),
    ]

    /// Four colours over the whole 1920x1080 display and, across its middle
    /// (y 420 to 660), a band of noise that changes every frame: a picture no
    /// encoder can make small, so a rate cap shows.
    private final class Scene {
        let window: TestWindow
        let noise: ChildProcess

        init(_ bench: TestBench) throws {
            window = try TestWindow(displayName: bench.display, x: 0, y: 0, width: 1920, height: 1080)
            for (index, quadrant) in OutputsTests.quadrants.enumerated() {
                let (r, g, b) = quadrant.rgb
                window.fill(UInt32(r << 16 | g << 8 | b), x: index % 2 * 960, y: index / 2 * 540, width: 960, height: 540)
            }
            window.sync()
            noise = try ChildProcess(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "420",
                                      "-f", "lavfi", "color=gray:s=1920x240:r=30,noise=alls=80:allf=t"],
                                     environment: ["DISPLAY": bench.display, "SDL_AUDIODRIVER": "dummy",
                                                   "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"])
        }

        /// Waits until the noise shows on screen (its window mapped).
        func waitForNoise(_ bench: TestBench) throws {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let frame = try Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-f", "x11grab",
                                                      "-video_size", "64x2", "-i", "\(bench.display)+0,540",
                                                      "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"])
                // The band's first row is not the red or blue quadrant's luma.
                if Set(frame).count > 4 { return }
                usleep(100_000)
            }
            throw OutputsTestError("the noise band never showed")
        }

        deinit {
            noise.send(SIGTERM)
            noise.wait()
        }
    }

    private func playTone(_ bench: TestBench, seconds: Int) throws -> ChildProcess {
        try ChildProcess(["bash", "-c", "sox -n -r 48000 -c 2 -b 16 -e signed -t raw - synth \(seconds) sine 440 vol 0.5 | "
                          + "aplay -q -D \(bench.playbackPCM) -t raw -f S16_LE -r 48000 -c 2"])
    }

    private func record(_ bench: TestBench, _ arguments: [String], log name: String,
                        environment: [String: String]? = nil) throws -> ChildProcess {
        let path = "\(bench.directory)/\(name).log"
        precondition(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = FileHandle(forWritingAtPath: path)!
        return try ChildProcess([RecordDisplayBinary.path] + arguments, environment: environment,
                                standardError: .descriptor(handle.fileDescriptor))
    }

    private func log(_ bench: TestBench, _ name: String) -> String {
        (try? String(contentsOfFile: "\(bench.directory)/\(name).log", encoding: .utf8)) ?? ""
    }

    private static func statistics(_ path: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        return try #require(json?["statistics"] as? [String: Any])
    }

    private static func colour(_ rgb: [UInt8], width: Int, x: Int, y: Int) -> (Int, Int, Int) {
        let offset = (y * width + x) * 3
        return (Int(rgb[offset]), Int(rgb[offset + 1]), Int(rgb[offset + 2]))
    }

    /// Bits per packet of the stream's video, in order, with each packet's time.
    private static func videoPackets(_ path: String) throws -> [(time: Double, bits: Int)] {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                         "packet=dts_time,size", "-of", "csv=p=0", path])
        return result.standardOutput.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ",")
            guard fields.count == 2, let time = Double(fields[0]), let size = Int(fields[1]) else { return nil }
            return (time, size * 8)
        }
    }

    @Test func aFileAt1080pCrf25AndAStreamAt720pCappedAt2976kComeFromOneCapture() throws {
        let bench = try TestBench.current()
        let scene = try Scene(bench)
        try scene.waitForNoise(bench)
        let tone = try playTone(bench, seconds: 9)
        defer { tone.send(SIGTERM); tone.wait() }
        let directory = try bench.scratchDirectory("renditions")
        let file = "\(directory)/meeting.mp4", stats = "\(directory)/stats.json"
        let key = "renditions\(getpid())"
        let recorder = try record(bench, [
            "--display", bench.display, "--audio-device", bench.capturePCM, "--region", "1920x1080+0+0",
            "--duration", "5", "--crf", "25", "--output", file, "--stats-json", stats,
            "--rendition", "live:1280x720,preset=veryfast,tune=zerolatency,maxrate=2976k,bufsize=5952k",
            "--stream", "\(bench.rtmpURL)/\(key)@live",
        ], log: "renditions")
        #expect(recorder.wait(timeout: 60)?.status == 0, "\(log(bench, "renditions"))")
        withExtendedLifetime(scene) {}

        let probe = try MediaProbe(path: file)
        let video = try #require(probe.video)
        #expect(video.width == 1920 && video.height == 1080 && video.frames == 150 && video.frameRate == "30/1")
        #expect(probe.audio?.codec == "aac")
        let streamPath = "\(bench.rtmpRecordDirectory)/\(key).flv"
        #expect(SessionWait.until(seconds: 10) { FileManager.default.fileExists(atPath: streamPath) })
        let received = try MediaProbe(path: streamPath)
        let streamVideo = try #require(received.video)
        #expect(streamVideo.width == 1280 && streamVideo.height == 720, "\(streamVideo)")
        #expect(streamVideo.averageFrameRate == "30/1" || streamVideo.frameRate == "30/1", "\(streamVideo)")
        #expect((streamVideo.frames ?? 0) >= 145, "the stream carried \(streamVideo.frames ?? 0) frames")
        #expect(received.audio?.codec == "aac")

        // The cap: over any stretch of the stream, the video's bits stay
        // within maxrate times its length plus the VBV buffer (the slack
        // a full buffer lends). The file at CRF 25 has no cap and shows
        // what the scene costs without one.
        let packets = try Self.videoPackets(streamPath)
        let maxrate = 2_976_000.0, buffer = 5_952_000.0
        var worst = 0.0
        for start in packets.indices where start % 15 == 0 {
            var bits = 0
            for end in start..<packets.count {
                bits += packets[end].bits
                let span = packets[end].time - packets[start].time + 1.0 / 30
                worst = max(worst, Double(bits) - (maxrate * span + buffer))
            }
        }
        #expect(worst <= 0, "the stream exceeded maxrate plus the VBV buffer by \(worst) bits")
        let streamSeconds = (packets.last?.time ?? 0) - (packets.first?.time ?? 0) + 1.0 / 30
        let streamRate = Double(packets.reduce(0) { $0 + $1.bits }) / streamSeconds
        let fileRate = Double(try Self.videoPackets(file).reduce(0) { $0 + $1.bits }) / 5
        #expect(streamRate > maxrate / 2, "the capped stream ran at \(streamRate) bit/s: the scene must fill the cap")
        #expect(fileRate > 2 * maxrate, "the uncapped file ran at \(fileRate) bit/s")

        // Colours at known places, in both sizes.
        let fullFrame = try MediaProbe.decodeFrameRGB(file, at: 3)
        let smallFrame = try MediaProbe.decodeFrameRGB(streamPath, at: 3)
        #expect(fullFrame.count == 1920 * 1080 * 3 && smallFrame.count == 1280 * 720 * 3)
        for quadrant in Self.quadrants {
            let (r, g, b) = quadrant.rgb
            for (rgb, width, scale) in [(fullFrame, 1920, 1.0), (smallFrame, 1280, 2.0 / 3)] {
                let (x, y) = (Int(Double(quadrant.x) * scale), Int(Double(quadrant.y) * scale))
                let got = Self.colour(rgb, width: width, x: x, y: y)
                #expect(abs(got.0 - r) < 24 && abs(got.1 - g) < 24 && abs(got.2 - b) < 24,
                        "\(width) wide at \(x),\(y): \(got), drawn \(quadrant.rgb)")
            }
        }

        // One conversion per grabbed frame for both encodes, one scale each.
        let figures = try Self.statistics(stats)
        let captured = figures["framesCaptured"] as? Int ?? 0
        let converted = figures["framesConverted"] as? Int ?? -1
        let scaled = figures["framesScaled"] as? Int ?? -1
        let renditions = figures["renditions"] as? [[String: Any]] ?? []
        #expect(renditions.count == 2, "\(renditions)")
        #expect(renditions.map { $0["width"] as? Int ?? 0 } == [1920, 1280])
        let unchanged = figures["framesUnchanged"] as? Int ?? -1
        // At most one conversion per changed grab, for both encodes (two
        // would be one per encode), and at most one scale per conversion.
        // How many grabs changed is the scene's (ffplay's noise band keeps
        // 30 fps only on a quiet machine): enough that the counters count.
        #expect(converted > 20 && unchanged >= 0 && converted <= captured - unchanged,
                "\(converted) conversions for \(captured) grabs, \(unchanged) of them unchanged")
        #expect(scaled > 20 && scaled <= converted, "\(scaled) scaled pictures for \(converted) conversions")
    }

    @Test func segmentsOfThreeSecondsOverSevenAreCutAtKeyframesAddUpAndTheScriptRunsOnceAfterTheLast() throws {
        let bench = try TestBench.current()
        let scene = try Scene(bench)
        try scene.waitForNoise(bench)
        let directory = try bench.scratchDirectory("segments")
        let script = "\(bench.directory)/segments-finalize.sh"
        try """
            #!/bin/sh
            echo "$@" >> \(bench.directory)/segments-calls
            ls \(directory) | grep -c 'part-[0-9]*.mp4$' >> \(bench.directory)/segments-calls
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let stats = "\(bench.directory)/segments.json"
        let recorder = try record(bench, [
            "--display", bench.display, "--audio-device", bench.capturePCM, "--region", "1280x720+0+0",
            "--duration", "7", "--segment-time", "3", "--output", "\(directory)/part.mp4",
            "--finalize-script", script, "--stats-json", stats,
        ], log: "segments")
        #expect(recorder.wait(timeout: 40)?.status == 0, "\(log(bench, "segments"))")
        withExtendedLifetime(scene) {}
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        // 2 s GOPs: cut at the first keyframe at or after 3 s (4 s), then
        // after 6 s (6 s); the last segment holds what is left (1 s).
        #expect(names == ["part-000.mp4", "part-001.mp4", "part-002.mp4"], "\(names)")
        var total = 0.0, frameCounts: [Int] = []
        for name in names {
            let path = "\(directory)/\(name)"
            let errors = try RecordedOutputChecks.strictDecodeErrors(path)
            #expect(errors.isEmpty, "\(name) decodes with errors: \(errors)")
            let boxes = try MediaProbe.topLevelBoxes(path)
            #expect(boxes.contains("moov") && !boxes.contains("moof"), "\(name) is finished: \(boxes)")
            let frames = try #require(try MediaProbe(path: path).video?.frames)
            total += Double(frames) / 30
            frameCounts.append(frames)
        }
        #expect(frameCounts == [120, 60, 30], "frames per segment: \(frameCounts)")
        #expect(abs(total - 7) <= 1.0 / 30 + 1e-9, "the segments hold \(total) s of the 7 recorded")
        let segments = try Self.statistics(stats)["segments"] as? [[String: Any]] ?? []
        #expect(segments.map { ($0["path"] as? String ?? "").split(separator: "/").last.map(String.init) ?? "" } == names)
        #expect(segments.allSatisfy { $0["state"] as? String == "finished in place" }, "\(segments)")
        let calls = try String(contentsOfFile: "\(bench.directory)/segments-calls", encoding: .utf8).split(separator: "\n")
        #expect(calls == [Substring(directory), "3"], "the script runs once, after the last segment: \(calls)")
    }

    @Test func killNineMidSegmentLeavesEarlierSegmentsWholeAndTheCurrentOnePlayable() throws {
        let bench = try TestBench.current()
        let scene = try Scene(bench)
        try scene.waitForNoise(bench)
        let tone = try playTone(bench, seconds: 8)
        defer { tone.send(SIGTERM); tone.wait() }
        let directory = try bench.scratchDirectory("segments-kill")
        let recorder = try record(bench, [
            "--display", bench.display, "--audio-device", bench.capturePCM, "--region", "1280x720+0+0",
            "--segment-time", "4", "--output", "\(directory)/cut.mp4",
        ], log: "segments-kill")
        // Into the second segment (it starts at 4 s, a keyframe) until two
        // of its fragments (1 s each) are on disk; it would end at 8 s.
        let second = "\(directory)/cut-001.mp4"
        let fragments = SessionWait.until(seconds: 20) {
            ((try? MediaProbe.topLevelBoxes(second)) ?? []).filter { $0 == "moof" }.count >= 2
        }
        #expect(fragments, "\(log(bench, "segments-kill"))")
        recorder.send(SIGKILL)
        #expect(recorder.wait().status == 128 + SIGKILL)
        withExtendedLifetime(scene) {}

        let first = "\(directory)/cut-000.mp4"
        let boxes = try MediaProbe.topLevelBoxes(first)
        #expect(boxes.contains("moov") && !boxes.contains("moof"), "the first segment was finished: \(boxes)")
        #expect(try RecordedOutputChecks.strictDecodeErrors(first).isEmpty)
        #expect(try MediaProbe(path: first).video?.frames == 120, "the first segment holds 0-4 s")
        // The current one plays as it was left, and repairs to a regular MP4.
        let errors = try MediaProbe.decodeErrors(second)
        #expect(errors.isEmpty, "\(errors) \((try? MediaProbe.topLevelBoxes(second)) ?? [])")
        let played = try MediaProbe.decodableSeconds(second, stream: "v:0")
        #expect(played >= 1.0, "the killed segment plays \(played) s")
        let repair = try Subprocess.run([RecordDisplayBinary.path, "repair", second])
        #expect(repair.status == 0, "\(repair.standardError)")
        let repaired = try MediaProbe.topLevelBoxes(second)
        #expect(repaired.contains("moov") && !repaired.contains("moof"), "\(repaired)")
        #expect(try RecordedOutputChecks.strictDecodeErrors(second).isEmpty)
    }

    @Test func hlsListsSegmentsWhileRecordingEndsWithEndlistAndFFmpegReadsItAll() throws {
        let bench = try TestBench.current()
        let scene = try Scene(bench)
        try scene.waitForNoise(bench)
        let directory = try bench.scratchDirectory("hls")
        let playlist = "\(directory)/meeting.m3u8"
        let recorder = try record(bench, [
            "--display", bench.display, "--audio-device", bench.capturePCM, "--region", "1280x720+0+0",
            "--duration", "6", "--hls", playlist, "--stats-json", "\(bench.directory)/hls.json",
        ], log: "hls")
        // While recording: every look finds a whole playlist (renamed into
        // place), EVENT, without ENDLIST, naming only complete segments.
        var looks = 0, listedWhileRecording = 0
        // (`wait(timeout:)` is the 0.1 s pause between looks.)
        while recorder.wait(timeout: 0.1) == nil {
            if let text = try? String(contentsOfFile: playlist, encoding: .utf8) {
                looks += 1
                #expect(text.hasPrefix("#EXTM3U\n") && text.hasSuffix("\n"), "a torn playlist: \(text)")
                #expect(text.contains("#EXT-X-PLAYLIST-TYPE:EVENT"))
                let listed = text.split(separator: "\n").filter { $0.hasSuffix(".m4s") }
                if !text.contains("#EXT-X-ENDLIST") { listedWhileRecording = max(listedWhileRecording, listed.count) }
                for name in listed {
                    #expect(FileManager.default.fileExists(atPath: "\(directory)/\(name)"), "\(name) is listed but absent")
                }
            }
        }
        withExtendedLifetime(scene) {}
        #expect(recorder.wait().status == 0, "\(log(bench, "hls"))")
        #expect(looks > 20)
        #expect(listedWhileRecording >= 2, "the live playlist listed at most \(listedWhileRecording) segments")
        let text = try String(contentsOfFile: playlist, encoding: .utf8)
        #expect(text.hasSuffix("#EXT-X-ENDLIST\n"), "\(text)")
        let durations = text.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
            .compactMap { Double($0.dropFirst(8).dropLast()) }
        #expect(durations.count == 3, "2 s GOPs over 6 s: \(durations)")
        #expect(abs(durations.reduce(0, +) - 6) < 1.0 / 30, "\(durations)")
        let read = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", playlist, "-f", "null", "-"])
        #expect(read.status == 0 && read.standardError.isEmpty, "\(read.standardError)")
        let probe = try MediaProbe(path: playlist)
        #expect(probe.video?.frames == 180, "\(String(describing: probe.video?.frames)) frames")
        #expect(probe.audio?.codec == "aac")
        #expect(abs((probe.duration ?? 0) - 6) < 0.05, "duration \(probe.duration ?? 0)")
        // The init segment carries the recording's start, as every MP4 does.
        let tags = try Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format_tags=creation_time",
                                       "-of", "default=nw=1:nk=1", "\(directory)/meeting-init.mp4"])
        let created = ISO8601DateFormatter.withFractions.date(from: tags.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(created.map { abs($0.timeIntervalSinceNow) < 120 } == true, "creation_time \(tags.standardOutput)")
    }

    @Test func soundAloneIsOneAACStreamWithTheToneTheDurationAndNoDisplay() throws {
        let bench = try TestBench.current()
        let tone = try playTone(bench, seconds: 7)
        defer { tone.send(SIGTERM); tone.wait() }
        let directory = try bench.scratchDirectory("sound")
        let output = "\(directory)/sound.m4a"
        // No display at all: neither --display nor $DISPLAY.
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = nil
        let recorder = try record(bench, ["--no-video", "--audio-device", bench.capturePCM, "--duration", "4",
                                          "--output", output], log: "sound", environment: environment)
        #expect(recorder.wait(timeout: 40)?.status == 0, "\(log(bench, "sound"))")
        let problems = try RecordedOutputChecks.soundAloneProblems(output, tone: 440, seconds: 4)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(arguments: [
        (["--rendition", "live:0x720", "--stream", "URL@live"], "--rendition 'live:0x720'"),
        (["--rendition", "live:1281x720", "--stream", "URL@live"], "--rendition 'live:1281x720'"),
        (["--rendition", "live:9000x720", "--stream", "URL@live"], "--rendition 'live:9000x720'"),
        (["--size", "0x0"], "--size '0x0'"),
        (["--size", "1280x719"], "--size '1280x719'"),
        (["--rendition", "live:1280x720", "--stream", "URL@nosuch"], "--stream 'nosuch'"),
        (["--stream", "URL@nosuch"], "--stream 'nosuch'"),
        (["--rendition", "live:1280x720", "--output", "FILE@other"], "--output 'other'"),
        (["--rendition", "spare:640x360"], "--rendition 'spare'"),
        (["--segment-time", "0"], "--segment-time '0.0'"),
        (["--segment-time=-5"], "--segment-time '-5.0'"),
        (["--segment-size", "0"], "--segment-size '0'"),
        (["--no-video", "--region", "640x480+0+0"], "--no-video '640x480+0+0'"),
        (["--no-video", "--stream", "URL"], "--no-video"),
        (["--hls", "FILE"], "--hls"),
        // A second file or playlist is refused, not silently dropped (the
        // parser alone would keep the last one given).
        (["--output", "FILE", "--output", "FILE2"], "2': given twice"),
        (["--hls", "FILE.m3u8", "--hls", "FILE2.m3u8"], "2.m3u8': given twice"),
    ])
    func badOutputInputExitsWithCodeTwoNamingTheValueWithNothingWrittenOrConnected(arguments: [String],
                                                                                 expected: String) throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("bad-outputs")
        let key = "never\(getpid())"
        let substituted = arguments.map {
            $0.replacingOccurrences(of: "URL", with: "\(bench.rtmpURL)/\(key)")
                .replacingOccurrences(of: "FILE", with: "\(directory)/never.mp4")
        }
        let output = substituted.contains("--output") ? [] : ["--output", "\(directory)/never.mp4"]
        let result = try Subprocess.run([RecordDisplayBinary.path, "--display", bench.display,
                                         "--audio-device", bench.capturePCM, "--duration", "1"] + output + substituted)
        #expect(result.status == 2, "\(arguments): \(result.standardError)")
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(result.standardError)")
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(!result.standardError.contains(key), "the stream key was printed: \(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing may be written")
        #expect(!FileManager.default.fileExists(atPath: "\(bench.rtmpRecordDirectory)/\(key).flv"), "no connection")
    }
}

struct OutputsTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polling with a deadline.
enum SessionWait {
    static func until(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }
}
