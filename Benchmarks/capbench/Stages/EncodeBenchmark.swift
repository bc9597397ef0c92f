import ArgumentParser
import Encoder
import Foundation
import HostProcesses
import MediaCore
import RecorderEngine

/// The encoders alone, on pre-converted frames: libx264 through our
/// `VideoEncoder.encodeI420` and AAC through our `AudioEncoder`, against
/// `ffmpeg` encoding the same frames and samples from a file to `-f null`.
/// This is the floor of DESIGN.md's table: at the same x264 settings no
/// recorder costs less, so it shows that our wrapper adds nothing.
///
/// CPU-s per media-s: ours is this process's CPU (every x264 thread) from
/// opening the encoder to closing it; the peer's is the `ffmpeg` child's own
/// CPU from `wait4`, start-up included (about 0.05 CPU-s, under 2 % here).
struct EncodeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode", abstract: "libx264 and AAC encoders alone: ours against ffmpeg on the same input.")

    @Option(help: "Size of Jibri's recording case (ultrafast crf 25).") var recordingSize = "1920x1080"
    @Option(help: "Size of Jibri's streaming case (veryfast zerolatency, maxrate 2976k, bufsize 5952k, gop 60).")
    var streamingSize = "1280x720"
    @Option(help: "Frames encoded per trial (30 fps).") var frames = 300
    @Option(help: "Distinct frames of the moving pattern; the sequence loops over them.") var distinctFrames = 60
    @Option(help: "Seconds of the tone encoded per AAC trial.") var audioSeconds = 60.0
    @Option(help: "Rounds; each runs ours, then ffmpeg, for every case. The leanest round is reported.")
    var rounds = 2
    @OptionGroup var common: CommonOptions

    /// One x264 configuration, the same on both sides.
    struct VideoCase {
        var label: String
        var size: FrameSize
        var settings: VideoEncoderSettings
        /// The same settings as ffmpeg options.
        var ffmpegOptions: [String]
    }

    func run() throws {
        guard frames > 0, distinctFrames > 0, rounds > 0, audioSeconds > 0 else {
            throw ValidationError("--frames, --distinct-frames, --rounds and --audio-seconds must be positive")
        }
        BenchLogs.quiet()
        let recording = try FrameSize(parsing: recordingSize), streaming = try FrameSize(parsing: streamingSize)
        let cases = [
            VideoCase(label: "\(recording.shortName) ultrafast crf 25", size: recording,
                      settings: try VideoEncoderSettings(width: recording.width, height: recording.height, fps: 30,
                                                         preset: .ultrafast, profile: .main, crf: 25, gop: 60),
                      ffmpegOptions: ["-preset", "ultrafast", "-crf", "25", "-g", "60", "-profile:v", "main"]),
            VideoCase(label: "\(streaming.shortName) veryfast zerolatency 2976k", size: streaming,
                      settings: try VideoEncoderSettings(width: streaming.width, height: streaming.height, fps: 30,
                                                         preset: .veryfast, tune: .zerolatency, profile: .main, crf: 25,
                                                         maxrate: 2_976_000, bufsize: 5_952_000, gop: 60),
                      ffmpegOptions: ["-preset", "veryfast", "-tune", "zerolatency", "-crf", "25", "-maxrate", "2976k",
                                      "-bufsize", "5952k", "-g", "60", "-profile:v", "main"]),
        ]
        let scratch = try ScratchDirectory("encode")
        var inputs: [String: RawFrames] = [:]
        for videoCase in cases where inputs[videoCase.size.description] == nil {
            let path = scratch.file("pattern-\(videoCase.size).yuv")
            try RawFrames.writePattern(size: videoCase.size, count: distinctFrames, to: path)
            inputs[videoCase.size.description] = try RawFrames(path: path, size: videoCase.size)
        }
        let tone = ToneSignal(frequency: 440, amplitude: 0.5, sampleRate: 48_000, channels: 2)
        let tonePath = scratch.file("tone.s16")
        try tone.writeRaw(to: tonePath, seconds: audioSeconds)
        let toneSamples = tone.pcm(seconds: audioSeconds)

        var videoOurs = [[Trial]](repeating: [], count: cases.count), videoPeer = videoOurs
        var audioOurs: [Trial] = [], audioPeer: [Trial] = []
        for _ in 0..<rounds {
            for (index, videoCase) in cases.enumerated() {
                let input = inputs[videoCase.size.description]!
                videoOurs[index].append(try encodeOurs(videoCase, input: input))
                videoPeer[index].append(try encodeFFmpeg(videoCase, input: input))
            }
            audioOurs.append(try encodeAudioOurs(toneSamples, format: tone))
            audioPeer.append(try encodeAudioFFmpeg(tonePath, format: tone))
        }

        var report = BenchReport(benchmark: "encode", settings: [
            "frames": "\(frames) (\(distinctFrames) distinct testsrc2 frames, looped)", "rounds": "\(rounds)",
            "audio": "\(audioSeconds) s of 440 Hz, s16 48 kHz stereo in, AAC 128k 44.1 kHz out",
            "x264 threads": "auto on both sides",
            "ffmpeg input": "-f rawvideo -pix_fmt yuv420p -r 30 from a file (page cache), -f null output"])
        let peerName = "ffmpeg -f null"
        for (index, videoCase) in cases.enumerated() {
            let ours = Self.leanest(videoOurs[index]), peer = Self.leanest(videoPeer[index])
            report.add(Figure("\(videoCase.label) CPU per media second", unit: "CPU-s/s", ours: ours.cpuPerMediaSecond,
                              peer: peer.cpuPerMediaSecond, peerName: peerName))
            report.add(Figure("\(videoCase.label) output bit rate (same work)", unit: "kb/s", ours: ours.bitrate / 1000,
                              peer: peer.bitrate / 1000, peerName: peerName))
        }
        let ours = Self.leanest(audioOurs), peer = Self.leanest(audioPeer)
        report.add(Figure("AAC 128k 44.1 kHz CPU per media second", unit: "CPU-s/s", ours: ours.cpuPerMediaSecond,
                          peer: peer.cpuPerMediaSecond, peerName: peerName))
        report.add(Figure("AAC output bit rate (same work)", unit: "kb/s", ours: ours.bitrate / 1000,
                          peer: peer.bitrate / 1000, peerName: peerName))
        report.printTable()
        try report.write(json: common.json)
    }

    /// One encode: CPU seconds, media seconds, bytes out.
    struct Trial {
        var cpu: Double
        var media: Double
        var bytes: Double
        var cpuPerMediaSecond: Double { cpu / media }
        var bitrate: Double { bytes * 8 / media }
    }

    static func leanest(_ trials: [Trial]) -> Trial { trials.min { $0.cpuPerMediaSecond < $1.cpuPerMediaSecond }! }

    private func encodeOurs(_ videoCase: VideoCase, input: RawFrames) throws -> Trial {
        let cpu0 = CPUUsage.ownSeconds()
        var bytes = 0
        do {
            let encoder = try VideoEncoder(settings: videoCase.settings, inputWidth: videoCase.size.width,
                                           inputHeight: videoCase.size.height)
            for index in 0..<frames {
                try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                    input.copy(frame: index, into: planes)
                }, emit: { packet in bytes += Int(packet.pointer.pointee.size) })
            }
            try encoder.flush { packet in bytes += Int(packet.pointer.pointee.size) }
        }  // The encoder is closed here: x264's threads end inside the timing.
        return Trial(cpu: CPUUsage.ownSeconds() - cpu0, media: Double(frames) / 30, bytes: Double(bytes))
    }

    private func encodeFFmpeg(_ videoCase: VideoCase, input: RawFrames) throws -> Trial {
        let arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "info", "-stream_loop", "-1",
                         "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", videoCase.size.description, "-r", "30",
                         "-i", input.path, "-frames:v", "\(frames)", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
            + videoCase.ffmpegOptions + ["-f", "null", "-"]
        let (outcome, summary) = try Self.runFFmpeg(arguments, log: input.path + ".log")
        guard summary.frames == frames, let bytes = summary.videoBytes else {
            throw BenchFailure("ffmpeg encoded \(summary.frames) of \(frames) frames (see \(input.path).log)")
        }
        return Trial(cpu: outcome.cpuSeconds, media: Double(frames) / 30, bytes: bytes)
    }

    private func encodeAudioOurs(_ samples: [Int16], format tone: ToneSignal) throws -> Trial {
        let cpu0 = CPUUsage.ownSeconds()
        var bytes = 0
        do {
            let encoder = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
                                           inputFormat: AudioFormat(sampleFormat: .s16, sampleRate: tone.sampleRate,
                                                                    channels: tone.channels))
            // 10 ms chunks, as the capture thread hands them over.
            let chunkFrames = tone.sampleRate / 100
            try samples.withUnsafeBytes { raw in
                var frame = 0
                let total = samples.count / tone.channels
                while frame < total {
                    let count = min(chunkFrames, total - frame)
                    try encoder.encode(interleaved: raw.baseAddress! + frame * tone.channels * 2, frameCount: count) { packet in
                        bytes += Int(packet.pointer.pointee.size)
                    }
                    frame += count
                }
            }
            try encoder.flush { packet in bytes += Int(packet.pointer.pointee.size) }
        }
        return Trial(cpu: CPUUsage.ownSeconds() - cpu0, media: audioSeconds, bytes: Double(bytes))
    }

    private func encodeAudioFFmpeg(_ path: String, format tone: ToneSignal) throws -> Trial {
        let arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "info", "-f", "s16le", "-ar", "\(tone.sampleRate)",
                         "-ac", "\(tone.channels)", "-i", path, "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-f", "null", "-"]
        let (outcome, summary) = try Self.runFFmpeg(arguments, log: path + ".log")
        guard let bytes = summary.audioBytes, bytes > 0 else { throw BenchFailure("ffmpeg AAC failed (see \(path).log)") }
        return Trial(cpu: outcome.cpuSeconds, media: audioSeconds, bytes: bytes)
    }

    /// Runs ffmpeg to its end; its outcome and what it reported.
    static func runFFmpeg(_ arguments: [String], log: String) throws -> (Termination, FFmpegSummary) {
        try? FileManager.default.removeItem(atPath: log)
        let child = try ChildProcess(arguments, standardError: .file(log))
        let outcome = child.wait()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard outcome.status == 0 else {
            throw BenchFailure("\(arguments.prefix(3).joined(separator: " ")) ... exited with \(outcome.status): \(text.suffix(400))")
        }
        return (outcome, FFmpegSummary(log: text))
    }
}
