public import Foundation

/// What ffprobe and ffmpeg read back from a media file.
public struct MediaProbe {
    public struct Stream {
        public let codec: String
        public let type: String
        public let frameRate: String
        public let averageFrameRate: String
        public let frames: Int?
        public let duration: Double?
        public let sampleRate: Int?
        public let level: Int?
        public let width: Int?
        public let height: Int?
    }

    public let path: String
    public let streams: [Stream]
    public let duration: Double?

    /// Runs ffprobe on `path`, counting frames when `countFrames` (slower).
    public init(path: String, countFrames: Bool = true) throws {
        self.path = path
        var arguments = ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format"]
        if countFrames { arguments.append("-count_frames") }
        let result = try Subprocess.run(arguments + [path])
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        else { throw ProbeError.failed(path, result.standardError) }
        let format = json["format"] as? [String: Any]
        duration = (format?["duration"] as? String).flatMap(Double.init)
        streams = (json["streams"] as? [[String: Any]] ?? []).map { stream in
            Stream(codec: stream["codec_name"] as? String ?? "",
                   type: stream["codec_type"] as? String ?? "",
                   frameRate: stream["r_frame_rate"] as? String ?? "",
                   averageFrameRate: stream["avg_frame_rate"] as? String ?? "",
                   frames: (stream["nb_read_frames"] as? String).flatMap { Int($0) },
                   duration: (stream["duration"] as? String).flatMap(Double.init),
                   sampleRate: (stream["sample_rate"] as? String).flatMap { Int($0) },
                   level: stream["level"] as? Int,
                   width: stream["width"] as? Int,
                   height: stream["height"] as? Int)
        }
    }

    public var video: Stream? { streams.first { $0.type == "video" } }
    public var audio: Stream? { streams.first { $0.type == "audio" } }

    /// The four-letter types of the file's top-level boxes, in order (MP4).
    public static func topLevelBoxes(_ path: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var boxes: [String] = []
        var offset = 0
        while offset + 8 <= data.count {
            var size = data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: data[offset + 4..<offset + 8], as: UTF8.self)
            if size == 1, offset + 16 <= data.count { size = data[offset + 8..<offset + 16].reduce(0) { $0 << 8 | Int($1) } }
            if size == 0 { size = data.count - offset }
            guard size >= 8 else { break }
            boxes.append(type)
            offset += size
        }
        return boxes
    }

    /// Decodes the audio to mono doubles at `rate` (first `seconds` from `start`).
    /// Decoded from the file's start and cut at `start`: seeking the input
    /// instead starts the AAC decoder without the frame before, which bent
    /// the first half second of a 440 Hz tone to 440.25 Hz.
    public static func decodeAudio(_ path: String, rate: Int = 44_100, start: Double = 0, seconds: Double? = nil) throws -> [Double] {
        var arguments = ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-ss", "\(start)"]
        if let seconds { arguments += ["-t", "\(seconds)"] }
        arguments += ["-map", "0:a", "-ac", "1", "-ar", "\(rate)", "-f", "f64le", "pipe:1"]
        let data = try Subprocess.runBinary(arguments)
        return data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
    }

    /// Decodes one video frame at `time` to RGB24 bytes.
    public static func decodeFrameRGB(_ path: String, at time: Double) throws -> [UInt8] {
        let data = try Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-ss", "\(time)", "-i", path,
                                             "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"])
        return [UInt8](data)
    }

    /// Decodes the whole file and returns what ffmpeg printed as errors (empty: clean).
    public static func decodeErrors(_ path: String) throws -> String {
        try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-"]).standardError
    }

    /// Seconds of each stream a decoder gets out of the file, from the last
    /// decoded frame's timestamp plus its duration.
    public static func decodableSeconds(_ path: String, stream: String) throws -> Double {
        let result = try Subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
                                         "frame=pts_time,duration_time", "-of", "csv=p=0", path])
        let last = result.standardOutput.split(separator: "\n").last { !$0.isEmpty } ?? ""
        let fields = last.split(separator: ",").compactMap { Double($0) }
        return fields.reduce(0, +)
    }
}

public enum ProbeError: Error { case failed(String, String) }

extension Subprocess {
    /// Runs a command and returns its standard output as bytes.
    public static func runBinary(_ arguments: [String]) throws -> Data {
        let out = Pipe()
        let child = try ChildProcess(arguments, standardOutput: .descriptor(out.fileHandleForWriting.fileDescriptor))
        try out.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        guard child.wait().status == 0 else { throw ProbeError.failed(arguments.joined(separator: " "), "exit status") }
        return data
    }
}
