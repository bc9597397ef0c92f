/// How a file output is split into numbered files (`SegmentedMP4Sink`):
/// at the first keyframe at or after each multiple of `duration`, and at the
/// first keyframe after a file reached `maxBytes`; at least one of them.
public struct FileSegmentation: Sendable, Equatable {
    /// Each file's length, at least: from 1 s to 24 h.
    public var duration: Duration?
    /// Bytes after which the next keyframe starts a file: at least 1 MB.
    public var maxBytes: Int64?

    public init(duration: Duration? = nil, maxBytes: Int64? = nil) {
        self.duration = duration
        self.maxBytes = maxBytes
    }
}
