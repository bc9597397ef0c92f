/// One numbered file of a segmented recording (`SegmentedMP4Sink`) or one
/// media segment of an HLS output (`HLSSink`).
public struct FileSegment: Sendable, Equatable {
    /// Its number, from 0.
    public var index: Int
    /// The file.
    public var path: String
    /// Where it starts on the recording's timeline (its first picture, or
    /// for sound alone its first sample), seconds.
    public var start: Double
    /// How long it plays, seconds (0 while it is being written).
    public var duration: Double
    /// Bytes in it (as written so far, while it is being written).
    public var bytes: Int64
    /// nil while it is being written; then whether it was finished in place
    /// (a regular MP4) or kept as written (it still plays; `MP4Repair` can
    /// finish it). Always nil for an HLS segment, which is an fMP4 fragment
    /// sequence, complete once listed.
    public var outcome: MP4FinishOutcome?
    /// Why it was kept as written, if it was.
    public var error: String?

    public init(index: Int, path: String, start: Double, duration: Double, bytes: Int64,
                outcome: MP4FinishOutcome? = nil, error: String? = nil) {
        self.index = index
        self.path = path
        self.start = start
        self.duration = duration
        self.bytes = bytes
        self.outcome = outcome
        self.error = error
    }
}
