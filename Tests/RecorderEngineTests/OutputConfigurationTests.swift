import Foundation
import RecorderEngine
import Testing
import TestSupport

/// Issue 14's bad input through the API: renditions, the outputs that name
/// them, segmentation and sound alone are refused by
/// `RecordingSession(configuration:)` as `RecordingError.configuration`
/// naming the value, before anything opens or is written.
@Suite(.tags(.bench)) struct OutputConfigurationTests {
    @Test func badRenditionsSegmentsAndSoundAloneAreTypedConfigurationErrorsNamingTheValue() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("badoutputs")
        let stream = "\(bench.rtmpURL)/never\(getpid())"
        func refused(_ change: (inout RecordingConfiguration) -> Void) throws -> InvalidSetting? {
            try SessionFixture.refusal(bench, directory: directory, change)
        }
        func streamed(size: PictureSize) -> (inout RecordingConfiguration) -> Void {
            { configuration in
                var options = VideoEncodingOptions()
                options.size = size
                configuration.renditions = [VideoRendition(name: "live", options: options)]
                configuration.streams = [StreamOutput(url: stream, rendition: "live")]
            }
        }
        for (width, height) in [(0, 720), (1281, 720), (1280, 719), (8194, 720), (1280, 9000)] {
            let invalid = try refused(streamed(size: PictureSize(width: width, height: height)))
            #expect(invalid?.value == "\(width)x\(height)", "\(width)x\(height): \(String(describing: invalid))")
            #expect(invalid?.key == .renditionSize(index: 0), "\(String(describing: invalid))")
        }
        #expect(try refused { $0.video.size = PictureSize(width: 0, height: 0) } == InvalidSetting(.size, value: "0x0", reason: "the width must be positive"))
        // An output naming a rendition that does not exist; one no output takes.
        let nosuch = try refused {
            $0.streams = [StreamOutput(url: stream), StreamOutput(url: stream, rendition: "nosuch")]
        }
        #expect(nosuch?.key == .streamRendition(index: 1) && nosuch?.value == "nosuch", "\(String(describing: nosuch))")
        let other = try refused { $0.output?.rendition = "other" }
        #expect(other?.key == .outputRendition && other?.value == "other", "\(String(describing: other))")
        let hls = try refused { $0.hls = HLSOutput(playlist: "\(directory)/x.m3u8", rendition: "other") }
        #expect(hls?.key == .hlsRendition && hls?.value == "other", "\(String(describing: hls))")
        let spare = VideoRendition(name: "spare", options: VideoEncodingOptions())
        #expect(try refused { $0.renditions = [spare] } == InvalidSetting(.rendition(index: 0), value: "spare", reason: "no output takes it"))
        let badName = try refused {
            $0.renditions = [VideoRendition(name: "bad name", options: VideoEncodingOptions())]
        }
        #expect(badName?.key == .renditionName(index: 0) && badName?.value == "bad name", "\(String(describing: badName))")
        // Segment times of 0 and below; a size under 1 MB.
        for seconds in [0, -5] {
            let invalid = try refused { $0.output?.segments = FileSegmentation(duration: .seconds(seconds)) }
            #expect(invalid?.key == .segmentTime && invalid?.value == "\(Double(seconds))", "\(String(describing: invalid))")
        }
        #expect(try refused { $0.output?.segments = FileSegmentation(maxBytes: 0) }?.key == .segmentSize)
        // Sound alone with a region, a stream, a scaled size, or no sound.
        #expect(try refused { $0.recordsVideo = false }?.value == "320x240+0+0")
        let soundAlone: (inout RecordingConfiguration) -> Void = {
            $0.recordsVideo = false
            $0.capture.region = nil
        }
        #expect(try refused { soundAlone(&$0); $0.streams = [StreamOutput(url: stream)] }?.key == .noVideo)
        #expect(try refused { soundAlone(&$0); $0.audio = nil }?.key == .noVideo)
        #expect(try refused { soundAlone(&$0); $0.video.size = PictureSize(width: 640, height: 360) }?.key == .noVideo)
        // The valid ones open nothing either.
        _ = try RecordingSession(configuration: SessionFixture.configuration(bench, output: "\(directory)/x.mp4", seconds: 1))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing is written")
    }
}
