import Foundation

/// How many distinct pictures a meeting's file shows a second: whether the
/// page drew. The grid page moves every frame (four playing videos, four
/// speaking bars), so a frame equal to the one before it is a frame the
/// browser did not draw (or the recorder did not grab): a recording of a
/// stuttering page, whatever its counters say. Decoded by ffmpeg to luma at
/// 480x270 (area-averaged); a frame is new when more than `changedPixels`
/// of its pixels differ from the previous frame's by more than `threshold`
/// levels (x264 at crf 25 re-codes an unchanged picture within a few levels).
struct MeetingPictures {
    static let width = 480, height = 270
    static let threshold = 12, changedPixels = 8

    /// Frames decoded, and those that differ from the one before them (the first counts).
    var frames = 0, distinct = 0
    var seconds = 0.0

    /// Reads `path`'s first video track, recorded at `fps`, all but its first second
    /// (the page settling, the recorder starting).
    /// - Throws: `BenchFailure` when ffmpeg cannot decode it.
    init(path: String, fps: Int) throws {
        let data: Data
        do {
            data = try BenchTools.output(["ffmpeg", "-v", "error", "-ss", "1", "-i", path, "-map", "0:v:0",
                                          "-vf", "scale=\(Self.width):\(Self.height):flags=area,format=gray",
                                          "-f", "rawvideo", "pipe:1"])
        } catch { throw BenchFailure("\(path): ffmpeg could not decode its video") }
        let size = Self.width * Self.height
        frames = data.count / size
        seconds = Double(frames) / Double(fps)
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            let pixels = bytes.bindMemory(to: UInt8.self)
            for index in 0..<frames {
                guard index > 0 else { distinct += 1; continue }
                let now = pixels.baseAddress! + index * size, before = now - size
                var changed = 0
                for offset in 0..<size where abs(Int(now[offset]) - Int(before[offset])) > Self.threshold {
                    changed += 1
                    if changed > Self.changedPixels { break }
                }
                if changed > Self.changedPixels { distinct += 1 }
            }
        }
    }

    var perSecond: Double { seconds > 0 ? Double(distinct) / seconds : 0 }
}
