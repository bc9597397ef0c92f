import Foundation
import Testing
import TestSupport

/// Issue 14, part 6: screens of any depth. Private Xvfb servers at 16, 15
/// and 30 bits show twelve known colours; the recording must show each as
/// the screen holds it (its channels cut to 5, 6 or 10 bits) within what
/// 4:2:0 and x264 change, greys grey, and a change drawn while recording
/// must arrive through DAMAGE's partial grabs. An 8-bit (PseudoColor)
/// screen is refused by name.
@Suite(.serialized, .tags(.bench)) struct DisplayDepthTests {
    static let size = (width: 640, height: 480)
    /// 160x160 patches in a 4x3 grid, left to right, top to bottom.
    static let colours: [UInt32] = [0x808080, 0x404040, 0xC0C0C0, 0xFFFFFF, 0xFF0000, 0x00FF00, 0x0000FF, 0xFFFF00,
                                    0x3070B0, 0xB05030, 0x20A060, 0x101010]
    static let changed: UInt32 = 0x2090E0

    static func patch(_ index: Int) -> (x: Int, y: Int) { (index % 4 * 160, index / 4 * 160) }

    /// What a screen of `depth` holds for 0xRRGGBB, read back as 8 bits a
    /// channel the way libyuv widens it (top bits repeated).
    static func onScreen(_ colour: UInt32, depth: Int) -> (Int, Int, Int) {
        let bits: (Int, Int, Int) = depth == 16 ? (5, 6, 5) : depth == 15 ? (5, 5, 5) : (8, 8, 8)
        func cut(_ value: UInt32, _ bits: Int) -> Int {
            let kept = Int(value) >> (8 - bits)
            return bits >= 8 ? kept : kept << (8 - bits) | kept >> (2 * bits - 8)
        }
        return (cut(colour >> 16 & 0xFF, bits.0), cut(colour >> 8 & 0xFF, bits.1), cut(colour & 0xFF, bits.2))
    }

    @Test(arguments: [16, 15, 30])
    func aTrueColorScreenRecordsItsColoursAndItsChanges(depth: Int) async throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer(width: Self.size.width, height: Self.size.height, depth: depth)
        let window = try TestWindow(displayName: server.display, x: 0, y: 0, width: Self.size.width, height: Self.size.height)
        defer { withExtendedLifetime((server, window)) {} }
        for (index, colour) in Self.colours.enumerated() {
            let place = Self.patch(index)
            window.fill(colour, x: place.x, y: place.y, width: 160, height: 160)
        }
        window.sync()

        let directory = try bench.scratchDirectory("depth\(depth)")
        let output = "\(directory)/depth.mp4", logPath = "\(directory)/record.log", stats = "\(directory)/stats.json"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        let recorder = try ChildProcess([RecordDisplayBinary.path, "--display", server.display, "--no-audio", "--fps", "10",
                                         "--duration", "4", "--crf", "10", "--output", output, "--stats-json", stats],
                                        standardError: .descriptor(log.fileDescriptor))
        func logText() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(15)
        while !logText().contains("recording ") && Date() < deadline { try await Task.sleep(nanoseconds: 20_000_000) }
        try await Task.sleep(nanoseconds: 2_000_000_000)
        window.fill(Self.changed, x: 0, y: 0, width: 160, height: 160)
        window.sync()
        var status = recorder.wait(timeout: 20)?.status
        if status == nil { recorder.send(SIGKILL); status = recorder.wait().status }
        #expect(status == 0, "\(logText())")
        #expect(logText().contains("\(Self.size.width)x\(Self.size.height)@10"), "\(logText())")

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: stats))) as? [String: Any]
        let statistics = json?["statistics"] as? [String: Any] ?? [:]
        #expect((statistics["framesUnchanged"] as? Int ?? 0) > 10, "a still screen goes through DAMAGE: \(statistics)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)

        for (time, first) in [(1.0, Self.colours[0]), (3.5, Self.changed)] {
            let rgb = try MediaProbe.decodeFrameRGB(output, at: time)
            #expect(rgb.count == Self.size.width * Self.size.height * 3)
            for (index, drawn) in ([first] + Self.colours.dropFirst()).enumerated() {
                let place = Self.patch(index)
                let offset = ((place.y + 80) * Self.size.width + place.x + 80) * 3
                let got = (Int(rgb[offset]), Int(rgb[offset + 1]), Int(rgb[offset + 2]))
                let expected = Self.onScreen(drawn, depth: depth)
                // 4:2:0, BT.601 limited range both ways and x264 at crf 10 on a flat patch.
                #expect(abs(got.0 - expected.0) <= 6 && abs(got.1 - expected.1) <= 6 && abs(got.2 - expected.2) <= 6,
                        "depth \(depth), \(time) s, patch \(index) drawn \(String(drawn, radix: 16)): \(got), screen holds \(expected)")
                if drawn >> 16 & 0xFF == drawn >> 8 & 0xFF && drawn >> 8 & 0xFF == drawn & 0xFF {
                    // Grey stays grey within one 5- or 6-bit step (8 levels).
                    #expect(abs(got.0 - got.1) <= 8 && abs(got.1 - got.2) <= 8 && abs(got.0 - got.2) <= 8,
                            "depth \(depth), grey \(String(drawn, radix: 16)) came out \(got)")
                }
            }
        }
    }

    @Test func anEightBitScreenIsRefusedNamingItsDepth() throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer(width: 320, height: 240, depth: 8)
        defer { withExtendedLifetime(server) {} }
        let directory = try bench.scratchDirectory("depth8")
        let result = try Subprocess.run([RecordDisplayBinary.path, "--display", server.display, "--no-audio",
                                         "--duration", "1", "--output", "\(directory)/never.mp4"])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1, "one line: \(result.standardError)")
        #expect(result.standardError.contains("depth 8") && result.standardError.contains("PseudoColor"),
                "\(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing may be written")
    }
}
