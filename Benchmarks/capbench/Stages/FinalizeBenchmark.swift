import ArgumentParser
import CFFmpeg
import Encoder
import Foundation
import HostProcesses
import MediaCore
import MediaPackets
import Mux

/// Finishing a long recording: our in-place finishing against ffmpeg's
/// `-movflags +faststart` remux of the same fragmented file, same run.
///
/// The long file is made fast, not in real time: a 4 s clip of 1280x720
/// (noise in the lower half, so x264 at crf 18 under `--bitrate`'s VBV cap
/// spends about that rate) and AAC 128k at 44.1 kHz is encoded once, then
/// its packets are replayed through `MP4FileSink` with advancing timestamps
/// for `--hours`. The file is then fsynced, as a recording written in real
/// time would long have been by its end, so neither side pays for the
/// kernel's writeback of the whole recording. ffmpeg remuxes the fragmented
/// file first (our finishing changes it), then ours finishes it in place.
struct FinalizeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finalize",
        abstract: "Seconds and extra disk to finish a long recording: in place against ffmpeg's +faststart remux.")

    @Option(help: "Hours of recording (repeatable: one file each, in turn).") var hours: [Double] = [1, 3]
    @Option(help: "Total bit rate of the recording (video capped at this less the audio), e.g. 8M.") var bitrate = "8M"
    @Flag(help: "Leave out ffmpeg (our figures only).") var noPeer = false
    @OptionGroup var common: CommonOptions

    func run() throws {
        let total = try VideoEncoderSettings.parseBitrate(bitrate, key: .bitrate)
        guard total > 200_000 else { throw BenchFailure("--bitrate must be above 200k (the audio takes 128k)") }
        guard hours.allSatisfy({ $0 > 0 && $0 <= 24 }) else { throw BenchFailure("--hours must be from 0 to 24") }
        // VBV lets a short clip overshoot its cap (the buffer starts full):
        // encode again with the cap scaled until the clip's rate is within 3 %.
        let target = Double(total - 128_000)
        var clip = try EncodedClip(videoCap: Int(target))
        for _ in 0..<4 where abs(clip.videoBitrate / target - 1) > 0.03 {
            clip = try EncodedClip(videoCap: Int(Double(clip.videoCap) * target / clip.videoBitrate))
        }
        var report = BenchReport(benchmark: "finalize", settings: [
            "recording": String(format: "1280x720 30 fps x264 ultrafast crf 18, video %.0f kb/s (VBV cap %.0f kb/s) "
                                + "+ AAC 128k 44.1 kHz, fragments of 1 s", clip.videoBitrate / 1000,
                                Double(clip.videoCap) / 1000),
            "built by": "a 4 s clip's packets replayed through MP4FileSink with advancing timestamps, then fsynced",
            "ours": "MP4FileSink.finish() in place: last fragment, index into the reserve (or after the media), one mdat header over the fragments, fragmented moov retired, 4 fsyncs",
            "peer": noPeer ? "none" : "ffmpeg -i FRAGMENTED -c copy -movflags +faststart OUT (its wall time; OUT then fsynced, timed apart)",
        ])
        for hour in hours {
            let scratch = try ScratchDirectory("finalize")
            let path = scratch.file("recording.mp4")
            let sink = try MP4FileSink(path: path, streams: [clip.videoParameters, clip.audioParameters])
            let building = Date()
            try clip.replay(seconds: hour * 3600, into: sink)
            try FileHandle(forUpdating: URL(fileURLWithPath: path)).synchronize()
            let built = Date().timeIntervalSince(building)
            let recorded = sink.bytesOnDisk
            FileHandle.standardError.write(Data(String(format: "capbench: %.1f h recorded (%.2f GB) in %.0f s\n",
                                                       hour, Double(recorded) / 1e9, built).utf8))
            var peerSeconds: Double?, peerSync: Double?, peerBytes: Int64?
            if !noPeer {
                // ffmpeg reads what is on disk now: every fragment but the one
                // the sink still holds (at most a second).
                let output = scratch.file("faststart.mp4")
                let log = scratch.file("ffmpeg.log")
                let result = try ChildProcess(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", path, "-c", "copy",
                                             "-movflags", "+faststart", output], standardError: .file(log)).wait()
                guard result.status == 0 else {
                    throw BenchFailure("ffmpeg failed: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
                }
                peerSeconds = result.wallSeconds
                let syncing = Date()
                try FileHandle(forUpdating: URL(fileURLWithPath: output)).synchronize()
                peerSync = Date().timeIntervalSince(syncing)
                peerBytes = (try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int).map(Int64.init)
                try FileManager.default.removeItem(atPath: output)
            }
            let finish = sink.finish()
            guard finish.outcome == .finishedInPlace else { throw BenchFailure("finishing failed: \(finish)") }
            let label = String(format: "%g h at %@", hour, bitrate)
            report.add(Figure("\(label): seconds to finish", unit: "s", ours: finish.finalizingSeconds, peer: peerSeconds,
                              peerName: noPeer ? nil : "ffmpeg +faststart remux"))
            if let peerSync {
                report.add(Figure("\(label): the peer's output fsync after it (not in its time)", unit: "s", ours: 0,
                                  peer: peerSync, peerName: "ffmpeg +faststart remux", comparable: false))
            }
            report.add(Figure("\(label): extra disk needed to finish", unit: "bytes", ours: Double(finish.extraBytes),
                              peer: peerBytes.map(Double.init), peerName: noPeer ? nil : "ffmpeg +faststart remux",
                              comparable: false))
            report.add(Figure("\(label): recording size", unit: "bytes", ours: Double(finish.bytes)))
            report.add(Figure("\(label): index before the media (1 yes, 0 no)", unit: "-", ours: finish.moovAtFront ? 1 : 0))
            report.add(Figure("\(label): fragments", unit: "count", ours: Double(finish.fragments)))
            report.add(Figure("\(label): index (moov) size", unit: "bytes", ours: Double(finish.indexBytes)))
            report.add(Figure("\(label): reserve for the index", unit: "bytes", ours: Double(sink.reservedIndexBytes)))
        }
        report.printTable()
        try report.write(json: common.json)
    }
}

/// A short real encode kept in memory and replayed for hours: each stream
/// loops on its own (video from its IDR, audio frame after frame), the two
/// handed over in decoding order.
final class EncodedClip {
    private struct Stored {
        let data: [UInt8]
        let pts: Int64
        let dts: Int64
        let duration: Int64
        let flags: Int32
    }

    let videoParameters: StreamParameters
    let audioParameters: StreamParameters
    /// The clip's video bit rate as encoded, bits/s.
    let videoBitrate: Double
    /// The VBV maximum rate it was encoded with, bits/s.
    let videoCap: Int
    private var video: [Stored] = []
    private var audio: [Stored] = []
    private let pool = PacketPool(capacity: 64)

    /// Encodes 4 s (two 2 s GOPs) of a moving picture with noise at
    /// `videoCap` bits/s (the VBV maximum rate) and a tone.
    init(videoCap: Int, width: Int = 1280, height: Int = 720) throws {
        let fps = 30, frames = 120
        self.videoCap = videoCap
        av_log_set_level(AV_LOG_ERROR)
        let settings = try VideoEncoderSettings(width: width, height: height, fps: fps, preset: .ultrafast, crf: 18,
                                                maxrate: videoCap, bufsize: videoCap * 2, gop: 60)
        let encoder = try VideoEncoder(settings: settings, inputWidth: width, inputHeight: height)
        let format = AudioFormat(sampleFormat: .s16, sampleRate: 48_000, channels: 2)
        let audioEncoder = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: 44_100), inputFormat: format)
        videoParameters = encoder.parameters
        audioParameters = audioEncoder.parameters
        var video: [Stored] = [], audio: [Stored] = []
        func keep(_ packet: consuming Packet) {
            let raw = packet.pointer.pointee
            let stored = Stored(data: Array(UnsafeBufferPointer(start: raw.data, count: Int(raw.size))),
                                pts: raw.pts, dts: raw.dts, duration: raw.duration, flags: raw.flags)
            if packet.kind == .video { video.append(stored) } else { audio.append(stored) }
        }
        let bytesPerRow = width * 4
        let pool = BufferPool(count: 2, byteCount: bytesPerRow * height)
        let chunks = BufferPool(count: 2, byteCount: 1600 * format.bytesPerFrame)
        // xorshift64: noise x264 cannot predict, without a system call per word.
        var random: UInt64 = 0x9E37_79B9_7F4A_7C15
        var samples: Int64 = 0
        for index in 0..<frames {
            guard let buffer = pool.acquire() else { throw BenchFailure("frame pool exhausted") }
            let pixels = buffer.baseAddress.assumingMemoryBound(to: UInt32.self)
            for y in 0..<height / 2 {
                for x in 0..<width {
                    let band = UInt32(truncatingIfNeeded: (x + index * 8) / 64)
                    pixels[y * width + x] = band &* 0x30_2010 | 0xFF00_0000
                }
            }
            let noise = (buffer.baseAddress + height / 2 * bytesPerRow).assumingMemoryBound(to: UInt64.self)
            for word in 0..<(height - height / 2) * bytesPerRow / 8 {
                random ^= random << 13
                random ^= random >> 7
                random ^= random << 17
                noise[word] = random
            }
            let frame = VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: bytesPerRow,
                                   captureTime: Int64(index) * 1_000_000_000 / Int64(fps), sequence: index)
            try encoder.encode(frame, frameIndex: Int64(index)) { keep($0) }
            let target = Int64(index + 1) * 48_000 / Int64(fps)
            while samples < target {
                guard let chunk = chunks.acquire() else { throw BenchFailure("audio pool exhausted") }
                let values = chunk.baseAddress.assumingMemoryBound(to: Int16.self)
                for sample in 0..<1600 {
                    let value = Int16(8000 * sin(2 * Double.pi * 440 * Double(samples + Int64(sample)) / 48_000))
                    values[2 * sample] = value
                    values[2 * sample + 1] = value
                }
                try audioEncoder.encode(AudioChunk(buffer: chunk, frameCount: 1600,
                                                   captureTime: samples * 1_000_000_000 / 48_000,
                                                   firstFrameIndex: samples, isGapFill: false)) { keep($0) }
                samples += 1600
            }
        }
        try encoder.flush { keep($0) }
        try audioEncoder.flush { keep($0) }
        self.video = video
        self.audio = audio
        let videoBytes: Int = video.reduce(0) { $0 + $1.data.count }
        videoBitrate = Double(videoBytes) * 8 * Double(fps) / Double(frames)
    }

    /// Writes `seconds` of media into `sink`, in decoding order.
    func replay(seconds: Double, into sink: MP4FileSink) throws {
        // Video time base 1/fps: a tick a frame. AAC: 1024 samples a frame.
        let videoLoop = Int64(video.count), audioLoop = Int64(audio.count) * 1024
        let videoBase = videoParameters.timeBase, audioBase = audioParameters.timeBase
        let videoEnd = Int64(seconds * Double(videoBase.den) / Double(videoBase.num))
        let audioEnd = Int64(seconds * Double(audioBase.den) / Double(audioBase.num))
        var videoIndex = 0, audioIndex = 0
        while true {
            let videoDTS = video[videoIndex % video.count].dts + Int64(videoIndex / video.count) * videoLoop
            let audioDTS = audio[audioIndex % audio.count].dts + Int64(audioIndex / audio.count) * audioLoop
            let videoDone = videoDTS >= videoEnd, audioDone = audioDTS >= audioEnd
            if videoDone && audioDone { return }
            let takeVideo = !videoDone && (audioDone || av_compare_ts(videoDTS, videoBase, audioDTS, audioBase) <= 0)
            let stored = takeVideo ? video[videoIndex % video.count] : audio[audioIndex % audio.count]
            let shift = takeVideo ? Int64(videoIndex / video.count) * videoLoop : Int64(audioIndex / audio.count) * audioLoop
            let packet = pool.acquire(kind: takeVideo ? .video : .audio)
            guard av_new_packet(packet.pointer, Int32(stored.data.count)) >= 0 else {
                throw BenchFailure("av_new_packet: out of memory")
            }
            stored.data.withUnsafeBufferPointer { packet.pointer.pointee.data.update(from: $0.baseAddress!, count: $0.count) }
            packet.pointer.pointee.pts = stored.pts + shift
            packet.pointer.pointee.dts = stored.dts + shift
            packet.pointer.pointee.duration = stored.duration
            packet.pointer.pointee.flags = stored.flags
            if takeVideo { videoIndex += 1 } else { audioIndex += 1 }
            try sink.write(packet)
        }
    }
}
