#if canImport(Glibc)
import Glibc
#endif
import MediaCore

/// Turns one of our fragmented recordings into a regular MP4 where it lies,
/// in time that does not depend on its length: no media byte is read or
/// moved. `MP4FileSink.finish()` and `MP4Repair` both end here.
///
/// The file on disk is in one of these states at every moment, and each
/// either plays as it is or is finished by running this again (which is
/// what `MP4Repair` does):
///
/// 1. Fragmented: `ftyp`, fragmented `moov`, marker, reserve (`free`),
///    `moof`+`mdat`... Plays; players see every fragment.
/// 2. The complete `moov` written inside the reserve while the reserve's
///    header still says `free` (or appended after the last fragment as a
///    `free` box): invisible to readers; still state 1 for them.
/// 3. (fsync) The 8-byte header turned to `moov`. Two `moov` boxes: readers
///    use the first, the fragmented one (libavformat skips a second `moov`),
///    and play every fragment. A rerun rebuilds the index.
/// 4. (fsync) The `moof` boxes turned into `free` one by one, by their type
///    only. Readers of the fragmented `moov` play the fragments not yet
///    retired (none once the last is: from then until step 5 the file needs
///    the rerun); a rerun reads retired `moof`s too (a `free` box that
///    begins with `mfhd`), so nothing is lost. Retiring the fragmented
///    `moov` first would leave a window where a reader finds a complete
///    index and fragment headers beside it, and may read samples twice.
/// 5. (fsync) The fragmented `moov` turned into `free`: finished. One `moov`,
///    with `mvex` gone, so readers see each sample once, through the index.
///
/// The fsyncs order the steps for a power loss too: the index is durable
/// before it becomes visible, every fragment header is retired durably
/// before the fragmented `moov` that makes a reader look for them.
///
/// Space: in the reserve, nothing is allocated (its zeros were written while
/// recording). After the media, the index needs its own size; when that
/// write fails (ENOSPC) it is cut away and the file stays in state 1.
struct MP4InPlaceFinisher {
    let file: FileHandleIO
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
    }

    init(file: FileHandleIO) { self.file = file }

    /// Finishes the recording whose boxes are `layout`. Throws when the file
    /// cannot be finished (a write failed); the file is then in one of the
    /// states above, playable or repairable.
    mutating func finish(_ layout: MP4RecordingLayout) throws -> Result {
        guard let marker = layout.marker else { throw MP4FormatError("has no recording marker") }
        let index = try MP4FragmentIndex(file: file, layout: layout)
        let (moov, duration) = try MP4CompleteMoov.build(index: index, marker: marker)
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
        let atFront = size == reserveSize || size + 8 <= reserveSize
        var extra: Int64 = 0
        if atFront {
            // Hide what the reserve holds (a stopped finishing's index)
            // behind one free header, so the new one is written unseen.
            let current = try MP4RecordingLayout.header(in: file, at: reserveStart, fileSize: layout.completeEnd)
            if current?.type != .free || current?.size != reserveSize {
                try file.write(MP4ByteWriter.header(.free, size: reserveSize), at: reserveStart)
                try file.synchronize()
                step()
            }
            if size < reserveSize {
                try file.write(MP4ByteWriter.header(.free, size: reserveSize - size), at: reserveStart + size)
                step()
            }
            try file.write(moov[8...], at: reserveStart + 8)
            step()
            try file.synchronize()
            try file.write(moov[0..<8], at: reserveStart)
            step()
            try file.synchronize()
        } else {
            let end = layout.completeEnd
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
            extra = size
        }
        let free = MP4ByteWriter.header(.free, size: 8)[4..<8]
        for fragment in layout.fragments where !fragment.retired {
            try file.write(free, at: fragment.moof.offset + 4)
            step()
        }
        try file.synchronize()
        if let fragmented = layout.fragmentMoov, !layout.fragmentMoovRetired {
            try file.write(free, at: fragmented.offset + 4)
            step()
            try file.synchronize()
        }
        return Result(duration: duration, moovAtFront: atFront, extraBytes: extra,
                      fragments: layout.fragments.count, droppedBytes: max(0, dropped))
    }

    private mutating func step() {
        steps += 1
        if steps == killAfterStep { kill(getpid(), SIGKILL) }
    }
}
