import CFFmpeg
import Encoder
import Foundation
import MediaCore
import MediaPackets
import Mux
import Testing
import TestSupport

/// Synthetic capture input and checks of written files, for the encoder and
/// muxer tests (no display, no sound device).
enum TestMedia {
    /// The test scene's colours as 0xXXRRGGBB (BGRA bytes in memory).
    static let red: UInt32 = 0xFFFF_0000
    static let green: UInt32 = 0xFF00_FF00
    static let blue: UInt32 = 0xFF00_00FF
    static let white: UInt32 = 0xFFFF_FFFF

    /// libx264 and the AAC encoder report every run at info level; the tests
    /// keep warnings and errors only. Evaluated once, by whoever encodes first.
    static let quietLibav: Void = av_log_set_level(AV_LOG_WARNING)

    /// A fresh directory under the system's temporary directory.
    static func scratchDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "encoder-tests-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes a scratch directory, unless KEEP_TEST_FILES is set (to look
    /// at what a test wrote).
    static func removeDirectory(_ path: String) {
        guard ProcessInfo.processInfo.environment["KEEP_TEST_FILES"] == nil else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Makes BGRA frames of a test scene: four quadrants (red, green / blue,
/// white) and a black bar moving along the top eighth, away from the
/// quadrant centres the tests sample.
final class TestScene {
    let width: Int
    let height: Int
    let bytesPerRow: Int
    private let pool: BufferPool
    private let background: UnsafeMutableRawPointer

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        bytesPerRow = width * 4
        pool = BufferPool(count: 2, byteCount: bytesPerRow * height)
        background = .allocate(byteCount: bytesPerRow * height, alignment: 64)
        // Drawn once; each frame copies it, so debug builds stay fast.
        for y in 0..<height {
            let row = (background + y * bytesPerRow).assumingMemoryBound(to: UInt32.self)
            let left = y < height / 2 ? TestMedia.red : TestMedia.blue
            let right = y < height / 2 ? TestMedia.green : TestMedia.white
            row.update(repeating: left, count: width / 2)
            (row + width / 2).update(repeating: right, count: width - width / 2)
        }
    }

    deinit { background.deallocate() }

    /// A frame that brings no change (as X DAMAGE reports a still screen).
    func unchangedFrame(_ index: Int) -> VideoFrame {
        guard let buffer = pool.acquire() else { fatalError("test scene pool exhausted") }
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: bytesPerRow,
                          captureTime: Int64(index) * Int64.nanosecondsPerSecond / 30, sequence: index,
                          damage: .unchanged)
    }

    /// Frame number `index` of the scene.
    func frame(_ index: Int) -> VideoFrame {
        guard let buffer = pool.acquire() else { fatalError("test scene pool exhausted") }
        buffer.baseAddress.copyMemory(from: background, byteCount: bytesPerRow * height)
        let barWidth = max(8, width / 40)
        let barX = (index * 8) % (width - barWidth)
        for y in 0..<(height / 8) {
            let row = (buffer.baseAddress + y * bytesPerRow).assumingMemoryBound(to: UInt32.self)
            (row + barX).update(repeating: 0xFF00_0000, count: barWidth)
        }
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: bytesPerRow,
                          captureTime: Int64(index) * Int64.nanosecondsPerSecond / 30, sequence: index)
    }
}

/// Makes a 440 Hz sine (or another frequency) as interleaved s16 chunks.
final class ToneSource {
    let format: AudioFormat
    let frequency: Double
    let chunkFrames: Int
    private let pool: BufferPool
    private var nextFrame: Int64 = 0

    init(frequency: Double = 440, sampleRate: Int = 48_000, channels: Int = 2, chunkFrames: Int = 960) {
        format = AudioFormat(sampleFormat: .s16, sampleRate: sampleRate, channels: channels)
        self.frequency = frequency
        self.chunkFrames = chunkFrames
        pool = BufferPool(count: 2, byteCount: chunkFrames * format.bytesPerFrame)
    }

    /// Frames produced so far.
    var framesProduced: Int64 { nextFrame }

    /// The next chunk of the tone.
    func next() -> AudioChunk {
        guard let buffer = pool.acquire() else { fatalError("tone pool exhausted") }
        let samples = buffer.baseAddress.assumingMemoryBound(to: Int16.self)
        let step = 2 * Double.pi * frequency / Double(format.sampleRate)
        for frame in 0..<chunkFrames {
            let value = Int16(12_000 * sin(step * Double(nextFrame + Int64(frame))))
            for channel in 0..<format.channels { samples[frame * format.channels + channel] = value }
        }
        let chunk = AudioChunk(buffer: buffer, frameCount: chunkFrames,
                               captureTime: nextFrame * Int64.nanosecondsPerSecond / Int64(format.sampleRate),
                               firstFrameIndex: nextFrame, isGapFill: false)
        nextFrame += Int64(chunkFrames)
        return chunk
    }
}

/// Records synthetic video and audio through the encoders into a sink.
struct TestRecording {
    var videoSettings: VideoEncoderSettings
    var audioSettings: AudioEncoderSettings
    var inputWidth: Int
    var inputHeight: Int

    /// Encodes `seconds` of the scene and the tone into `sink` (fed as the
    /// engine's mux thread would: packets of both encoders as they come).
    /// Does not finish the sink; with `flushEncoders` false the encoders are
    /// not drained either, as when the recorder is killed.
    func record(seconds: Double, flushEncoders: Bool = true,
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

/// Reads what a written file holds with the Debian ffprobe/ffmpeg tools.
enum MediaProbe {
    /// ffprobe's JSON for the streams and the format of `path`.
    static func streams(_ path: String, countFrames: Bool = false) throws -> (streams: [[String: Any]], format: [String: Any]) {
        var arguments = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams"]
        if countFrames { arguments.append("-count_frames") }
        let result = try Subprocess.run(arguments + [path])
        try #require(result.status == 0, "ffprobe failed: \(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let streams = json["streams"] as? [[String: Any]] ?? []
        let format = json["format"] as? [String: Any] ?? [:]
        return (streams, format)
    }

    static func stream(_ streams: [[String: Any]], type: String) -> [String: Any]? {
        streams.first { $0["codec_type"] as? String == type }
    }

    /// The types of the top-level MP4 boxes, in file order.
    static func topLevelBoxes(_ path: String) throws -> [String] {
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        var offset: UInt64 = 0
        var boxes: [String] = []
        while offset + 8 <= size {
            try handle.seek(toOffset: offset)
            let header = try #require(try handle.read(upToCount: 16))
            let bytes = [UInt8](header)
            var boxSize = UInt64(bytes[0]) << 24 | UInt64(bytes[1]) << 16 | UInt64(bytes[2]) << 8 | UInt64(bytes[3])
            boxes.append(String(decoding: bytes[4..<8], as: UTF8.self))
            if boxSize == 1, bytes.count >= 16 {
                boxSize = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
            } else if boxSize == 0 {
                break
            }
            guard boxSize >= 8 else { break }
            offset += boxSize
        }
        return boxes
    }

    /// Decodes the audio of `path` to mono s16 at `sampleRate` and returns the samples.
    static func decodeAudio(_ path: String, sampleRate: Int, directory: String) throws -> [Double] {
        let raw = "\(directory)/audio.raw"
        let result = try Subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-map", "0:a", "-ac", "1",
                                         "-ar", String(sampleRate), "-f", "s16le", "-acodec", "pcm_s16le", raw])
        try #require(result.status == 0, "ffmpeg audio decode failed: \(result.standardError)")
        let data = try Data(contentsOf: URL(fileURLWithPath: raw))
        return data.withUnsafeBytes { bytes in
            bytes.bindMemory(to: Int16.self).map { Double(Int16(littleEndian: $0)) }
        }
    }

    /// Decodes video frame number `index` of `path` to RGB24 bytes.
    static func decodeFrame(_ path: String, index: Int, directory: String) throws -> [UInt8] {
        let raw = "\(directory)/frame.rgb"
        let result = try Subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-map", "0:v",
                                         "-vf", "select=eq(n\\,\(index))", "-frames:v", "1",
                                         "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        try #require(result.status == 0, "ffmpeg video decode failed: \(result.standardError)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
    }

    /// Checks that the four quadrants of a decoded RGB24 frame show the test
    /// scene's colours within `tolerance` per channel.
    static func expectQuadrants(_ rgb: [UInt8], width: Int, height: Int, tolerance: Int = 24,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(rgb.count == width * height * 3, "decoded frame size", sourceLocation: sourceLocation)
        guard rgb.count == width * height * 3 else { return }
        let expected: [(x: Int, y: Int, rgb: (Int, Int, Int), name: String)] = [
            (width / 4, height / 4, (255, 0, 0), "red"), (3 * width / 4, height / 4, (0, 255, 0), "green"),
            (width / 4, 3 * height / 4, (0, 0, 255), "blue"), (3 * width / 4, 3 * height / 4, (255, 255, 255), "white"),
        ]
        for point in expected {
            let offset = (point.y * width + point.x) * 3
            let actual = (Int(rgb[offset]), Int(rgb[offset + 1]), Int(rgb[offset + 2]))
            let close = abs(actual.0 - point.rgb.0) <= tolerance && abs(actual.1 - point.rgb.1) <= tolerance
                && abs(actual.2 - point.rgb.2) <= tolerance
            #expect(close, "\(point.name) quadrant decoded as \(actual)", sourceLocation: sourceLocation)
        }
    }
}
