/// What `MP4FileSink.finish()` produced.
public struct MP4FinishReport: Sendable, Equatable {
    /// The final file (a regular MP4 with `moov` before `mdat`).
    public let path: String
    /// Media duration in seconds, from the earliest start to the latest end
    /// of any stream.
    public let duration: Double
    /// Wall-clock seconds spent finalizing: the trailer, the remux with
    /// `moov` at the front, fsync and the rename.
    public let finalizingSeconds: Double
    /// Size of the final file in bytes.
    public let bytes: Int64
}
