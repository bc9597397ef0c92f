import Encoder
import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing
import TestSupport

/// Segmented MP4 files and HLS from real libx264 + AAC on the synthetic
/// scene, fed as the mux thread feeds them (through a `PacketFanOut`),
/// checked with ffprobe and ffmpeg.
@Suite(.tags(.bench)) struct FileSegmentTests {
    static func videoSettings() throws -> VideoEncoderSettings {
        try VideoEncoderSettings(width: 320, height: 240, fps: 30, preset: .ultrafast, crf: 25, gop: 60)
    }

    /// Encodes `seconds` of the scene and the tone into the sink `make` builds.
    static func record<Sink: PacketFileSink>(seconds: Double, video videoSettings: VideoEncoderSettings? = nil,
                                            make: ([StreamParameters]) throws -> Sink) throws -> Sink {
        TestMedia.quietLibav
        let videoSettings = try videoSettings ?? Self.videoSettings()
        let video = try VideoEncoder(settings: videoSettings, inputWidth: videoSettings.width,
                                     inputHeight: videoSettings.height)
        let tone = ToneSource()
        let audio = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
                                     inputFormat: tone.format)
        let sink = try make([video.parameters, audio.parameters])
        let fanOut = PacketFanOut(parameters: [video.parameters, audio.parameters], files: [sink], streams: [])
        var failure: (any Error)?
        let emit: (consuming Packet) -> Void = { packet in
            do { try fanOut.write(packet) } catch { failure = failure ?? error }
        }
        let scene = TestScene(width: videoSettings.width, height: videoSettings.height)
        for index in 0..<Int(seconds * 30) {
            try video.encode(scene.frame(index), frameIndex: Int64(index), emit: emit)
            let audioTarget = Int64(Double(index + 1) / 30 * Double(tone.format.sampleRate))
            while tone.framesProduced < audioTarget { try audio.encode(tone.next(), emit: emit) }
        }
        try video.flush(emit: emit)
        try audio.flush(emit: emit)
        try fanOut.flush()
        if let failure { throw failure }
        return sink
    }

    static func decodeCleanly(_ path: String) throws -> String {
        try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-"]).standardError
    }

    @Test func fiveSecondSegmentsOfSeventeenSecondsAreFourFinishedFilesThatAddUp() throws {
        let directory = try TestMedia.scratchDirectory("segments")
        defer { TestMedia.removeDirectory(directory) }
        var reports: [FileSegment] = []
        let sink = try Self.record(seconds: 17) { streams in
            try SegmentedMP4Sink(names: SegmentNames(path: "\(directory)/meeting.mp4"), streams: streams,
                                 policy: .init(duration: 5)) { reports.append($0) }
        }
        let last = sink.finish()
        #expect(last.outcome == .finishedInPlace, "\(last)")
        let finished = reports.filter { $0.outcome != nil }
        #expect(finished.map(\.path) == (0..<4).map { "\(directory)/meeting-00\($0).mp4" })
        // GOPs of 2 s: cuts at the first keyframe at or after 5, 10 and 15 s.
        #expect(finished.map(\.start) == [0, 6, 10, 16], "\(finished)")
        var total = 0.0
        for segment in finished {
            #expect(segment.outcome == .finishedInPlace, "\(segment)")
            #expect(try Self.decodeCleanly(segment.path).isEmpty, "\(segment.path) decodes with errors")
            let probe = try EncodedFile.streams(segment.path, countFrames: true)
            let video = try #require(EncodedFile.stream(probe.streams, type: "video"))
            let frames = Int(video["nb_read_frames"] as? String ?? "") ?? 0
            let seconds = Double(frames) / 30
            #expect(abs(seconds - segment.duration) < 0.001, "\(segment.path): \(frames) frames, \(segment.duration) s")
            #expect(video["start_time"] as? String == "0.000000", "each segment starts at 0 on its own")
            // The sound keeps its place against the picture: it starts with
            // the first AAC frame after the cut, less than a frame (23 ms) later.
            let audio = try #require(EncodedFile.stream(probe.streams, type: "audio"))
            let audioStart = Double(audio["start_time"] as? String ?? "") ?? -1
            #expect(audioStart >= 0 && audioStart < 1024.0 / 44_100, "\(segment.path): audio starts at \(audioStart)")
            total += seconds
        }
        #expect(abs(total - 17) < 1.0 / 30, "segments add up to \(total) s")
    }

    @Test func aSizeLimitCutsAtTheNextKeyframe() throws {
        let directory = try TestMedia.scratchDirectory("segment-size")
        defer { TestMedia.removeDirectory(directory) }
        var reports: [FileSegment] = []
        let sink = try Self.record(seconds: 8) { streams in
            try SegmentedMP4Sink(names: SegmentNames(path: "\(directory)/part-%02d.mp4"), streams: streams,
                                 policy: .init(maxBytes: 40_000)) { reports.append($0) }
        }
        _ = sink.finish()
        let finished = reports.filter { $0.outcome != nil }
        #expect(finished.count >= 2, "\(finished)")
        #expect(finished.first?.path == "\(directory)/part-00.mp4")
        for segment in finished {
            let errors = try Self.decodeCleanly(segment.path)
            #expect(errors.isEmpty, "\(segment.path): \(errors)")
            // Cut at keyframes, every 2 s.
            #expect(segment.start.truncatingRemainder(dividingBy: 2) == 0, "\(segment)")
        }
    }

    @Test func hlsListsCompleteSegmentsAndEndsWithEndlist() throws {
        let directory = try TestMedia.scratchDirectory("hls")
        defer { TestMedia.removeDirectory(directory) }
        let playlist = "\(directory)/live.m3u8"
        var reports: [FileSegment] = []
        let sink = try Self.record(seconds: 9) { streams in
            try HLSSink(playlist: playlist, streams: streams, segmentDuration: 2, maximumSegmentDuration: 4) {
                reports.append($0)
            }
        }
        let live = try String(contentsOfFile: playlist, encoding: .utf8)
        #expect(live.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !live.contains("#EXT-X-ENDLIST"), "\(live)")
        try sink.finish()
        let text = try String(contentsOfFile: playlist, encoding: .utf8)
        #expect(text.hasSuffix("#EXT-X-ENDLIST\n"), "\(text)")
        #expect(text.contains("#EXT-X-MAP:URI=\"live-init.mp4\""))
        let names = text.split(separator: "\n").filter { $0.hasSuffix(".m4s") }
        #expect(names == ["live-00000.m4s", "live-00001.m4s", "live-00002.m4s", "live-00003.m4s", "live-00004.m4s"],
                "\(text)")
        let result = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", playlist,
                                         "-f", "null", "-"])
        #expect(result.status == 0 && result.standardError.isEmpty, "\(result.standardError)")
        let probe = try EncodedFile.streams(playlist, countFrames: true)
        let video = try #require(EncodedFile.stream(probe.streams, type: "video"))
        #expect(video["nb_read_frames"] as? String == "270")
        #expect(EncodedFile.stream(probe.streams, type: "audio") != nil)
        let durations = text.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
            .compactMap { Double($0.dropFirst(8).dropLast()) }
        #expect(abs(durations.reduce(0, +) - 9) < 0.05, "\(durations)")
    }
}
