public import Encoder
import MediaCore
public import MediaPackets
public import Mux
import Testing

/// Records synthetic video and audio through the encoders into a sink.
public struct TestRecording {
    public var videoSettings: VideoEncoderSettings
    public var audioSettings: AudioEncoderSettings
    public var inputWidth: Int
    public var inputHeight: Int

    public init(videoSettings: VideoEncoderSettings, audioSettings: AudioEncoderSettings, inputWidth: Int, inputHeight: Int) {
        (self.videoSettings, self.audioSettings) = (videoSettings, audioSettings)
        (self.inputWidth, self.inputHeight) = (inputWidth, inputHeight)
    }

    /// Encodes `seconds` of the scene and the tone into `sink` (fed as the
    /// engine's mux thread would: packets of both encoders as they come).
    /// Does not finish the sink; with `flushEncoders` false the encoders are
    /// not drained either, as when the recorder is killed.
    public func record(seconds: Double, flushEncoders: Bool = true,
                into sink: (StreamParameters, StreamParameters) throws -> MP4FileSink) throws -> MP4FileSink {
        TestMedia.quietLibav
        let video = try VideoEncoder(settings: videoSettings, inputWidth: inputWidth, inputHeight: inputHeight)
        let tone = ToneSource()
        let audio = try AudioEncoder(settings: audioSettings, inputFormat: tone.format)
        let sink = try sink(video.parameters, audio.parameters)
        var failure: (any Error)?
        let emit: (consuming Packet) -> Void = { packet in
            do { try sink.write(packet) } catch { failure = failure ?? error }
        }
        let scene = TestScene(width: inputWidth, height: inputHeight)
        let frames = Int(seconds * Double(videoSettings.fps))
        for index in 0..<frames {
            try video.encode(scene.frame(index), frameIndex: Int64(index), emit: emit)
            // Audio up to the end of this video frame's interval.
            let audioTarget = Int64(Double(index + 1) / Double(videoSettings.fps) * Double(tone.format.sampleRate))
            while tone.framesProduced < audioTarget {
                try audio.encode(tone.next(), emit: emit)
            }
        }
        if flushEncoders {
            try video.flush(emit: emit)
            try audio.flush(emit: emit)
        }
        if let failure { throw failure }
        #expect(video.packetPool.overflowCount == 0)
        #expect(audio.packetPool.overflowCount == 0)
        return sink
    }
}
