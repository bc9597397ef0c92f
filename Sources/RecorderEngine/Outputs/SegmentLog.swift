import MediaCore
import Mux

/// The segments a file or HLS output reported, for the statistics: the mux
/// thread records each one as it opens and as it is finished (once per
/// segment, never per packet, so the lock is off the media path); any
/// thread reads the list.
final class SegmentLog: Sendable {
    private let entries = LockedValue<[FileSegment]>([])

    /// Adds a segment just opened, or replaces it with its finished account.
    func record(_ segment: FileSegment) {
        entries.withLock { list in
            if let last = list.indices.last, list[last].index == segment.index {
                list[last] = segment
            } else {
                list.append(segment)
            }
        }
    }

    var segments: [FileSegment] { entries.withLock { $0 } }
}
