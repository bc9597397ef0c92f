import MediaCore
import MediaPackets

/// A write that failed after `written` bytes.
struct PartialWrite: Error, CustomStringConvertible {
    let written: Int
    let error: AVError
    var description: String { error.description }
}
