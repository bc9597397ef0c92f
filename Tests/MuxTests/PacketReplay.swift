import CFFmpeg
import Encoder
import Foundation
import MediaCore
import MediaPackets
import Mux
import MediaTestSupport

/// The packets of a short real encode (libx264 + AAC), kept in memory and
/// replayed for as long as wanted with advancing timestamps: hours of
/// recording through the file sink in seconds, no real-time capture.
///
/// Read-only once made (its packet pool is thread-safe), so tests share one.
/// Each stream loops on its own (video at its IDR every loop, audio frame
/// after frame), and the two are handed over in decoding-time order.
final class PacketReplay: @unchecked Sendable {
    struct Stored {
        let data: [UInt8]
        let pts: Int64
        let dts: Int64
        let duration: Int64
        let flags: Int32
    }

    let videoParameters: StreamParameters
    let audioParameters: StreamParameters
    private(set) var video: [Stored] = []
    private(set) var audio: [Stored] = []
    /// Ticks one loop of each stream lasts, in its time base.
    private let videoLoopTicks: Int64
    private let audioLoopTicks: Int64
    private let pool = PacketPool(capacity: 64)

    /// Encodes `frames` frames of the test scene (one GOP each `gop` frames;
    /// `frames` a multiple of it, so every loop starts at an IDR) and the
    /// 440 Hz tone for as long, keeping every packet.
    /// `noise`: the bottom half of every frame is fresh pseudo-random
    /// pixels, for a bit rate of megabits a second (a full disk in seconds).
    init(width: Int, height: Int, fps: Int = 30, frames: Int, gop: Int, crf: Int = 25, sampleRate: Int = 44_100,
         noise: Bool = false) throws {
        precondition(frames % gop == 0)
        TestMedia.quietLibav
        let settings = try VideoEncoderSettings(width: width, height: height, fps: fps, preset: .ultrafast, crf: crf, gop: gop)
        let encoder = try VideoEncoder(settings: settings, inputWidth: width, inputHeight: height)
        let tone = ToneSource(sampleRate: 48_000)
        let audioEncoder = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: sampleRate), inputFormat: tone.format)
        videoParameters = encoder.parameters
        audioParameters = audioEncoder.parameters
        var video: [Stored] = [], audio: [Stored] = []
        func keep(_ packet: consuming Packet) {
            let raw = packet.pointer.pointee
            let stored = Stored(data: Array(UnsafeBufferPointer(start: raw.data, count: Int(raw.size))),
                                pts: raw.pts, dts: raw.dts, duration: raw.duration, flags: raw.flags)
            if packet.kind == .video { video.append(stored) } else { audio.append(stored) }
        }
        let scene = TestScene(width: width, height: height)
        // xorshift64: noise x264 cannot predict, without a system call per word.
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<frames {
            let frame = scene.frame(index)
            if noise {
                let pixels = (frame.buffer.baseAddress + height / 2 * frame.bytesPerRow).assumingMemoryBound(to: UInt64.self)
                for word in 0..<(height - height / 2) * frame.bytesPerRow / 8 {
                    random ^= random << 13
                    random ^= random >> 7
                    random ^= random << 17
                    pixels[word] = random
                }
            }
            try encoder.encode(frame, frameIndex: Int64(index)) { keep($0) }
            let target = Int64(Double(index + 1) / Double(fps) * 48_000)
            while tone.framesProduced < target { try audioEncoder.encode(tone.next()) { keep($0) } }
        }
        try encoder.flush { keep($0) }
        try audioEncoder.flush { keep($0) }
        self.video = video
        self.audio = audio
        // Video time base 1/fps: one tick a frame. AAC: 1024 samples a frame.
        videoLoopTicks = Int64(video.count)
        audioLoopTicks = Int64(audio.count) * 1024
    }

    /// Writes `seconds` of media into `sink`, in decoding order.
    func replay(seconds: Double, into sink: MP4FileSink) throws {
        try replay(seconds: seconds) { try sink.write($0) }
    }

    /// Hands `seconds` of media to `write`, in decoding order across streams.
    func replay(seconds: Double, write: (consuming Packet) throws -> Void) throws {
        let videoBase = videoParameters.timeBase, audioBase = audioParameters.timeBase
        var videoIndex = 0, audioIndex = 0
        let videoEnd = Int64(seconds * Double(videoBase.den) / Double(videoBase.num))
        let audioEnd = Int64(seconds * Double(audioBase.den) / Double(audioBase.num))
        func time(_ list: [Stored], _ index: Int, loop ticks: Int64) -> Int64 {
            list[index % list.count].dts + Int64(index / list.count) * ticks
        }
        while true {
            let videoDTS = time(video, videoIndex, loop: videoLoopTicks)
            let audioDTS = time(audio, audioIndex, loop: audioLoopTicks)
            let videoDone = videoDTS >= videoEnd, audioDone = audioDTS >= audioEnd
            if videoDone && audioDone { return }
            let takeVideo = !videoDone && (audioDone || av_compare_ts(videoDTS, videoBase, audioDTS, audioBase) <= 0)
            let (list, index, kind, ticks) = takeVideo ? (video, videoIndex, StreamKind.video, videoLoopTicks)
                                                       : (audio, audioIndex, StreamKind.audio, audioLoopTicks)
            let stored = list[index % list.count]
            let shift = Int64(index / list.count) * ticks
            let packet = pool.acquire(kind: kind)
            guard av_new_packet(packet.pointer, Int32(stored.data.count)) >= 0 else { throw AVError(code: -12, operation: "av_new_packet") }
            stored.data.withUnsafeBufferPointer { packet.pointer.pointee.data.update(from: $0.baseAddress!, count: $0.count) }
            packet.pointer.pointee.pts = stored.pts + shift
            packet.pointer.pointee.dts = stored.dts + shift
            packet.pointer.pointee.duration = stored.duration
            packet.pointer.pointee.flags = stored.flags
            if takeVideo { videoIndex += 1 } else { audioIndex += 1 }
            try write(packet)
        }
    }

    /// Video frames and audio frames `seconds` of replay hands over.
    func packetCounts(seconds: Double) -> (video: Int, audio: Int) {
        var counts = (video: 0, audio: 0)
        try? replay(seconds: seconds) { packet in
            if packet.kind == .video { counts.video += 1 } else { counts.audio += 1 }
        }
        return counts
    }
}
