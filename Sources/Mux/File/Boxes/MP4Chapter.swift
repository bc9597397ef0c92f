/// A chapter of a finished recording: where it starts and its title (a
/// recording that was paused has one per part: "Part 2" starts where the
/// recording was resumed the first time).
public struct MP4Chapter: Sendable, Equatable {
    /// Seconds from the start of the file's timeline.
    public var start: Double
    /// At most 255 bytes of UTF-8 are kept.
    public var title: String

    public init(start: Double, title: String) {
        self.start = start
        self.title = title
    }

    /// The Nero chapter list FFmpeg's `mov` muxer writes (`chpl`, version 1:
    /// a reserved u32, a u8 count, then per chapter its start in 100 ns
    /// units, u64, and a u8-length title); at most 255 chapters.
    static func writeList(_ chapters: [MP4Chapter], into writer: inout MP4ByteWriter) {
        writer.box(.chpl) { writer in
            writer.u32(0x0100_0000)
            writer.u32(0)
            let kept = chapters.prefix(255)
            writer.u8(UInt8(kept.count))
            for chapter in kept {
                writer.u64(UInt64(max(0, (chapter.start * 10_000_000).rounded())))
                let title = Array(chapter.title.utf8.prefix(255))
                writer.u8(UInt8(title.count))
                writer.append(title)
            }
        }
    }
}
