/// How a file output is split into numbered files (`SegmentedMP4Sink`):
/// at the first keyframe at or after each multiple of `duration`, and at the
/// last keyframe before a file would pass `maxBytes` (judged by the largest
/// GOP so far: see `SegmentSizeGuard`); at least one of them.
public struct FileSegmentation: Sendable, Equatable {
    /// Each file's length, at least: from 1 s to 24 h.
    public var duration: Duration?
    /// The most bytes a file may hold, whole (header, media, index): at least 1 MB.
    public var maxBytes: Int64?

    public init(duration: Duration? = nil, maxBytes: Int64? = nil) {
        self.duration = duration
        self.maxBytes = maxBytes
    }
}
