/// What became of a recording's file when it was finished.
public enum MP4FinishOutcome: String, Sendable, Codable {
    /// Turned into a regular MP4 where it lies: the complete index written
    /// into the reserved space (or after the media), one `mdat` header over
    /// the fragments. Nothing copied.
    case finishedInPlace = "finished in place"
    /// Copied into a regular MP4 beside it and renamed over it
    /// (`MP4FileSink.FinishMode.remux`).
    case remuxed
    /// Left as the crash-safe fragmented MP4 it was while recording (it plays
    /// up to its last whole fragment; `MP4Repair` can still finish it),
    /// because a write failed or the disk had no room for the index.
    case keptAsWritten = "kept as written"
}
