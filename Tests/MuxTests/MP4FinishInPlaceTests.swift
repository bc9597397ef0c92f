import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Finishing in place: a recording becomes a regular MP4 where it lies, in
/// the same time whatever its length. Long recordings are real encoded
/// packets replayed through the file sink with advancing timestamps.
@Suite(.serialized, .tags(.bench)) struct MP4FinishInPlaceTests {
    /// 4 s of 192x108 (two 2 s GOPs) and AAC, looped.
    static let replay = Result { try PacketReplay(width: 192, height: 108, frames: 120, gop: 60) }

    /// Records `seconds` of the replay into a sink at `path`, with the file
    /// flushed to disk as a real-time recording's would be by then.
    static func record(seconds: Double, path: String, reserve: Int64? = nil) throws -> MP4FileSink {
        let replay = try Self.replay.get()
        let sink = try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters],
                                   reservedIndexBytes: reserve)
        try replay.replay(seconds: seconds, into: sink)
        let descriptor = open(path, O_RDONLY)
        fsync(descriptor)
        close(descriptor)
        return sink
    }

    @Test func tenSecondsAndOneHourFinishInTheSameTimeAndPlayEverywhere() throws {
        let directory = try TestMedia.scratchDirectory("finish")
        defer { TestMedia.removeDirectory(directory) }
        let replay = try Self.replay.get()
        var finishing: [Double: Double] = [:]
        for seconds in [10.0, 3600.0] {
            let path = "\(directory)/\(Int(seconds)).mp4"
            let sink = try Self.record(seconds: seconds, path: path)
            let report = sink.finish()
            finishing[seconds] = report.finalizingSeconds
            #expect(report.outcome == .finishedInPlace, "\(report)")
            #expect(report.error == nil)
            #expect(report.moovAtFront, "the index of \(seconds) s fits the reserve")
            #expect(report.extraBytes == 0, "finishing in the reserve needs no space")
            #expect(abs(report.duration - seconds) < 0.05, "duration \(report.duration)")
            #expect(report.bytes == Int64(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0))
            #expect(!FileManager.default.fileExists(atPath: path + MP4FileSink.finalizingSuffix))

            let boxes = try MP4Inspection.boxes(path).map(\.type)
            let moov = try #require(boxes.firstIndex(of: "moov"), "\(boxes.prefix(8))")
            let mdat = try #require(boxes.firstIndex(of: "mdat"))
            #expect(moov < mdat, "moov precedes the media: \(boxes.prefix(8))")
            #expect(boxes.filter { $0 == "moov" }.count == 1)
            #expect(!boxes.contains("moof"), "no fragment header is left for a reader")

            // Every packet once: fragments are not read a second time.
            let expected = replay.packetCounts(seconds: seconds)
            let counts = try MP4Inspection.packetCounts(path)
            #expect(counts.video == expected.video && counts.audio == expected.audio, "\(counts) for \(expected)")
            #expect(counts.video == Int(seconds * 30))
            #expect(abs(try MP4Inspection.duration(path) - seconds) < 0.05)
            #expect(try MP4Inspection.decodeErrors(path).isEmpty)

            let playback = try HeadlessChromium.playVideo(path)
            #expect(playback.error == nil, "\(playback.log)")
            #expect(abs((playback.duration ?? 0) - seconds) < 0.05, "Chromium: \(playback.log)")
            #expect(playback.seekedTo.map { abs($0 - (seconds - 1.5)) < 0.1 } == true, "\(playback.log)")
            #expect(playback.endedAt.map { abs($0 - seconds) < 0.1 } == true, "plays to the end: \(playback.log)")
        }
        // The same work: no media byte is read or moved, only headers.
        let short = finishing[10] ?? 0, long = finishing[3600] ?? 0
        #expect(long <= 3 * short + 1.0, "finishing 1 h took \(long) s, 10 s took \(short) s")
    }

    /// A recording whose index does not fit the reserve gets it after the
    /// media, still in place.
    @Test func anIndexLargerThanTheReserveGoesAfterTheMedia() throws {
        let directory = try TestMedia.scratchDirectory("finish-end")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/small-reserve.mp4"
        let sink = try Self.record(seconds: 60, path: path, reserve: 1024)
        let report = sink.finish()
        #expect(report.outcome == .finishedInPlace && !report.moovAtFront, "\(report)")
        let boxes = try MP4Inspection.boxes(path)
        let types = boxes.map(\.type)
        #expect(types.last == "moov" && types.filter { $0 == "moov" }.count == 1 && !types.contains("moof"), "\(types.suffix(4))")
        // What finishing added is the index, appended after the last fragment.
        #expect(report.extraBytes > 0 && report.extraBytes == boxes.last?.size, "\(report)")
        #expect(report.bytes == boxes.last?.end)
        let counts = try MP4Inspection.packetCounts(path)
        #expect(counts.video == 1800)
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        #expect(abs(try MP4Inspection.duration(path) - 60) < 0.05)
    }

    /// The remux is still there for whoever asks for it.
    @Test func theRemuxModeStillMakesAFastStartFile() throws {
        let directory = try TestMedia.scratchDirectory("remux")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/remuxed.mp4"
        let replay = try Self.replay.get()
        let sink = try MP4FileSink(path: path, streams: [replay.videoParameters, replay.audioParameters], finishMode: .remux)
        try replay.replay(seconds: 8, into: sink)
        let report = sink.finish()
        #expect(report.outcome == .remuxed && report.moovAtFront, "\(report)")
        #expect(abs(report.duration - 8) < 0.05)
        let boxes = try MP4Inspection.boxes(path).map(\.type)
        #expect(boxes.firstIndex(of: "moov") ?? 99 < boxes.firstIndex(of: "mdat") ?? 0, "\(boxes)")
        #expect(try MP4Inspection.packetCounts(path).video == 240)
        #expect(try MP4Inspection.decodeErrors(path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: path + MP4FileSink.finalizingSuffix))
    }
}
