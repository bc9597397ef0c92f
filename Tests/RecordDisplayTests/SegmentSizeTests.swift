import Foundation
import Testing
import TestSupport

/// Issue 20, item 6: `--segment-size` is the most a file holds. A busy
/// picture (noise over part of a 640x360 region, CRF 26: about 0.9 MB per
/// 2 s GOP) recorded 24 s in 4 MB files: every file is at most 4,000,000
/// bytes on disk, finished, and decodes (before: 5.38 MB files, the cut one
/// GOP after the size was passed).
@Suite(.serialized, .tags(.bench)) struct SegmentSizeTests {
    @Test func noFilePassesTheSegmentSize() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("segment-size")
        let noise = try ChildProcess(["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0",
                                      "-f", "lavfi", "color=gray:s=400x200:r=30,noise=alls=30:allf=t"],
                                     environment: ["DISPLAY": bench.display, "SDL_AUDIODRIVER": "dummy",
                                                   "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"])
        defer { noise.send(SIGTERM); noise.wait() }
        // Until the noise shows.
        let shown = SessionWait.until(seconds: 10) {
            let frame = (try? Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-f", "x11grab", "-video_size", "64x2",
                                                    "-i", "\(bench.display)+100,100", "-frames:v", "1", "-f", "rawvideo",
                                                    "-pix_fmt", "gray", "pipe:1"])) ?? Data()
            return Set(frame).count > 4
        }
        try #require(shown, "the noise never showed")
        let result = try Subprocess.run([RecordDisplayBinary.path, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--region", "640x360+0+0", "--crf", "26", "--duration", "24", "--segment-size", "4M",
                                         "--output", "\(directory)/part.mp4"])
        try #require(result.status == 0, "\(result.standardError)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".mp4") }.sorted()
        #expect(names.count >= 4, "\(names)")
        var frames = 0
        for name in names {
            let path = "\(directory)/\(name)"
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size <= 4_000_000, "\(name): \(size) bytes")
            #expect(try MediaProbe.decodeErrors(path).isEmpty, "\(name) decodes with errors")
            let boxes = try MediaProbe.topLevelBoxes(path)
            #expect(boxes.contains("moov") && !boxes.contains("moof"), "\(name) is finished: \(boxes)")
            frames += try #require(try MediaProbe(path: path).video?.frames)
            print("\(name): \(size) bytes")
        }
        #expect(frames == 720, "the files hold \(frames) frames of 720")
    }
}
