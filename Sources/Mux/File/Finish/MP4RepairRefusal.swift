/// A file `MP4Repair` will not touch: not an MP4, not one of our recordings,
/// or nothing in it to keep. The file is as it was.
public struct MP4RepairRefusal: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Not an MP4 at all (no `ftyp` box first).
        case notMP4
        /// An MP4 without our recording marker (another program's file).
        case notOurs
        /// Ours, but not even one fragment is whole.
        case nothingToKeep
        /// Ours, but its fragment headers cannot be read.
        case damaged
        /// The file cannot be opened or read.
        case unreadable
    }
    public let path: String
    public let kind: Kind
    public let reason: String
    public var description: String { "\(path) \(reason); left untouched" }
}
