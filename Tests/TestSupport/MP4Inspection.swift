public import Foundation

/// What the tests of finishing and repair read from MP4 files: the top-level
/// boxes with their offsets, and what ffprobe and `ffmpeg -xerror` make of them.
public enum MP4Inspection {
    public struct Box: Equatable, Sendable {
        public let type: String
        public let offset: Int64
        public let size: Int64
        public var end: Int64 { offset + size }
    }

    /// The top-level boxes, with their offsets; stops at a box that runs
    /// past the end of the file (a torn one), which is left out.
    public static func boxes(_ path: String) throws -> [Box] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ProbeError.failed(path, "cannot open") }
        defer { try? handle.close() }
        let fileSize = Int64(try handle.seekToEnd())
        var boxes: [Box] = []
        var offset: Int64 = 0
        while offset + 8 <= fileSize {
            try handle.seek(toOffset: UInt64(offset))
            let bytes = [UInt8](try handle.read(upToCount: 16) ?? Data())
            var size = bytes[0..<4].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            if size == 1, bytes.count == 16 { size = bytes[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) } }
            guard size >= 8, offset + size <= fileSize else { break }
            boxes.append(Box(type: String(decoding: bytes[4..<8], as: UTF8.self), offset: offset, size: size))
            offset += size
        }
        return boxes
    }

    /// Video and audio packets ffprobe finds (without decoding).
    public static func packetCounts(_ path: String) throws -> (video: Int, audio: Int) {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-show_entries",
                                         "stream=codec_type,nb_read_packets", "-of", "csv=p=0", path])
        guard result.status == 0 else { throw ProbeError.failed(path, result.standardError) }
        var counts = (video: 0, audio: 0)
        for line in result.standardOutput.split(separator: "\n") {
            let fields = line.split(separator: ",")
            guard fields.count == 2, let count = Int(fields[1]) else { continue }
            if fields[0] == "video" { counts.video = count } else if fields[0] == "audio" { counts.audio = count }
        }
        return counts
    }

    /// The container's duration as ffprobe reads it (seconds).
    public static func duration(_ path: String) throws -> Double {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path])
        return Double(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// What `ffmpeg -v error -xerror` says decoding the whole file (empty: clean),
    /// with its exit status.
    public static func decodeErrors(_ path: String) throws -> String {
        let result = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-"])
        return result.status == 0 ? result.standardError : "exit \(result.status): \(result.standardError)"
    }

    /// The file's bytes, to prove a file was left untouched.
    public static func contents(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }
}
