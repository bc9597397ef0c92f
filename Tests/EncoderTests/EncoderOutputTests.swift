import CFFmpeg
import Encoder
import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport
import Testing
import TestSupport

/// What the encoders hand the muxers: global headers, time bases, timestamps,
/// and packets that go back to their pool.
@Suite(.tags(.bench)) struct EncoderOutputTests {
    @Test func encodersPublishGlobalHeadersAndTimeBases() throws {
        TestMedia.quietLibav
        let video = try VideoEncoder(settings: try VideoEncoderSettings(width: 320, height: 240, fps: 25),
                                     inputWidth: 320, inputHeight: 240)
        let audio = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: 48_000, channels: 2),
                                     inputFormat: AudioFormat(sampleFormat: .float32, sampleRate: 44_100, channels: 1))
        let videoParameters = video.parameters.codecParameters.pointee
        #expect(video.parameters.kind == .video)
        #expect(videoParameters.codec_id == AV_CODEC_ID_H264)
        // SPS/PPS travel in extradata (avcC), as MP4 and FLV need.
        #expect(videoParameters.extradata_size > 0 && videoParameters.extradata != nil)
        #expect(videoParameters.level == Int32(video.settings.level.idc))
        #expect(video.parameters.timeBase.num == 1 && video.parameters.timeBase.den == 25)
        #expect(video.parameters.frameRate?.num == 25 && video.parameters.frameRate?.den == 1)
        let audioParameters = audio.parameters.codecParameters.pointee
        #expect(audio.parameters.kind == .audio)
        #expect(audioParameters.codec_id == AV_CODEC_ID_AAC)
        #expect(audioParameters.extradata_size >= 2, "AudioSpecificConfig")
        #expect(audioParameters.sample_rate == 48_000 && audioParameters.ch_layout.nb_channels == 2)
        #expect(audio.parameters.timeBase.num == 1 && audio.parameters.timeBase.den == 48_000)
        #expect(audio.frameSize == 1024)
    }

    /// The benchmark's encoder-only floor writes I420 straight into the
    /// encoder's frame; a video-only sink takes the packets as they come.
    @Test func preconvertedFramesEncodeIntoAVideoOnlyFile() throws {
        TestMedia.quietLibav
        let directory = try TestMedia.scratchDirectory("i420")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/video-only.mp4"
        let pool = PacketPool(capacity: 8)
        let encoder = try VideoEncoder(settings: try VideoEncoderSettings(width: 320, height: 240, fps: 30, gop: 15),
                                       inputWidth: 320, inputHeight: 240, packetPool: pool)
        let sink = try MP4FileSink(path: path, streams: [encoder.parameters])
        let written = WrittenPackets(sink: sink)
        let emit = written.emit
        for index in 0..<45 {
            try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                // Mid grey with a luma ramp that moves.
                for y in 0..<planes.height {
                    (planes.y + y * planes.strideY).update(repeating: UInt8((y + index) & 0xFF), count: planes.width)
                }
                for y in 0..<planes.chromaHeight {
                    (planes.u + y * planes.strideU).update(repeating: 128, count: planes.chromaWidth)
                    (planes.v + y * planes.strideV).update(repeating: 128, count: planes.chromaWidth)
                }
            }, emit: emit)
        }
        try encoder.flush(emit: emit)
        try written.checkWrites()
        #expect(written.timestamps.sorted() == (0..<45).map(Int64.init), "pts are the frame indices")
        #expect(written.keyframes == [0, 15, 30])
        // The sink wrote or queued every packet; they went back to the pool.
        let report = sink.finish()
        #expect(pool.availableCount == pool.capacity)
        #expect(pool.overflowCount == 0)
        #expect(abs(report.duration - 1.5) < 0.001)
        let probe = try EncodedFile.streams(path)
        #expect(probe.streams.count == 1)
        #expect(EncodedFile.stream(probe.streams, type: "video")?["nb_frames"] as? String == "45")
    }

    /// A session whose one x264 thread does not keep up goes on with more:
    /// the file is one stream, every frame in order, an IDR where the new
    /// instance began, and it decodes without an error.
    @Test func changingThreadsMidStreamKeepsOneDecodableStream() throws {
        TestMedia.quietLibav
        let directory = try TestMedia.scratchDirectory("threads")
        defer { TestMedia.removeDirectory(directory) }
        let path = "\(directory)/threads.mp4"
        let encoder = try VideoEncoder(settings: try VideoEncoderSettings(width: 640, height: 480, fps: 30, gop: 60, threads: 1),
                                       inputWidth: 640, inputHeight: 480)
        let sink = try MP4FileSink(path: path, streams: [encoder.parameters])
        let written = WrittenPackets(sink: sink)
        let emit = written.emit
        let scene = TestScene(width: 640, height: 480)
        for index in 0..<40 { try encoder.encode(scene.frame(index), frameIndex: Int64(index), emit: emit) }
        #expect(try encoder.changeThreads(to: 2, emit: emit))
        #expect(encoder.threads == 2)
        #expect(written.timestamps.count == 40, "the one-thread instance handed over every frame before the switch")
        for index in 40..<90 { try encoder.encode(scene.frame(index), frameIndex: Int64(index), emit: emit) }
        try encoder.flush(emit: emit)
        try written.checkWrites()
        #expect(written.timestamps == (0..<90).map(Int64.init))
        #expect(written.keyframes == [0, 40])
        _ = sink.finish()
        let probe = try EncodedFile.streams(path, countFrames: true)
        #expect(probe.streams.count == 1)
        #expect(EncodedFile.stream(probe.streams, type: "video")?["nb_read_frames"] as? String == "90")
        let decode = try Subprocess.run(["ffmpeg", "-v", "error", "-xerror", "-i", path, "-f", "null", "-"])
        #expect(decode.status == 0 && decode.standardError.isEmpty, "decode errors: \(decode.standardError)")
        let last = try EncodedFile.decodeFrame(path, index: 89, directory: directory)
        EncodedFile.expectQuadrants(last, width: 640, height: 480)
    }
}

/// Writes an encoder's packets to a file sink as they come and notes their
/// pts and which were keyframes.
final class WrittenPackets {
    let sink: MP4FileSink
    private(set) var timestamps: [Int64] = []
    private(set) var keyframes: [Int64] = []
    private var failure: (any Error)?

    init(sink: MP4FileSink) { self.sink = sink }

    func emit(_ packet: consuming Packet) {
        timestamps.append(packet.pointer.pointee.pts)
        if packet.isKeyframe { keyframes.append(packet.pointer.pointee.pts) }
        do { try sink.write(packet) } catch { failure = failure ?? error }
    }

    /// Throws the first error a write threw.
    func checkWrites() throws { if let failure { throw failure } }
}
