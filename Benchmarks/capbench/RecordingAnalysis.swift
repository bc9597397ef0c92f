import Foundation

/// Reads a recording back the way a player presents it and finds the probe's
/// flashes and beeps in it: every picture's presentation time and mean
/// brightness, every audio sample's time (from the first decoded audio
/// frame's timestamp, encoder priming already removed by the decoder).
struct RecordingAnalysis {
    let path: String
    /// Flash onsets, seconds on the file's timeline.
    let flashes: [Double]
    /// Beep onsets, seconds on the file's timeline.
    let beeps: [Double]
    /// `beep - flash` per paired event.
    let pairs: [(time: Double, offset: Double)]

    init(path: String) throws {
        self.path = path
        // Picture times: the packets' presentation timestamps in order. Every
        // packet decodes to one picture (-fps_mode passthrough keeps them 1:1).
        let times = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                                    "-of", "csv=p=0", path]).compactMap { Double($0) }.sorted()
        let pictureBytes = 16 * 9
        let pixels = try Self.output(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
                                      "-vf", "scale=16:9:flags=area,format=gray", "-fps_mode", "passthrough",
                                      "-f", "rawvideo", "pipe:1"])
        let levels = stride(from: 0, to: pixels.count - pictureBytes + 1, by: pictureBytes).map { start in
            Double(pixels[start..<start + pictureBytes].reduce(0) { $0 + Int($1) }) / Double(pictureBytes)
        }
        guard !times.isEmpty, abs(times.count - levels.count) <= 1 else {
            throw BenchFailure("\(path): \(times.count) video packets but \(levels.count) pictures decoded")
        }
        flashes = OnsetDetector.flashes(times: times, levels: levels)

        let rate = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate",
                                   "-of", "csv=p=0", path]).first.flatMap { Int($0) }
        let audioStart = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "frame=pts_time",
                                         "-read_intervals", "%+#4", "-of", "csv=p=0", path]).first.flatMap { Double($0) }
        guard let rate, let audioStart else { throw BenchFailure("\(path): no audio stream to analyse") }
        let audio = try Self.output(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1",
                                     "-f", "f32le", "pipe:1"])
        let samples = audio.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        beeps = OnsetDetector.beeps(samples: samples, quiet: rate / 4).map { audioStart + Double($0) / Double(rate) }
        pairs = OnsetDetector.pair(flashes: flashes, beeps: beeps)
    }

    /// Writes a file whose flashes and beeps coincide by construction (both
    /// at k + 0.5 s, on a frame boundary at 30 fps), encoded as Jibri does
    /// (libx264, AAC 128k 44.1 kHz in MP4): what the analysis reports for it
    /// is its own bias, priming and edit lists included.
    static func writeAlignedReference(to path: String, seconds: Int) throws {
        let video = "color=c=black:s=320x180:r=30:d=\(seconds),format=yuv420p,"
            + "drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(mod(t,1),0.49,0.8)'"
        let audio = "aevalsrc='0.5*cos(2*PI*1000*(t-0.5))*between(mod(t,1),0.5,0.58)':s=48000:d=\(seconds)"
        let child = try BenchChild(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi",
                                    "-i", audio, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "25",
                                    "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2", "-f", "mp4", path],
                                   standardError: path + ".log")
        guard child.wait().status == 0 else { throw BenchFailure("ffmpeg could not write the reference (see \(path).log)") }
    }

    private static func lines(_ arguments: [String]) throws -> [String] {
        String(decoding: try output(arguments), as: UTF8.self).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ","))) }.filter { !$0.isEmpty }
    }

    /// A tool's standard output; it must exit with status 0.
    private static func output(_ arguments: [String]) throws -> Data {
        let pipe = Pipe()
        let child = try BenchChild(arguments, passing: [(pipe.fileHandleForWriting.fileDescriptor, 1)])
        try pipe.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        guard child.wait().status == 0 else { throw BenchFailure("\(arguments.prefix(2).joined(separator: " ")) failed on \(arguments.last ?? "")") }
        return data
    }
}
