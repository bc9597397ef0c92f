import Foundation

/// What a meeting's finished file shows about real time, read the same way
/// whichever recorder wrote it (ffprobe's packet timestamps): video frames
/// must follow each other 1/fps apart (both recorders write a constant-rate
/// track and fill a slot they missed with the last picture, so a frame
/// further on means a slot neither grabbed nor filled), and sound packets
/// must follow each other with no gap longer than half a packet.
struct MeetingFile {
    var videoFrames = 0
    /// Slots left out between frames (a frame n/fps after the previous one, n > 1, leaves n - 1 out).
    var videoGaps = 0
    var videoSeconds = 0.0
    /// Places where the sound jumps more than half a packet past the previous packet's end.
    var audioGaps = 0
    var audioSeconds = 0.0

    /// Reads `path`'s first video and first audio track.
    /// - Throws: `BenchFailure` when ffprobe cannot read it or it has no video.
    init(path: String, fps: Int) throws {
        let video = try Self.packets(path, stream: "v:0")
        guard video.count > 1 else { throw BenchFailure("\(path): no video frames") }
        videoFrames = video.count
        let slot = 1 / Double(fps)
        for (previous, next) in zip(video, video.dropFirst()) {
            let slots = ((next.pts - previous.pts) / slot).rounded()
            if slots > 1 { videoGaps += Int(slots) - 1 }
        }
        videoSeconds = (video.last!.pts - video.first!.pts) + slot
        // A packet's length: its duration, or (a muxer that leaves it out) the usual step between packets.
        let audio = try Self.packets(path, stream: "a:0")
        let steps = zip(audio, audio.dropFirst()).map { $1.pts - $0.pts }.sorted()
        let usual = steps.isEmpty ? 0 : steps[steps.count / 2]
        for (previous, next) in zip(audio, audio.dropFirst()) {
            let length = previous.duration > 0 ? previous.duration : usual
            if next.pts - (previous.pts + length) > length / 2 { audioGaps += 1 }
        }
        if let first = audio.first, let last = audio.last { audioSeconds = last.pts + (last.duration > 0 ? last.duration : usual) - first.pts }
    }

    /// One track's packets in presentation order: (pts, duration) in seconds.
    private static func packets(_ path: String, stream: String) throws -> [(pts: Double, duration: Double)] {
        let text = String(decoding: try BenchTools.output(["ffprobe", "-v", "error", "-select_streams", stream,
                                                           "-show_entries", "packet=pts_time,duration_time",
                                                           "-of", "csv=p=0", path]), as: UTF8.self)
        return text.split(separator: "\n").compactMap { line -> (pts: Double, duration: Double)? in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard let pts = fields.first.flatMap({ Double($0) }) else { return nil }
            return (pts, fields.count > 1 ? Double(fields[1]) ?? 0 : 0)
        }.sorted { $0.pts < $1.pts }
    }
}
