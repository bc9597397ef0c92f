import MediaPackets

/// When a size-limited `SegmentedMP4Sink` must cut so that no file passes
/// `maxBytes` (the whole file: header, reserve, fragments and index).
///
/// A cut can only come at a keyframe, before the group of pictures it
/// starts is written, and that group's size is not known then. So at each
/// keyframe the file is cut when its size, were it ended now, plus the
/// largest group written so far in the recording (keyframe to keyframe,
/// with the sound between, as the file grew by it) would pass `maxBytes`.
/// A group larger than every earlier one by more than the room left can
/// still take a file past it (a scene change after a long still picture);
/// one group larger than `maxBytes` always does.
///
/// Knowing a group's size before choosing its file would take holding the
/// group back, in memory, before writing any of it: a crash would then lose
/// a whole GOP more than the file's fragments promise (see `MP4FileSink`).
///
/// "Ended now": the bytes the file received, plus the packets the muxer
/// holds for its current fragment (those written since the file last grew)
/// with their boxes (`trun` entries, `moof`, `mdat` header), plus the index
/// when it would not fit the reserve and goes after the media.
struct SegmentSizeGuard {
    let maxBytes: Int64
    private let streams: [StreamParameters]
    private let fragmentDuration: Double
    /// Bytes of the boxes around a fragment (`moof` with a `traf` per
    /// stream, `mdat` header) and of each sample's `trun` entry, at most.
    static let fragmentBoxBytes: Int64 = 512
    static let sampleEntryBytes: Int64 = 16
    /// The file's size as last seen, and the packets written since it grew.
    private var fileBytes: Int64 = 0
    private var pendingBytes: Int64 = 0
    private var pendingPackets: Int64 = 0
    /// The file's size, ended, when the current group started (nil before
    /// its first group).
    private var groupStart: Int64?
    /// The largest group so far, bytes of file.
    private(set) var largestGroup: Int64 = 0

    init(maxBytes: Int64, streams: [StreamParameters], fragmentDuration: Double) {
        self.maxBytes = maxBytes
        self.streams = streams
        self.fragmentDuration = fragmentDuration
    }

    /// The file's size were it ended now.
    private var endedSize: Int64 {
        fileBytes + pendingBytes + pendingPackets * Self.sampleEntryBytes + (pendingPackets > 0 ? Self.fragmentBoxBytes : 0)
    }

    /// Whether the group a keyframe would start, as large as the largest so
    /// far, would take the file past `maxBytes`. `seconds`: the file's media
    /// so far; `reserve`: its index reserve.
    func nextGroupWouldPass(seconds: Double, reserve: Int64) -> Bool {
        let ended = endedSize
        let group = max(largestGroup, groupStart.map { ended - $0 } ?? 0)
        var predicted = ended + group
        // The index goes after the media when it outgrows the reserve.
        let index = MP4FileSink.indexReserve(for: streams, seconds: seconds * 1.1 + 10, fragmentDuration: fragmentDuration)
        if index > reserve { predicted += index }
        return predicted > maxBytes
    }

    /// A packet of `bytes` was written; the file now has `fileBytes`;
    /// `startsGroup`: it was a keyframe (any AAC frame, for sound alone).
    mutating func wrote(bytes: Int64, fileBytes now: Int64, startsGroup: Bool) {
        if startsGroup {
            // The previous group ended before this packet.
            let ended = endedSize
            if let start = groupStart { largestGroup = max(largestGroup, ended - start) }
            groupStart = ended
        }
        if now != fileBytes {
            // The muxer wrote its fragment out before taking this packet.
            fileBytes = now
            pendingBytes = bytes
            pendingPackets = 1
        } else {
            pendingBytes += bytes
            pendingPackets += 1
        }
    }

    /// A new file was started; `fileBytes`: its header and reserve. The
    /// group that ended the previous file counts among the largest.
    mutating func startedFile(fileBytes: Int64) {
        if let start = groupStart { largestGroup = max(largestGroup, endedSize - start) }
        self.fileBytes = fileBytes
        pendingBytes = 0
        pendingPackets = 0
        groupStart = nil
    }
}
