import Encoder
import Foundation
import MediaCore
import Mux
import MediaTestSupport
import Testing
import TestSupport

/// Real libx264 + AAC through the MP4 file sink, checked with ffprobe/ffmpeg.
@Suite(.tags(.bench)) struct MP4RecordingTests {
    @Test func tenSecondsOf720pWithToneFinalizeToAFastStartMP4() throws {
        let directory = try TestMedia.scratchDirectory("720p")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/recording.mp4"
        let recording = TestRecording(
            videoSettings: try VideoEncoderSettings(width: 1280, height: 720, fps: 30, preset: .ultrafast, crf: 25),
            audioSettings: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
            inputWidth: 1280, inputHeight: 720)
        #expect(recording.videoSettings.level.idc == 31)
        let sink = try recording.record(seconds: 10) { try MP4FileSink(path: path, streams: [$0, $1]) }
        let report = sink.finish()
        #expect(report.outcome == .finishedInPlace && report.moovAtFront && report.error == nil, "\(report)")
        #expect(abs(report.duration - 10) <= 1.0 / 30 + 0.001, "duration \(report.duration)")
        #expect(report.bytes > 0)
        #expect(!FileManager.default.fileExists(atPath: path + MP4FileSink.finalizingSuffix))

        let boxes = try EncodedFile.topLevelBoxes(path)
        let moov = try #require(boxes.firstIndex(of: "moov"), "\(boxes)")
        let mdat = try #require(boxes.firstIndex(of: "mdat"), "\(boxes)")
        #expect(moov < mdat, "top-level boxes \(boxes)")
        #expect(!boxes.contains("moof"), "the final file is not fragmented: \(boxes)")

        let probe = try EncodedFile.streams(path)
        #expect(probe.streams.count == 2)
        let video = try #require(EncodedFile.stream(probe.streams, type: "video"))
        let audio = try #require(EncodedFile.stream(probe.streams, type: "audio"))
        #expect(video["codec_name"] as? String == "h264")
        #expect(video["width"] as? Int == 1280 && video["height"] as? Int == 720)
        #expect(video["nb_frames"] as? String == "300")
        #expect(video["r_frame_rate"] as? String == "30/1")
        #expect(video["avg_frame_rate"] as? String == "30/1")
        #expect(video["level"] as? Int == 31)
        // x264 takes the profile as a ceiling and signals the tools it used:
        // ultrafast uses no CABAC, so the stream says Constrained Baseline
        // (a subset every Main decoder plays), as with Jibri's own command.
        #expect(["Main", "Constrained Baseline"].contains(video["profile"] as? String ?? ""), "\(video["profile"] ?? "")")
        #expect(video["start_time"] as? String == "0.000000")
        #expect(audio["start_time"] as? String == "0.000000")
        #expect(video["pix_fmt"] as? String == "yuv420p")
        #expect(audio["codec_name"] as? String == "aac")
        #expect(audio["sample_rate"] as? String == "44100")
        #expect(audio["channels"] as? Int == 2)
        let duration = Double(probe.format["duration"] as? String ?? "") ?? 0
        #expect(abs(duration - 10) <= 1.0 / 30, "format duration \(duration)")

        // The tone survives resampling 48000 -> 44100 and AAC.
        let samples = try EncodedFile.decodeAudio(path, sampleRate: 44_100, directory: directory)
        #expect(abs(Double(samples.count) / 44_100 - 10) <= 1.0 / 30, "decoded \(samples.count) samples")
        let middle = Array(samples[22_050..<(samples.count - 22_050)])
        let frequency = try #require(ToneAnalysis.frequency(of: middle, sampleRate: 44_100))
        #expect(abs(frequency - 440) <= 1, "tone at \(frequency) Hz")
        #expect(ToneAnalysis.rms(middle) > 4_000)

        let frame = try EncodedFile.decodeFrame(path, index: 150, directory: directory)
        EncodedFile.expectQuadrants(frame, width: 1280, height: 720)
    }

    /// As after `kill -9`: packets written, encoders not drained, sink never
    /// finished. Every fragment cut so far must already be in the file.
    @Test(arguments: [false, true])
    func unfinishedRecordingPlaysUpToTheLastFragment(bFrames: Bool) throws {
        let directory = try TestMedia.scratchDirectory("crash")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/recording.mp4"
        // With B-frames: veryfast (3 B-frames) and a 4 s GOP, so fragments
        // must be cut inside GOPs by the fragment duration, not at keyframes.
        let settings = bFrames
            ? try VideoEncoderSettings(width: 640, height: 360, fps: 30, preset: .veryfast, crf: 25, gop: 120)
            : try VideoEncoderSettings(width: 640, height: 360, fps: 30, preset: .ultrafast, crf: 25, gop: 60)
        let recording = TestRecording(videoSettings: settings, audioSettings: try AudioEncoderSettings(),
                                      inputWidth: 640, inputHeight: 360)
        let sink = try recording.record(seconds: 6, flushEncoders: false) { try MP4FileSink(path: path, streams: [$0, $1]) }
        try withExtendedLifetime(sink) {
            let boxes = try EncodedFile.topLevelBoxes(path)
            #expect(Array(boxes.prefix(2)) == ["ftyp", "moov"], "\(boxes)")
            let fragments = boxes.filter { $0 == "moof" }.count
            #expect(fragments >= 4, "fragments on disk: \(boxes)")

            let decode = try Subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"])
            #expect(decode.status == 0)
            #expect(decode.standardError.isEmpty, "ffmpeg: \(decode.standardError)")

            let probe = try EncodedFile.streams(path, countFrames: true)
            let video = try #require(EncodedFile.stream(probe.streams, type: "video"))
            let audio = try #require(EncodedFile.stream(probe.streams, type: "audio"))
            let videoFrames = Int(video["nb_read_frames"] as? String ?? "") ?? 0
            let audioFrames = Int(audio["nb_read_frames"] as? String ?? "") ?? 0
            let videoSeconds = Double(videoFrames) / 30
            let audioSeconds = Double(audioFrames * 1024) / 44_100
            #expect(videoSeconds >= 4, "decodable video: \(videoSeconds) s")
            #expect(audioSeconds >= 4, "decodable audio: \(audioSeconds) s")
            #expect(!FileManager.default.fileExists(atPath: path + MP4FileSink.finalizingSuffix))
        }
    }

    /// Capture size differs from output size: libyuv converts, then scales.
    /// With B-frames (veryfast), whose negative DTS the finalized file must
    /// carry as an edit list, keeping the frame rate constant.
    @Test func scaledOutputWithBFramesKeepsTheSceneAndTheRate() throws {
        let directory = try TestMedia.scratchDirectory("scaled")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/scaled.mp4"
        let recording = TestRecording(
            videoSettings: try VideoEncoderSettings(width: 640, height: 360, fps: 30, preset: .veryfast, crf: 20),
            audioSettings: try AudioEncoderSettings(sampleRate: 48_000, channels: 1, bitrate: 64_000),
            inputWidth: 1280, inputHeight: 720)
        let report = try recording.record(seconds: 2) { try MP4FileSink(path: path, streams: [$0, $1]) }.finish()
        #expect(abs(report.duration - 2) <= 1.0 / 30 + 0.001, "duration \(report.duration)")
        let probe = try EncodedFile.streams(path)
        let video = try #require(EncodedFile.stream(probe.streams, type: "video"))
        #expect(video["width"] as? Int == 640 && video["height"] as? Int == 360)
        #expect(video["nb_frames"] as? String == "60")
        #expect(video["has_b_frames"] as? Int ?? 0 > 0, "the encoder made B-frames")
        #expect(video["avg_frame_rate"] as? String == "30/1")
        #expect(video["start_time"] as? String == "0.000000")
        let audio = try #require(EncodedFile.stream(probe.streams, type: "audio"))
        #expect(audio["sample_rate"] as? String == "48000" && audio["channels"] as? Int == 1)
        let frame = try EncodedFile.decodeFrame(path, index: 15, directory: directory)
        EncodedFile.expectQuadrants(frame, width: 640, height: 360)
    }
}
