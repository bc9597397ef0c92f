import Encoder
import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing
import TestSupport

/// `MP4Repair` on real recordings left unfinished, cut at any byte, and on
/// files that are not ours.
@Suite(.serialized, .tags(.bench)) struct MP4RepairTests {
    /// A 12 s recording as a crash leaves it: fragments written, never finished.
    static func crashedRecording(_ directory: String) throws -> String {
        let path = "\(directory)/crashed.mp4"
        let replay = try MP4FinishInPlaceTests.replay.get()
        // Released without finish(): what was cut is on disk, nothing else.
        try withExtendedLifetime(try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters])) {
            try replay.replay(seconds: 12, into: $0)
        }
        return path
    }

    /// Packets of each kind whose bytes lie before `end` in `path`.
    static func packets(in path: String, before end: Int64) throws -> (video: Int, audio: Int) {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "packet=codec_type,pos,size",
                                         "-of", "csv=p=0", path])
        var counts = (video: 0, audio: 0)
        for line in result.standardOutput.split(separator: "\n") {
            let fields = line.split(separator: ",")
            guard fields.count == 3, let position = Int64(fields[1]), let size = Int64(fields[2]),
                  position + size <= end else { continue }
            if fields[0] == "video" { counts.video += 1 } else { counts.audio += 1 }
        }
        return counts
    }

    @Test func aRecordingCutAtAnyByteIsRepairedWithEveryCompleteFragment() throws {
        let directory = try TestMedia.scratchDirectory("repair-cut")
        defer { TestMedia.removeDirectory(directory) }
        let original = try Self.crashedRecording(directory)
        let whole = try MP4Inspection.contents(original)
        let boxes = try MP4Inspection.boxes(original)
        let fragments = boxes.enumerated().filter { $0.element.type == "mdat" }.map { (index: $0.offset, mdat: $0.element) }
        try #require(fragments.count >= 8, "\(boxes.map(\.type))")
        // Inside a moof, at a moof's end, inside an mdat, one byte short of a
        // fragment, exactly at a fragment's end, and the whole file.
        let third = fragments[3], fifth = fragments[5]
        let moof = boxes[fifth.index - 1]
        let cuts: [Int64] = [moof.offset + 7, moof.offset + moof.size / 2, moof.end, fifth.mdat.offset + 9,
                             fifth.mdat.offset + fifth.mdat.size / 3, fifth.mdat.end - 1, third.mdat.end,
                             Int64(whole.count)]
        for cut in cuts {
            let path = "\(directory)/cut-\(cut).mp4"
            try whole.prefix(Int(cut)).write(to: URL(fileURLWithPath: path))
            let kept = fragments.filter { $0.mdat.end <= cut }
            let expected = try Self.packets(in: original, before: kept.last?.mdat.end ?? 0)
            let report = try MP4Repair.repair(path: path)
            #expect(!report.wasFinished)
            #expect(report.fragments == kept.count, "cut at \(cut)")
            #expect(report.droppedBytes == cut - (kept.last?.mdat.end ?? 0), "cut at \(cut)")
            #expect(report.moovAtFront == true)
            let counts = try MP4Inspection.packetCounts(path)
            #expect(counts.video == expected.video && counts.audio == expected.audio, "cut at \(cut): \(counts), \(expected)")
            #expect(try MP4Inspection.decodeErrors(path).isEmpty, "cut at \(cut)")
            let types = try MP4Inspection.boxes(path).map(\.type)
            #expect(types.firstIndex(of: "moov") ?? 99 < types.firstIndex(of: "mdat") ?? 0 && !types.contains("moof"))

            // Once finished, a second repair leaves it alone.
            let finished = try MP4Inspection.contents(path)
            #expect(try MP4Repair.repair(path: path).wasFinished)
            #expect(try MP4Inspection.contents(path) == finished)
        }
    }

    /// The exact start survives a crash: the offsets that started each
    /// stream at 0 are in the file, so the repaired file cuts the AAC priming
    /// and the B-frame delay with edit lists, as a clean finish does.
    @Test func aRepairedRecordingWithBFramesStartsBothStreamsAtZero() throws {
        let directory = try TestMedia.scratchDirectory("repair-bframes")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/bframes.mp4"
        let recording = TestRecording(
            videoSettings: try VideoEncoderSettings(width: 320, height: 180, fps: 30, preset: .veryfast, crf: 25, gop: 60),
            audioSettings: try AudioEncoderSettings(), inputWidth: 320, inputHeight: 180)
        try withExtendedLifetime(try recording.record(seconds: 6, flushEncoders: false) {
            try MP4FileSink(path: path, streams: [$0, $1])
        }) {}
        let asWritten = try MP4Inspection.packetCounts(path)
        let report = try MP4Repair.repair(path: path)
        #expect(!report.wasFinished && report.fragments >= 4, "\(report)")
        let probe = try EncodedFile.streams(path)
        let video = try #require(EncodedFile.stream(probe.streams, type: "video"))
        let audio = try #require(EncodedFile.stream(probe.streams, type: "audio"))
        #expect(video["has_b_frames"] as? Int ?? 0 > 0, "the encoder made B-frames")
        #expect(video["start_time"] as? String == "0.000000", "\(video["start_time"] ?? "")")
        #expect(audio["start_time"] as? String == "0.000000", "\(audio["start_time"] ?? "")")
        #expect(video["avg_frame_rate"] as? String == "30/1")
        let counts = try MP4Inspection.packetCounts(path)
        #expect(counts.video == asWritten.video && counts.audio == asWritten.audio, "\(counts), \(asWritten)")
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
    }

    @Test func filesThatAreNotOurRecordingsAreRefusedUntouched() throws {
        let directory = try TestMedia.scratchDirectory("repair-refuse")
        defer { TestMedia.removeDirectory(directory) }
        let text = "\(directory)/notes.mp4"
        try Data("not a video at all\n".utf8).write(to: URL(fileURLWithPath: text))
        let empty = "\(directory)/empty.mp4"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        var made: [String] = []
        for (name, flags) in [("ffmpeg-regular.mp4", "+faststart"), ("ffmpeg-fragmented.mp4", "frag_keyframe+empty_moov")] {
            let path = "\(directory)/\(name)"
            let result = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30",
                                             "-f", "lavfi", "-i", "sine=f=440", "-t", "3", "-c:v", "libx264", "-c:a", "aac",
                                             "-movflags", flags, path])
            try #require(result.status == 0, "\(result.standardError)")
            made.append(path)
        }
        // Cut ffmpeg's fragmented file in a fragment: still not ours.
        let cut = "\(directory)/ffmpeg-cut.mp4"
        let fragmented = try MP4Inspection.contents(made[1])
        try fragmented.prefix(fragmented.count - 100).write(to: URL(fileURLWithPath: cut))
        for (path, kind) in [(text, MP4RepairRefusal.Kind.notMP4), (empty, .notMP4), (made[0], .notOurs),
                             (made[1], .notOurs), (cut, .notOurs)] {
            let before = try MP4Inspection.contents(path)
            #expect {
                _ = try MP4Repair.repair(path: path)
            } throws: { error in
                guard let refusal = error as? MP4RepairRefusal else { return false }
                return "\(refusal.kind)" == "\(kind)" && refusal.description.contains(path)
            }
            #expect(try MP4Inspection.contents(path) == before, "\(path) untouched")
        }
    }
}
