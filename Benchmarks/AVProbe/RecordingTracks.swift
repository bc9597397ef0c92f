package import Foundation

/// What the analyses read from a recording with ffprobe and ffmpeg, as a
/// player presents it: each picture's presentation time and brightness, and
/// the audio as mono samples from the first decoded audio frame's time
/// (the decoder removes the encoder's priming).
package enum RecordingTracks {
    /// The video packets' presentation times, seconds, rising. Every packet
    /// decodes to one picture (`-fps_mode passthrough` keeps them 1:1).
    package static func pictureTimes(_ path: String, run: ToolRunner) throws -> [Double] {
        try lines(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                   "-of", "csv=p=0", path], run: run).compactMap { Double($0) }.sorted()
    }

    /// Each picture's mean grey level (0-255) over `region` (the whole
    /// picture when nil): averaged down to 8x8 and kept to 16 bits, so the
    /// mean is not rounded to whole 8-bit levels (a level is 0.7 ms of ramp).
    package static func pictureLevels(_ path: String, region: RampRegion?, run: ToolRunner) throws -> [Double] {
        let crop = region.map {
            String(format: "crop=w=iw*%.6f:h=ih*%.6f:x=iw*%.6f:y=ih*%.6f,", $0.width, $0.height, $0.x, $0.y)
        } ?? ""
        let pictureBytes = 8 * 8 * 2
        let pixels = try run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
                              "-vf", crop + "scale=8:8:flags=area,format=gray16le", "-fps_mode", "passthrough",
                              "-f", "rawvideo", "pipe:1"])
        return pixels.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count - pictureBytes + 1, by: pictureBytes).map { start in
                (0..<64).reduce(0.0) { $0 + Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * $1,
                                                                                            as: UInt16.self))) } / 64 / 257
            }
        }
    }

    /// The first audio stream: its sample rate, the first decoded frame's
    /// time (seconds on the file's timeline; nil: no audio frame) and every
    /// sample, mono float; nil, nil and no samples without an audio stream.
    package static func audio(_ path: String, run: ToolRunner) throws -> (rate: Int?, start: Double?, samples: [Float]) {
        let rate = try lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate",
                              "-of", "csv=p=0", path], run: run).first.flatMap { Int($0) }
        guard rate != nil else { return (nil, nil, []) }
        let start = try lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "frame=pts_time",
                               "-read_intervals", "%+#4", "-of", "csv=p=0", path], run: run).first.flatMap { Double($0) }
        let audio = try run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1",
                             "-f", "f32le", "pipe:1"])
        return (rate, start, audio.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
    }

    private static func lines(_ arguments: [String], run: ToolRunner) throws -> [String] {
        String(decoding: try run(arguments), as: UTF8.self).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ","))) }.filter { !$0.isEmpty }
    }
}
