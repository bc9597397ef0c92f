import AVProbe
import Foundation
import Testing
import TestSupport

/// Issue 20, item 5: the HLS output carries the file's timestamps, whatever
/// B-frames x264 uses. One recording per preset writes both; ffprobe reads
/// each packet of both, and a flash with a beep at four instants gives the
/// sync each one presents.
@Suite(.serialized, .tags(.bench)) struct HLSTimelineTests {
    struct Packet: Equatable {
        var pts: Double
        var dts: Double
    }

    /// Packet times of one stream (`v` or `a`), in file order.
    static func packets(_ path: String, stream: String) throws -> [Packet] {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-select_streams", "\(stream):0", "-show_entries",
                                         "packet=pts_time,dts_time", "-of", "csv=p=0", path])
        return result.standardOutput.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ",")
            guard fields.count >= 2, let pts = Double(fields[0]), let dts = Double(fields[1]) else { return nil }
            return Packet(pts: pts, dts: dts)
        }
    }

    static func monotonicNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// `--preset` with and without B-frames (x264's B-pyramid: the first DTS
    /// two frames before 0). 12.05 s: stopped 0.05 s after the cut at 12 s
    /// (with ultrafast; veryfast's scene-cut keyframes at the flashes move
    /// its cuts), so the last segment holds two pictures.
    @Test(arguments: ["ultrafast", "veryfast"])
    func hlsTimestampsAreTheFilesPlusOneSharedShift(preset: String) throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("hls-timeline-\(preset)")
        let file = "\(directory)/f.mp4", playlist = "\(directory)/h/live.m3u8"
        try FileManager.default.createDirectory(atPath: "\(directory)/h", withIntermediateDirectories: true)
        let started = Self.monotonicNow()
        let probe = try FlashBeepProbe(display: bench.display, width: 320, height: 240, playbackPCM: bench.playbackPCM,
                                       capturePCM: bench.capturePCM,
                                       instants: [2.5, 5.0, 7.5, 10.0].map { started + Int64($0 * 1e9) })
        probe.start()
        let logPath = "\(bench.directory)/hls-timeline-\(preset).log"
        precondition(FileManager.default.createFile(atPath: logPath, contents: nil))
        let logHandle = try #require(FileHandle(forWritingAtPath: logPath))
        let recorder = try ChildProcess([RecordDisplayBinary.path, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--region", "320x240+0+0", "--preset", preset, "--gop", "60", "--duration", "12.05",
                                         "--output", file, "--hls", playlist],
                                        standardError: .descriptor(logHandle.fileDescriptor))
        let status = recorder.wait(timeout: 60)?.status
        withExtendedLifetime(logHandle) {}
        let placed = probe.stop()
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try #require(status == 0, "\(log)")

        // Every packet of both streams: the HLS's times are the file's plus
        // one shift, the same for picture and sound, whole frames.
        var shifts: [String: Double] = [:]
        for stream in ["v", "a"] {
            let inFile = try Self.packets(file, stream: stream), inHLS = try Self.packets(playlist, stream: stream)
            #expect(inFile.count == inHLS.count && inFile.count > 100, "\(stream): \(inFile.count) and \(inHLS.count) packets")
            let differences: [Double] = zip(inFile, inHLS).flatMap { pair -> [Double] in
                [pair.1.pts - pair.0.pts, pair.1.dts - pair.0.dts]
            }
            let shift = differences.first ?? 0
            #expect(differences.allSatisfy { abs($0 - shift) < 2e-6 },
                    "\(stream): HLS less file ranges \(differences.min() ?? 0)...\(differences.max() ?? 0)")
            shifts[stream] = shift
            let times = inHLS.map(\.pts)
            #expect(Set(times).count == times.count, "\(stream): a presentation time repeats")
            #expect(inHLS.allSatisfy { $0.dts >= 0 && $0.pts >= $0.dts - 1e-9 })
        }
        let shift = try #require(shifts["v"])
        #expect(abs(shift - (shifts["a"] ?? .nan)) < 2e-6, "video shifted \(shift) s, audio \(shifts["a"] ?? .nan) s")
        let frames: Double = shift * 30
        let wholeFrames = abs(frames - frames.rounded()) < 1e-3
        #expect(wholeFrames && shift > 0 && shift <= 0.067, "shift \(shift) s")
        // Frame n at n/30 plus the shift: no hole, no repeat.
        let pictures = try Self.packets(playlist, stream: "v").map(\.pts).sorted()
        for (index, time) in pictures.enumerated() {
            let expected: Double = Double(index) / 30 + shift
            guard abs(time - expected) > 1e-4 else { continue }
            Issue.record("picture \(index) at \(time) s, not \(expected)")
            break
        }

        // Each segment read alone (its init segment first) gives the same
        // times as the playlist; the last one holds the 2 pictures after 12 s.
        let text = try String(contentsOfFile: playlist, encoding: .utf8)
        let lines = text.split(separator: "\n")
        let names = lines.filter { $0.hasSuffix(".m4s") }.map(String.init)
        let target = try #require(lines.first { $0.hasPrefix("#EXT-X-TARGETDURATION:") }.flatMap { Int($0.dropFirst(22)) })
        let durations = lines.filter { $0.hasPrefix("#EXTINF:") }.compactMap { Double($0.dropFirst(8).dropLast()) }
        #expect(durations.allSatisfy { Int($0.rounded()) <= target }, "EXTINF \(durations) against TARGETDURATION \(target)")
        #expect(names.count >= (preset == "ultrafast" ? 7 : 3) && durations.count == names.count, "\(text)")
        let listed: Double = durations.reduce(0, +), recorded: Double = Double(pictures.count) / 30
        #expect(abs(listed - recorded) < 0.002, "\(durations)")
        let initSegment = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/h/live-init.mp4"))
        var fromSegments: [Double] = []
        for name in names {
            let alone = "\(directory)/alone-\(name).mp4"
            try (initSegment + Data(contentsOf: URL(fileURLWithPath: "\(directory)/h/\(name)"))).write(to: URL(fileURLWithPath: alone))
            let times = try Self.packets(alone, stream: "v").map(\.pts)
            #expect(try MediaProbe.decodeErrors(alone).isEmpty, "\(name) decodes with errors")
            fromSegments += times
            if name == names.last && preset == "ultrafast" {
                let first: Double = times.min() ?? 0
                #expect(times.count == 2 && abs(first - (12 + shift)) < 1e-4, "last segment: \(times)")
            }
        }
        #expect(fromSegments.sorted() == pictures, "segments read alone differ from the playlist")

        // The sync each presents: beep less flash, identical in both.
        let inFile = try FlashBeepAnalysis(path: file, run: Subprocess.runBinary), inHLS = try FlashBeepAnalysis(path: playlist, run: Subprocess.runBinary)
        let fileOffsets = inFile.pairs.map { ($0.offset * 1000).rounded() / 1000 }
        let hlsOffsets = inHLS.pairs.map { ($0.offset * 1000).rounded() / 1000 }
        print("\(preset): shift \(shift) s; beep - flash, file: \(fileOffsets) s; HLS: \(hlsOffsets) s; "
              + "probe beeps placed \(placed.beeps.count), flashes \(placed.flashes.count)")
        #expect(inFile.pairs.count == 4 && inHLS.pairs.count == 4, "pairs: file \(inFile.pairs.count), HLS \(inHLS.pairs.count)")
        for (a, b) in zip(inFile.pairs, inHLS.pairs) {
            let moved: Double = b.flash - a.flash
            #expect(abs(moved - shift) < 1e-3, "flash at \(a.flash) s in the file, \(b.flash) s in the HLS")
            #expect(abs(b.offset - a.offset) < 0.002, "beep - flash: \(a.offset) s in the file, \(b.offset) s in the HLS")
        }
    }

    /// Stopped 0.05 s after a cut, on a still screen (no scene-cut
    /// keyframes): the last segment is the keyframe at 4 s and the picture
    /// after it, each at its own time, alone as in the playlist.
    @Test(arguments: ["ultrafast", "veryfast", "medium"])
    func aLastSegmentOfTwoPicturesIsWellFormed(preset: String) throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("hls-end-\(preset)")
        let file = "\(directory)/f.mp4", playlist = "\(directory)/h/live.m3u8"
        try FileManager.default.createDirectory(atPath: "\(directory)/h", withIntermediateDirectories: true)
        let window = try TestWindow(displayName: bench.display, x: 0, y: 0, width: 320, height: 240)
        window.fill(0x000000, x: 0, y: 0, width: 320, height: 240)
        window.sync()
        let result = try Subprocess.run([RecordDisplayBinary.path, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--region", "320x240+0+0", "--preset", preset, "--gop", "60", "--duration", "4.05",
                                         "--output", file, "--hls", playlist])
        withExtendedLifetime(window) {}
        try #require(result.status == 0, "\(result.standardError)")
        let names = try String(contentsOfFile: playlist, encoding: .utf8).split(separator: "\n").filter { $0.hasSuffix(".m4s") }
        #expect(names.count == 3, "\(names)")
        let inFile = try Self.packets(file, stream: "v").map(\.pts).sorted()
        let inHLS = try Self.packets(playlist, stream: "v").map(\.pts).sorted()
        let shift: Double = (inHLS.first ?? 0) - (inFile.first ?? 0)
        #expect(inFile.count == 122 && inHLS.count == 122, "\(inFile.count) and \(inHLS.count) pictures")
        #expect(zip(inFile, inHLS).allSatisfy { abs($1 - $0 - shift) < 2e-6 }, "the HLS's pictures are not the file's plus \(shift) s")
        let initSegment = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/h/live-init.mp4"))
        let last = try #require(names.last)
        let alone = "\(directory)/alone-last.mp4"
        try (initSegment + Data(contentsOf: URL(fileURLWithPath: "\(directory)/h/\(last)"))).write(to: URL(fileURLWithPath: alone))
        let times = try Self.packets(alone, stream: "v").map(\.pts)
        let expected: [Double] = [4 + shift, 4 + 1.0 / 30 + shift]
        #expect(times.count == 2 && zip(times.sorted(), expected).allSatisfy { abs($0 - $1) < 1e-4 }, "last segment alone: \(times)")
        #expect(try MediaProbe.decodeErrors(alone).isEmpty)
    }
}
