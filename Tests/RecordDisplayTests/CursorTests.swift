import Foundation
import Testing
import TestSupport

/// Issue 14, part 5: `--draw-cursor`. On a private display whose screen
/// never changes, the pointer (a 16x16 red square, hot spot at its centre)
/// is moved by XTest (`xdotool`) to three known places while recording. Each
/// frame must show the square exactly where the pointer was, hot spot
/// included, and nowhere else: the pointer moving over a still screen makes
/// new pictures, and none keeps a trace of where it had been.
@Suite(.serialized, .tags(.bench)) struct CursorTests {
    static let size = (width: 640, height: 480)
    static let background: UInt32 = 0x2060A0
    static let places = [(x: 100, y: 100), (x: 420, y: 300), (x: 250, y: 390)]
    static let side = 16, hotspot = 8

    private func move(_ display: String, to place: (x: Int, y: Int)) throws {
        let result = try Subprocess.run(["xdotool", "mousemove", "\(place.x)", "\(place.y)"],
                                        environment: ProcessInfo.processInfo.environment.merging(["DISPLAY": display]) { $1 })
        #expect(result.status == 0, "xdotool: \(result.standardError)")
    }

    /// Records 5 s at 10 fps, moving the pointer at 1.5 s and 3 s; returns
    /// every decoded frame (RGB24) and the statistics. `rendition`: the file
    /// takes a rendition of that spec (`--rendition NAME:SPEC`) instead of
    /// the capture, decoded at `decodedSize`.
    private func record(drawCursor: Bool, rendition: String? = nil, decodedSize: (width: Int, height: Int) = size)
        async throws -> (frames: [[UInt8]], statistics: [String: Any])
    {
        let bench = try TestBench.current()
        let server = try PrivateXServer(width: Self.size.width, height: Self.size.height)
        let window = try TestWindow(displayName: server.display, x: 0, y: 0, width: Self.size.width, height: Self.size.height)
        defer { withExtendedLifetime((server, window)) {} }
        window.setBackground(Self.background)
        window.defineSquareCursor(side: Self.side, colour: 0xFF0000, hotspotX: Self.hotspot, hotspotY: Self.hotspot)
        try move(server.display, to: Self.places[0])

        let directory = try bench.scratchDirectory("cursor")
        let output = "\(directory)/cursor.mp4", logPath = "\(directory)/record.log", stats = "\(directory)/stats.json"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        let outputArguments = rendition.map { ["--rendition", "small:\($0)", "--output", output + "@small"] } ?? ["--output", output]
        let recorder = try ChildProcess([RecordDisplayBinary.path, "--display", server.display, "--no-audio", "--fps", "10",
                                         "--duration", "5", "--crf", "12", "--stats-json", stats] + outputArguments
                                        + (drawCursor ? ["--draw-cursor"] : []), standardError: .descriptor(log.fileDescriptor))
        func logText() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(15)
        while !logText().contains("recording ") && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        let started = Date()
        for (index, place) in Self.places.enumerated().dropFirst() {
            let due = started.addingTimeInterval(1.5 * Double(index))
            if due.timeIntervalSinceNow > 0 { try await Task.sleep(nanoseconds: UInt64(due.timeIntervalSinceNow * 1e9)) }
            try move(server.display, to: place)
        }
        var status = recorder.wait(timeout: 20)?.status
        if status == nil { recorder.send(SIGKILL); status = recorder.wait().status }
        #expect(status == 0, "\(logText())")

        let data = try Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-i", output, "-f", "rawvideo",
                                             "-pix_fmt", "rgb24", "pipe:1"])
        let frameBytes = decodedSize.width * decodedSize.height * 3
        let frames = stride(from: 0, to: data.count - frameBytes + 1, by: frameBytes).map { [UInt8](data[$0..<$0 + frameBytes]) }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any]
        return (frames, json?["statistics"] as? [String: Any] ?? [:])
    }

    private static func isRed(_ frame: [UInt8], _ x: Int, _ y: Int, width: Int = size.width) -> Bool {
        let offset = (y * width + x) * 3
        return frame[offset] > 190 && frame[offset + 1] < 90 && frame[offset + 2] < 90
    }

    /// Whether the square sits with its hot spot at `place`: its inside red,
    /// just outside it not (a square off by its hot spot fails one side).
    private static func squareIsAt(_ frame: [UInt8], _ place: (x: Int, y: Int), width: Int = size.width) -> Bool {
        let inside = [(-6, -6), (5, -6), (-6, 5), (5, 5), (0, 0)]
        let outside = [(-11, 0), (10, 0), (0, -11), (0, 10), (-11, -11), (10, 10)]
        return inside.allSatisfy { isRed(frame, place.x + $0.0, place.y + $0.1, width: width) }
            && outside.allSatisfy { !isRed(frame, place.x + $0.0, place.y + $0.1, width: width) }
    }

    private static func redCount(_ frame: [UInt8]) -> Int {
        var count = 0
        for y in 0..<size.height { for x in 0..<size.width where isRed(frame, x, y) { count += 1 } }
        return count
    }

    @Test func thePointerMovedByXTestAppearsWhereItIsAndNowhereElse() async throws {
        let (frames, statistics) = try await record(drawCursor: true)
        #expect(frames.count == 50, "frames: \(frames.count)")
        var shown: [Int] = []
        for (number, frame) in frames.enumerated() {
            let at = Self.places.indices.filter { Self.squareIsAt(frame, Self.places[$0]) }
            #expect(at.count == 1, "frame \(number) shows the pointer at \(at.map { Self.places[$0] })")
            // 16x16 red, give or take the blended rows 4:2:0 smears at its edges.
            let red = Self.redCount(frame)
            #expect((180...300).contains(red), "frame \(number): \(red) red pixels (a trace left behind?)")
            if let place = at.first, shown.last != place { shown.append(place) }
        }
        #expect(shown == [0, 1, 2], "places in order of appearance: \(shown)")
        // The screen never changed: every new picture came from the pointer.
        #expect((statistics["framesUnchanged"] as? Int ?? 0) >= 45, "\(statistics)")
        // A pointer at rest changes nothing: those frames are skipped pictures
        // again (all but the keyframes and the two frames it moved in).
        #expect((statistics["skipPictures"] as? Int ?? 0) >= 40, "\(statistics)")
    }

    /// A rendition of another shape: 640x480 letterboxed into 640x240 is
    /// 320x240 at x 160. The pointer is drawn at its own size, its hot spot
    /// where the capture's point lands in the rendition: (x/2 + 160, y/2).
    @Test func onAScaledLetterboxedRenditionThePointerIsWhereItsPlaceLands() async throws {
        let (frames, _) = try await record(drawCursor: true, rendition: "640x240", decodedSize: (640, 240))
        #expect(frames.count == 50, "frames: \(frames.count)")
        let mapped = Self.places.map { (x: $0.x / 2 + 160, y: $0.y / 2) }
        var shown: [Int] = []
        for (number, frame) in frames.enumerated() {
            let at = mapped.indices.filter { Self.squareIsAt(frame, mapped[$0], width: 640) }
            #expect(at.count == 1, "frame \(number) shows the pointer at \(at.map { mapped[$0] })")
            if let place = at.first, shown.last != place { shown.append(place) }
        }
        #expect(shown == [0, 1, 2], "places in order of appearance: \(shown)")
    }

    @Test func withoutTheFlagThePointerIsNotDrawn() async throws {
        let (frames, _) = try await record(drawCursor: false)
        #expect(frames.count == 50)
        #expect(frames.allSatisfy { Self.redCount($0) == 0 }, "the pointer is off by default, as Jibri records")
    }
}
