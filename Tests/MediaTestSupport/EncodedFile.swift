public import Foundation
public import Testing
import TestSupport

/// Reads what a written file holds with the Debian ffprobe/ffmpeg tools.
public enum EncodedFile {
    /// ffprobe's JSON for the streams and the format of `path`.
    public static func streams(_ path: String, countFrames: Bool = false) throws -> (streams: [[String: Any]], format: [String: Any]) {
        var arguments = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams"]
        if countFrames { arguments.append("-count_frames") }
        let result = try Subprocess.run(arguments + [path])
        try #require(result.status == 0, "ffprobe failed: \(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let streams = json["streams"] as? [[String: Any]] ?? []
        let format = json["format"] as? [String: Any] ?? [:]
        return (streams, format)
    }

    public static func stream(_ streams: [[String: Any]], type: String) -> [String: Any]? {
        streams.first { $0["codec_type"] as? String == type }
    }

    /// The types of the top-level MP4 boxes, in file order.
    public static func topLevelBoxes(_ path: String) throws -> [String] {
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
    public static func decodeAudio(_ path: String, sampleRate: Int, directory: String) throws -> [Double] {
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
    public static func decodeFrame(_ path: String, index: Int, directory: String) throws -> [UInt8] {
        let raw = "\(directory)/frame.rgb"
        let result = try Subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-map", "0:v",
                                         "-vf", "select=eq(n\\,\(index))", "-frames:v", "1",
                                         "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        try #require(result.status == 0, "ffmpeg video decode failed: \(result.standardError)")
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
    }

    /// Checks that the four quadrants of a decoded RGB24 frame show the test
    /// scene's colours within `tolerance` per channel.
    public static func expectQuadrants(_ rgb: [UInt8], width: Int, height: Int, tolerance: Int = 24,
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
