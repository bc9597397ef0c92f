public import MediaCore
public import MediaPackets

/// What `MP4FileSink.finish()` or `MP4Repair.repair(path:)` left on disk.
public struct MP4FinishReport: Sendable, Equatable {
    /// The file.
    public let path: String
    public let outcome: MP4FinishOutcome
    /// Media duration in seconds, from the earliest start to the latest end
    /// of any stream (0 when the file was kept as written).
    public let duration: Double
    /// Wall-clock seconds spent finishing: the last fragment, the index
    /// (or the remux), the syncs.
    public let finalizingSeconds: Double
    /// Size of the file on disk now, in bytes.
    public let bytes: Int64
    /// Complete fragments the file holds.
    public let fragments: Int
    /// The complete `moov` is before the media (in the reserved space).
    public let moovAtFront: Bool
    /// Bytes finishing added to the file (the index when it went after the
    /// media; 0 in the reserve; the whole copy's size for a remux, which
    /// needs that much free until the rename).
    public let extraBytes: Int64
    /// Size of the complete index (`moov`) finishing wrote (0 when none).
    public let indexBytes: Int64
    /// Why the file is not finished, or what failed while recording (nil: nothing).
    public let error: String?
    /// The first system or libav error behind `error`, for typed reporting
    /// (nil when there is none, or the file's boxes could not be read).
    public let failure: AVError?

    public init(path: String, outcome: MP4FinishOutcome, duration: Double, finalizingSeconds: Double, bytes: Int64,
                fragments: Int, moovAtFront: Bool, extraBytes: Int64, indexBytes: Int64 = 0, error: String?,
                failure: AVError? = nil) {
        self.path = path
        self.outcome = outcome
        self.duration = duration
        self.finalizingSeconds = finalizingSeconds
        self.bytes = bytes
        self.fragments = fragments
        self.moovAtFront = moovAtFront
        self.extraBytes = extraBytes
        self.indexBytes = indexBytes
        self.error = error
        self.failure = failure
    }
}
