#if canImport(Glibc)
import Glibc
#endif
import MediaCore

/// Turns one of our fragmented recordings into a regular MP4 where it lies,
/// in time that does not depend on its length: no media byte is read or
/// moved, and the writes are the index and three headers whatever the
/// length. `MP4FileSink.finish()` and `MP4Repair` both end here.
///
/// Invariant: at every moment the file is in one of five states (fragmented;
/// index written but hidden; two `moov`s; one `mdat` over everything; finished),
/// each fsynced before the next, and each either plays as it is or is
/// finished by running this again (what `MP4Repair` does). The states and
/// why they come in that order: docs/ARCHITECTURE.md, "The file".
///
/// Space: in the reserve nothing is allocated; after the media, a failed
/// write of the index (ENOSPC) is cut away and the file stays fragmented.
struct MP4InPlaceFinisher {
    let file: FileHandleIO
    /// A 16-byte `mdat` header with a 64-bit size (ISO/IEC 14496-12 §4.2:
    /// size 1, then the type, then the size) for a box of `size` bytes.
    static func mdatHeader(size: Int64) -> [UInt8] {
        var writer = MP4ByteWriter(capacity: 16)
        writer.u32(1)
        writer.u32(FourCC.mdat.value)
        writer.u64(UInt64(size))
        return writer.bytes
    }

    /// For tests: `SDC_TEST_KILL_AFTER_FINISH_STEP=k` sends this process
    /// SIGKILL right after the k-th write of finishing (1-based), to prove
    /// that every state in between plays or is repaired.
    private let killAfterStep = getenv("SDC_TEST_KILL_AFTER_FINISH_STEP").flatMap { Int(String(cString: $0)) }
    private var steps = 0

    struct Result {
        let duration: Double
        let moovAtFront: Bool
        let extraBytes: Int64
        let fragments: Int
        let droppedBytes: Int64
        let indexBytes: Int64
    }

    init(file: FileHandleIO) { self.file = file }

    /// Finishes the recording whose boxes are `layout`. Throws when the file
    /// cannot be finished (a write failed); the file is then in one of the
    /// states above, playable or repairable.
    /// `index`: the fragments' index when the caller built it already (the
    /// sink, while recording); read from the file otherwise.
    mutating func finish(_ layout: MP4RecordingLayout, index known: MP4FragmentIndex? = nil,
                         chapters: [MP4Chapter] = []) throws -> Result {
        guard let marker = layout.marker else { throw MP4FormatError("has no recording marker") }
        let index = try known ?? MP4FragmentIndex(file: file, layout: layout)
        let (moov, duration) = try MP4CompleteMoov.build(index: index, marker: marker, chapters: chapters)
        let size = Int64(moov.count)

        // A torn fragment, or an index a finishing that was stopped appended:
        // the file keeps its whole fragments only.
        let dropped = layout.fileSize - layout.completeEnd
        if dropped > 0 {
            try file.truncate(to: layout.completeEnd)
            try file.synchronize()
            step()
        }

        let reserveStart = marker.reserveOffset, reserveSize = marker.reserveSize
        let end = layout.completeEnd
        let atFront = size + 16 <= reserveSize
        var extra: Int64 = 0
        if atFront {
            // Hide what the reserve holds (a stopped finishing's index)
            // behind one free header, so the new one is written unseen.
            let current = try MP4RecordingLayout.header(in: file, at: reserveStart, fileSize: reserveStart + reserveSize)
            if current?.type != .free || current?.size != reserveSize {
                try file.write(MP4ByteWriter.header(.free, size: reserveSize), at: reserveStart)
                try file.synchronize()
                step()
            }
            try file.write(MP4ByteWriter.header(.free, size: reserveSize - size), at: reserveStart + size)
            step()
            try file.write(moov[8...], at: reserveStart + 8)
            step()
            try file.synchronize()
            try file.write(moov[0..<8], at: reserveStart)
            step()
            try file.synchronize()
            try file.write(Self.mdatHeader(size: end - (reserveStart + size)), at: reserveStart + size)
            step()
            try file.synchronize()
        } else {
            guard reserveSize >= 16 else { throw MP4FormatError("has a reserve too small for an mdat header") }
            var hidden = moov
            hidden.replaceSubrange(4..<8, with: MP4ByteWriter.header(.free, size: 8)[4..<8])
            do {
                try file.write(hidden, at: end)
                step()
                try file.synchronize()
            } catch {
                // No room for the index: the file stays as it was recorded.
                try? file.truncate(to: end)
                throw error
            }
            try file.write(MP4ByteWriter.header(.moov, size: 8)[4..<8], at: end + 4)
            step()
            try file.synchronize()
            try file.write(Self.mdatHeader(size: end - reserveStart), at: reserveStart)
            step()
            try file.synchronize()
            extra = size
        }
        if let fragmented = layout.fragmentMoov, !layout.fragmentMoovRetired {
            try file.write(MP4ByteWriter.header(.free, size: 8)[4..<8], at: fragmented.offset + 4)
            step()
            try file.synchronize()
        }
        return Result(duration: duration, moovAtFront: atFront, extraBytes: extra,
                      fragments: layout.fragments.count, droppedBytes: max(0, dropped), indexBytes: size)
    }

    private mutating func step() {
        steps += 1
        if steps == killAfterStep { kill(getpid(), SIGKILL) }
    }
}
