import Foundation
import Testing
import TestSupport

/// Issue 11, part 3: a display that changes size (RandR) while recording.
/// A real Xtigervnc at 1280x720 shows one colour everywhere; at 3 s it
/// shrinks to 1024x768, at 6 s it grows to 1920x1080. The recording must go
/// on to its 10 s with its size, black where the region is off screen.
@Suite(.serialized, .tags(.bench)) struct DisplayResizeTests {
    static let colour = (r: 48, g: 96, b: 192)

    struct Case: CustomTestStringConvertible, Sendable {
        /// `--region`, or nil for the whole screen.
        let region: String?
        /// Output size.
        let width: Int, height: Int
        /// Points of the output (x, y) on and off the 1024x768 screen.
        let onScreen: [(Int, Int)]
        let offScreen: [(Int, Int)]
        /// Grab every frame whole instead of following DAMAGE.
        var fullGrabs = false
        /// The server's depth: 16 records from RGB565 pixels.
        var depth = 24
        var testDescription: String {
            (region.map { "region \($0)" } ?? "whole screen") + (fullGrabs ? ", full grabs" : ", DAMAGE")
                + (depth == 24 ? "" : ", depth \(depth)")
        }
    }

    static let cases = [
        // 1280x720 on a 1024x768 screen: x >= 1024 is off screen.
        Case(region: nil, width: 1280, height: 720, onScreen: [(100, 100), (1000, 700)], offScreen: [(1030, 100), (1270, 710)]),
        // A user's region 400x300 at (800, 400): 224x300 of it stays on screen.
        Case(region: "400x300+800+400", width: 400, height: 300, onScreen: [(10, 10), (220, 290)],
             offScreen: [(230, 10), (390, 290)]),
        Case(region: nil, width: 1280, height: 720, onScreen: [(100, 100), (1000, 700)], offScreen: [(1030, 100), (1270, 710)],
             fullGrabs: true),
        // A 16-bit screen: damage, the resize and the black strips work on
        // 2-byte pixels too; the colour is checked against its 5/6-bit form.
        Case(region: "400x300+800+400", width: 400, height: 300, onScreen: [(10, 10), (220, 290)],
             offScreen: [(230, 10), (390, 290)], depth: 16),
    ]

    @Test(arguments: cases)
    func aResizedDisplayKeepsTheRecordingGoingWithItsSize(_ testCase: Case) async throws {
        let bench = try TestBench.current()
        let server = try await RandRServer(width: 1280, height: 720, depth: testCase.depth, bench: bench)
        defer { server.stop() }
        // One colour over any screen size the test sets; the server repaints
        // it when a resize exposes the window.
        let window = try TestWindow(displayName: server.display, x: 0, y: 0, width: 1920, height: 1080)
        defer { withExtendedLifetime(window) {} }
        let (r, g, b) = Self.colour
        window.setBackground(UInt32(r << 16 | g << 8 | b))
        window.sync()
        let tone = try ChildProcess.tone(pcm: bench.playbackPCM, seconds: 16)
        defer { tone.send(SIGTERM); tone.wait() }

        let directory = try bench.scratchDirectory("resize")
        let output = "\(directory)/resize.mp4", logPath = "\(directory)/record.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        let recorder = try ChildProcess(
            [RecordDisplayBinary.path, "--display", server.display, "--audio-device", bench.capturePCM, "--fps", "15",
             "--duration", "10", "--output", output] + (testCase.region.map { ["--region", $0] } ?? [])
                + (testCase.fullGrabs ? ["--full-grabs"] : []),
            standardError: .descriptor(log.fileDescriptor))
        func logText() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        // The schedule counts from the recorder's start line.
        var deadline = Date().addingTimeInterval(15)
        while !logText().contains("recording ") && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        let started = Date()
        #expect(logText().contains("recording "), "the recorder did not start: \(logText())")
        try await Self.sleep(until: started.addingTimeInterval(3))
        try server.resize(width: 1024, height: 768)
        try await Self.sleep(until: started.addingTimeInterval(6))
        try server.resize(width: 1920, height: 1080)

        deadline = Date().addingTimeInterval(20)
        var status: Int32?
        while status == nil && Date() < deadline { status = recorder.wait(timeout: 0.2)?.status }
        if status == nil { recorder.send(SIGKILL) }
        let text = logText()
        #expect(status == 0, "\(text)")

        // One warning per new size, naming it; no error.
        let warnings = text.split(separator: "\n").filter { $0.contains("warning:") }
        #expect(warnings.filter { $0.contains("is now 1024x768") }.count == 1, "\(text)")
        #expect(warnings.filter { $0.contains("is now 1920x1080") }.count == 1, "\(text)")
        #expect(warnings.count == 2, "\(text)")
        #expect(!text.contains("error"), "\(text)")

        let probe = try MediaProbe(path: output)
        let video = try #require(probe.video), audio = try #require(probe.audio)
        #expect(video.width == testCase.width && video.height == testCase.height)
        #expect(video.frames == 150, "frames: \(String(describing: video.frames))")
        #expect(abs((video.duration ?? 0) - 10) < 0.01, "video \(String(describing: video.duration)) s")
        #expect(abs((audio.duration ?? 0) - 10) < 0.05, "audio \(String(describing: audio.duration)) s")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)

        // Before, during and after the small screen.
        for (time, small) in [(1.5, false), (4.5, true), (8.5, false)] {
            let rgb = try MediaProbe.decodeFrameRGB(output, at: time)
            #expect(rgb.count == testCase.width * testCase.height * 3)
            func pixel(_ x: Int, _ y: Int) -> (Int, Int, Int) {
                let offset = (y * testCase.width + x) * 3
                return (Int(rgb[offset]), Int(rgb[offset + 1]), Int(rgb[offset + 2]))
            }
            for (x, y) in testCase.onScreen + (small ? [] : testCase.offScreen) {
                let got = pixel(x, y)
                #expect(abs(got.0 - r) < 12 && abs(got.1 - g) < 12 && abs(got.2 - b) < 12, "\(time) s, at \(x),\(y): \(got)")
            }
            if small {
                for (x, y) in testCase.offScreen {
                    let got = pixel(x, y)
                    #expect(got.0 < 6 && got.1 < 6 && got.2 < 6, "\(time) s, off screen at \(x),\(y) must be black: \(got)")
                }
            }
        }
    }

    private static func sleep(until instant: Date) async throws {
        let seconds = instant.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
    }
}
