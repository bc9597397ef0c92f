/// What `MP4Repair.repair(path:)` did.
public struct MP4RepairReport: Sendable, Equatable {
    public let path: String
    /// The file was a finished recording already; nothing was written.
    public let wasFinished: Bool
    /// Complete fragments the file holds.
    public let fragments: Int
    /// Bytes cut off the end: a torn fragment, or the index of a finishing
    /// that was stopped (rewritten).
    public let droppedBytes: Int64
    /// Media duration in seconds (nil when the file was finished already).
    public let duration: Double?
    /// The index is before the media.
    public let moovAtFront: Bool?
    /// The file's size now.
    public let bytes: Int64
    /// Wall-clock seconds the repair took.
    public let seconds: Double
}
