import Foundation
import HostProcesses

/// Reads a recording back the way a player presents it and finds the probe's
/// ramps and beeps in it: every picture's presentation time and the mean
/// brightness of the ramp region's patch, every audio sample's time (from the
/// first decoded audio frame's timestamp, encoder priming already removed by
/// the decoder).
struct RecordingAnalysis {
    /// One flash paired with its beep.
    struct Event {
        /// The ramp as the file shows it.
        var ramp: RampSighting
        /// The beep's onset, seconds on the file's timeline.
        var beep: Double
        /// The ramp's start on the nominal ramp, seconds on the file's timeline.
        var flash: Double { ramp.nominalOnset }
    }

    let path: String
    /// The ramps found, in order.
    let ramps: [RampSighting]
    /// Beep onsets, seconds on the file's timeline.
    let beeps: [Double]
    /// Each ramp paired with its beep.
    let events: [Event]
    /// `beep - flash` per paired event, at the flash's time, on the nominal ramp.
    var pairs: [(time: Double, offset: Double)] { events.map { ($0.flash, $0.beep - $0.flash) } }

    init(path: String) throws {
        self.path = path
        // Picture times: the packets' presentation timestamps in order. Every
        // packet decodes to one picture (-fps_mode passthrough keeps them 1:1).
        let times = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                                    "-of", "csv=p=0", path]).compactMap { Double($0) }.sorted()
        // The patch's mean: averaged down to 8x8 and kept to 16 bits, so the
        // mean is not rounded to whole 8-bit levels (a level is 0.7 ms of ramp).
        let patch = RampRegion.patch
        let crop = String(format: "crop=w=iw*%.6f:h=ih*%.6f:x=iw*%.6f:y=ih*%.6f", patch.width, patch.height, patch.x, patch.y)
        let pictureBytes = 8 * 8 * 2
        let pixels = try Self.output(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0",
                                      "-vf", crop + ",scale=8:8:flags=area,format=gray16le", "-fps_mode", "passthrough",
                                      "-f", "rawvideo", "pipe:1"])
        let levels = pixels.withUnsafeBytes { raw in
            stride(from: 0, to: raw.count - pictureBytes + 1, by: pictureBytes).map { start in
                (0..<64).reduce(0.0) { $0 + Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * $1,
                                                                                            as: UInt16.self))) } / 64 / 257
            }
        }
        guard !times.isEmpty, abs(times.count - levels.count) <= 1 else {
            throw BenchFailure("\(path): \(times.count) video packets but \(levels.count) pictures decoded")
        }
        ramps = OnsetDetector.ramps(times: times, levels: levels)

        let rate = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate",
                                   "-of", "csv=p=0", path]).first.flatMap { Int($0) }
        let audioStart = try Self.lines(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "frame=pts_time",
                                         "-read_intervals", "%+#4", "-of", "csv=p=0", path]).first.flatMap { Double($0) }
        guard let rate, let audioStart else { throw BenchFailure("\(path): no audio stream to analyse") }
        let audio = try Self.output(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:a:0", "-ac", "1",
                                     "-f", "f32le", "pipe:1"])
        let samples = audio.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let beeps = OnsetDetector.beeps(samples: samples, quiet: rate / 4).map { audioStart + Double($0) / Double(rate) }
        self.beeps = beeps
        let ramps = ramps
        events = OnsetDetector.pairIndices(flashes: ramps.map(\.nominalOnset), beeps: beeps)
            .map { Event(ramp: ramps[$0.flash], beep: beeps[$0.beep]) }
    }

    /// Writes a file whose ramps and beeps start together by construction,
    /// encoded as Jibri does (libx264 ultrafast crf 25, AAC 128k 44.1 kHz in
    /// MP4): what the analysis reports for it is its own bias, priming, edit
    /// lists and the encoder's levels included. Event `k` starts at
    /// k + 0.5 + 5.7 ms * k seconds, so that the ramps start at different
    /// points of the 30 fps frame grid (0 to 28.5 ms into a frame), as the
    /// probe's irregular events do; each ramp rises over
    /// `ProbeRamp.seconds` and stays white to `ProbeRamp.litSeconds`.
    static func writeAlignedReference(to path: String, seconds: Int) throws {
        let since = "(T-floor(T)-0.5-0.0057*floor(T))"
        let video = "color=c=black:s=320x180:r=30:d=\(seconds),format=yuv420p,"
            + "geq=lum='16+219*clip(\(since)/\(ProbeRamp.seconds),0,1)*lt(\(since),\(ProbeRamp.litSeconds))':cb=128:cr=128"
        let sinceAudio = "(t-floor(t)-0.5-0.0057*floor(t))"
        let audio = "aevalsrc='0.5*cos(2*PI*1000*\(sinceAudio))*between(\(sinceAudio),0,0.08)':s=48000:d=\(seconds)"
        let child = try ChildProcess(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi",
                                    "-i", audio, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "25",
                                    "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2", "-f", "mp4", path],
                                   standardError: .file(path + ".log"))
        guard child.wait().status == 0 else { throw BenchFailure("ffmpeg could not write the reference (see \(path).log)") }
    }

    private static func lines(_ arguments: [String]) throws -> [String] {
        String(decoding: try output(arguments), as: UTF8.self).split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: ","))) }.filter { !$0.isEmpty }
    }

    /// A tool's standard output; it must exit with status 0.
    private static func output(_ arguments: [String]) throws -> Data {
        let pipe = Pipe()
        let child = try ChildProcess(arguments, standardOutput: .descriptor(pipe.fileHandleForWriting.fileDescriptor))
        try pipe.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        guard child.wait().status == 0 else { throw BenchFailure("\(arguments.prefix(2).joined(separator: " ")) failed on \(arguments.last ?? "")") }
        return data
    }
}
