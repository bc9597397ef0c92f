import Foundation
import Testing
import TestSupport

/// `record-display repair` and the crash states it repairs: a kill while
/// recording, a kill after each write of finishing (in `repair` itself and
/// in the recorder's own finishing), files that are not ours.
@Suite(.serialized, .tags(.bench)) struct RepairCommandTests {
    private func scene(_ bench: TestBench) throws -> TestWindow {
        let window = try TestWindow(displayName: bench.display, x: 0, y: 0, width: 640, height: 480)
        window.fill(0xFF0000, x: 0, y: 0, width: 320, height: 240)
        window.fill(0x00FF00, x: 320, y: 0, width: 320, height: 240)
        window.fill(0x0000FF, x: 0, y: 240, width: 640, height: 240)
        window.sync()
        return window
    }

    private func repair(_ path: String, killAfterStep step: Int? = nil) throws -> CommandResult {
        var environment = ProcessInfo.processInfo.environment
        if let step { environment["SDC_TEST_KILL_AFTER_FINISH_STEP"] = String(step) }
        return try Subprocess.run([RecordDisplayBinary.path, "repair", path], environment: environment)
    }

    /// Polls until `condition` holds or `seconds` pass.
    private func waitUntil(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    private func fragments(_ path: String) -> Int {
        (try? MP4Inspection.boxes(path).filter { $0.type == "moof" }.count) ?? 0
    }

    /// The file is a finished recording with every one of `expected` packets.
    private func expectFinished(_ path: String, packets expected: (video: Int, audio: Int),
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let types = try MP4Inspection.boxes(path).map(\.type)
        #expect(types.filter { $0 == "moov" }.count == 1 && !types.contains("moof"), "\(types.prefix(6))",
                sourceLocation: sourceLocation)
        #expect(types.firstIndex(of: "moov") ?? 99 < types.firstIndex(of: "mdat") ?? 0, sourceLocation: sourceLocation)
        let counts = try MP4Inspection.packetCounts(path)
        #expect(counts.video == expected.video && counts.audio == expected.audio, "\(counts), expected \(expected)",
                sourceLocation: sourceLocation)
        #expect(try MP4Inspection.decodeErrors(path).isEmpty, sourceLocation: sourceLocation)
    }

    @Test func aRecordingKilledWhileRecordingAndAfterEachFinishingStepIsRepairedWhole() throws {
        let bench = try TestBench.current()
        let window = try scene(bench)
        defer { withExtendedLifetime(window) {} }
        let directory = try bench.scratchDirectory("repair-kill")
        let crashed = "\(directory)/crashed.mp4"
        let recorder = try ChildProcess([RecordDisplayBinary.path, "--display", bench.display, "--audio-device",
                                         bench.capturePCM, "--region", "640x480+0+0", "--output", crashed])
        #expect(waitUntil(30) { fragments(crashed) >= 5 }, "fragments written")
        recorder.send(SIGKILL)
        #expect(recorder.wait().status == 128 + SIGKILL)
        #expect(try MP4Inspection.decodeErrors(crashed).isEmpty, "a killed recording plays as it is")
        let expected = try MP4Inspection.packetCounts(crashed)
        let original = try Data(contentsOf: URL(fileURLWithPath: crashed))

        // Stop the repair after its 1st, 2nd, ... write: every state it
        // leaves is finished by running the repair again, nothing lost.
        var step = 1
        while step < 100 {
            let path = "\(directory)/step-\(step).mp4"
            try original.write(to: URL(fileURLWithPath: path))
            let stopped = try repair(path, killAfterStep: step)
            if stopped.status == 0 { break }
            #expect(stopped.status == 128 + SIGKILL, "\(stopped.standardError)")
            // While the fragment headers are in sight of the fragmented
            // moov, the file plays as it is; once one mdat header covers them
            // and until the fragmented moov is retired, only the rerun makes
            // it play (MP4InPlaceFinisher's state 4).
            let asIs = try MP4Inspection.decodeErrors(path)
            let headersInSight = try MP4Inspection.boxes(path).contains { $0.type == "moof" }
            #expect(asIs.isEmpty || !headersInSight, "after step \(step) as it is: \(asIs)")
            let again = try repair(path)
            #expect(again.status == 0, "\(again.standardError)")
            try expectFinished(path, packets: expected)
            step += 1
        }
        #expect(step >= 6, "killed after each of its \(step - 1) writes (index, headers; a cut tail)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".finalizing") }
        #expect(leftovers.isEmpty)

        // The whole run, then a second repair that finds it finished.
        let path = "\(directory)/whole.mp4"
        try original.write(to: URL(fileURLWithPath: path))
        let result = try repair(path)
        #expect(result.status == 0 && result.standardError.contains("repaired \(path)"), "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1)
        try expectFinished(path, packets: expected)
        let finished = try Data(contentsOf: URL(fileURLWithPath: path))
        let second = try repair(path)
        #expect(second.status == 0 && second.standardError.contains("finished recording already"), "\(second.standardError)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == finished, "untouched")
        let playback = try HeadlessChromium.playVideo(path)
        #expect(playback.endedAt != nil && playback.error == nil, "\(playback.log)")
    }

    /// The recorder's own finishing killed after a few of its writes.
    @Test(arguments: [1, 3, 4, 5])
    func aRecorderKilledWhileFinishingLeavesARepairableFileAndNoCopy(step: Int) throws {
        let bench = try TestBench.current()
        let window = try scene(bench)
        defer { withExtendedLifetime(window) {} }
        let directory = try bench.scratchDirectory("finish-kill")
        let path = "\(directory)/stopped.mp4"
        var environment = ProcessInfo.processInfo.environment
        environment["SDC_TEST_KILL_AFTER_FINISH_STEP"] = String(step)
        let result = try Subprocess.run([RecordDisplayBinary.path, "--display", bench.display, "--audio-device",
                                         bench.capturePCM, "--region", "640x480+0+0", "--duration", "3", "--output", path],
                                        environment: environment)
        #expect(result.status == 128 + SIGKILL, "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["stopped.mp4"], "no copy beside it")
        if step < 4 {
            #expect(try MP4Inspection.decodeErrors(path).isEmpty, "plays as it is before the fragments are covered")
        }
        let repaired = try repair(path)
        #expect(repaired.status == 0, "\(repaired.standardError)")
        let counts = try MP4Inspection.packetCounts(path)
        #expect(counts.video == 90, "3 s at 30 fps: \(counts)")
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        #expect(abs((try MediaProbe(path: path, countFrames: false).duration ?? 0) - 3) < 0.1)
    }

    @Test func filesThatAreNotOurRecordingsGetOneLineAndExitTwoUntouched() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("repair-refuse")
        let text = "\(directory)/notes.mp4"
        try Data("meeting notes, not a video\n".utf8).write(to: URL(fileURLWithPath: text))
        let theirs = "\(directory)/ffmpeg.mp4"
        let made = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30",
                                       "-t", "2", "-c:v", "libx264", "-movflags", "frag_keyframe+empty_moov", theirs])
        try #require(made.status == 0)
        for (path, words) in [(text, "not an MP4"), (theirs, "not a recording of ours"),
                              ("\(directory)/missing.mp4", "cannot be read")] {
            let before = try? Data(contentsOf: URL(fileURLWithPath: path))
            let result = try repair(path)
            #expect(result.status == 2, "\(path): \(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
            #expect(result.standardError.contains(path) && result.standardError.contains(words), "\(result.standardError)")
            #expect((try? Data(contentsOf: URL(fileURLWithPath: path))) == before, "untouched")
        }
        let usage = try Subprocess.run([RecordDisplayBinary.path, "repair"])
        #expect(usage.status == 2 && usage.standardError.split(separator: "\n").count == 1, "\(usage.standardError)")
    }

    /// Issue 11's input: 6 MiB of disk, crf 1 on a moving picture, 25 s.
    @Test func aFullDiskEndsTheRecordingWithEveryWholeFragmentAndTheBytesOnDisk() throws {
        let bench = try TestBench.current()
        let disk = try SmallDisk(bytes: 6 << 20)
        defer { disk.unmount() }
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = bench.display
        environment["SDL_AUDIODRIVER"] = "dummy"
        let picture = try ChildProcess(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0",
                                        "-f", "lavfi", "testsrc2=s=1280x720:r=30"], environment: environment)
        defer { picture.send(SIGTERM); picture.wait() }
        #expect(waitUntil(20) {
            (try? Subprocess.run(["xwininfo", "-display", bench.display, "-root", "-tree"]).standardOutput.contains("testsrc2")) == true
        }, "ffplay shows the moving picture")
        let output = "\(disk.path)/full.mp4"
        let stats = "\(try bench.scratchDirectory("full-disk"))/stats.json"
        let result = try Subprocess.run([RecordDisplayBinary.path, "--display", bench.display, "--audio-device",
                                         bench.capturePCM, "--region", "1280x720+0+0", "--crf", "1", "--duration", "25",
                                         "--output", output, "--stats-json", stats])
        #expect(result.status == 1, "\(result.standardError)")
        let lines = result.standardError.split(separator: "\n").map(String.init)
        let errors = lines.filter { $0.contains("error:") }
        #expect(errors.count == 1 && errors.first?.contains(output) == true
                && errors.first?.contains("No space left on device") == true, "\(result.standardError)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int)
        let summary = try #require(lines.first { $0.contains("wrote \(output)") }, "\(result.standardError)")
        #expect(summary.contains("; \(size) bytes on disk, "), "\(summary)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any])
        #expect(json["outputBytes"] as? Int == size)
        let state = try #require(json["outputState"] as? String)
        #expect(summary.contains(state), "\(summary)")
        let types = try MP4Inspection.boxes(output)
        if state == "kept as written" {
            #expect(types.last?.type == "mdat" && types.last?.end == Int64(size), "ends at a whole fragment")
        } else {
            #expect(state == "finished in place")
            #expect(!types.map(\.type).contains("moof") && types.map(\.type).contains("moov"))
        }
        #expect(try MP4Inspection.decodeErrors(output).isEmpty)
        let frames = try #require(try MediaProbe(path: output).video?.frames)
        #expect(frames >= 15, "at least half a second kept: \(frames) frames")
    }
}
