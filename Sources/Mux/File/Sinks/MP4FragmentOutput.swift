#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
import MediaCore
import MediaPackets

/// The recording's file as libavformat's MP4 muxer writes it: owns the file
/// descriptor and the `AVIOContext` the muxer writes through, and keeps the
/// file ending at a whole fragment whatever a write does.
///
/// Every byte goes through one write callback, in order (the context cannot
/// seek; fragmented MP4 with an empty `moov` never needs to). The callback
/// writes it with `pwrite` and follows the top-level box headers as they
/// pass, so it always knows where the last complete fragment (a `moof` and
/// the `mdat` after it) ends. When a write fails (ENOSPC, EDQUOT, EIO...),
/// the file is cut back to that end, every later write is refused, and the
/// error goes to the muxer, which throws it. After each fragment it also
/// checks that the file still has a name: writing on into a removed file
/// would lose the rest of the recording without a word.
///
/// Used by one thread (the mux thread); the callback runs on it.
final class MP4FragmentOutput {
    let file: FileHandleIO
    let path: String
    let files: OutputFiles
    /// The write-only context handed to the muxer (`AVFormatContext.pb`).
    private(set) var context: UnsafeMutablePointer<AVIOContext>?
    /// Bytes handed to the file so far (the muxer's position).
    private(set) var position: Int64 = 0
    /// End of the last complete fragment (or of the header and reserve,
    /// before the first fragment): what a failed write cuts the file back to.
    private(set) var committedEnd: Int64 = 0
    /// Complete fragments written.
    private(set) var fragmentCount = 0
    /// The first write error; every later write returns it.
    private(set) var failure: AVError?

    // The top-level box passing through now.
    private var boxStart: Int64 = 0
    private var boxEnd: Int64 = 0
    private var boxType: UInt32 = 0
    private var previousType: UInt32 = 0
    private var inHeader = true
    private var header = [UInt8](repeating: 0, count: 16)
    private var headerCount = 0
    /// The box's size is the 64-bit one after the type (size field 1).
    private var largeSize = false
    /// The index of what was written, built fragment by fragment (nil when
    /// a fragment could not be read: finishing then reads the file).
    private(set) var index: MP4FragmentIndex?
    private var fragmentMoov: MP4RecordingLayout.Box?
    private var fragments: [MP4RecordingLayout.Fragment] = []
    private var pendingMoof: MP4RecordingLayout.Box?
    /// The payload of the box passing now, when it is one the index needs;
    /// its capacity is kept from one `moof` to the next.
    private var capture: [UInt8] = []
    private var capturing = false

    /// A box header the tracking could not follow (never from libavformat's
    /// muxer): fragments are no longer committed, so a failure keeps only
    /// what was known to be whole.
    private var lostTrack = false

    /// Creates the file (`O_EXCL` unless `overwrite`) and the context.
    /// With a confinement in `files`, created beneath it.
    init(path: String, overwrite: Bool, files: OutputFiles = OutputFiles(), bufferSize: Int = 1 << 16) throws {
        file = try files.create(path, overwrite: overwrite)
        self.path = path
        self.files = files
        capture.reserveCapacity(1 << 16)
        guard let buffer = av_malloc(bufferSize) else {
            files.remove(path)
            throw AVError(code: AVError.outOfMemoryCode, operation: "av_malloc")
        }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        context = cffmpeg_avio_alloc_write_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(bufferSize), opaque) {
            opaque, bytes, count in
            let output = Unmanaged<MP4FragmentOutput>.fromOpaque(opaque!).takeUnretainedValue()
            return output.receive(bytes!, count: Int(count))
        }
        guard context != nil else {
            av_free(buffer)
            files.remove(path)
            throw AVError(code: AVError.outOfMemoryCode, operation: "avio_alloc_context")
        }
    }

    deinit {
        if let context {
            // The buffer may have been replaced by libavformat; free the current one.
            av_freep(&context.pointee.buffer)
        }
        avio_context_free(&context)
    }

    /// Writes `bytes` through the context (after the muxer's header), then
    /// `zeroCount` zero bytes, and flushes: the marker and the reserve.
    func writeThrough(_ bytes: [UInt8], zeroCount: Int) throws {
        guard let context else { return }
        avio_write(context, bytes, Int32(bytes.count))
        let zeros = [UInt8](repeating: 0, count: 1 << 16)
        var left = zeroCount
        while left > 0 {
            let count = min(left, zeros.count)
            avio_write(context, zeros, Int32(count))
            left -= count
        }
        avio_flush(context)
        if let failure { throw failure }
        if context.pointee.error < 0 { throw AVError(code: context.pointee.error, operation: "avio_write") }
        committedEnd = position
    }

    /// Bytes in the file now.
    var bytesOnDisk: Int64 { (try? file.size()) ?? position }

    /// The write callback: writes, follows the boxes, and on failure cuts the
    /// file back to the last whole fragment.
    private func receive(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int32 {
        if let failure { return failure.code }
        var written = count
        var failed: AVError?
        do {
            try file.write(UnsafeRawPointer(bytes), count: count, at: position)
        } catch let partial as PartialWrite {
            written = partial.written
            failed = partial.error
        } catch {
            written = 0
            failed = AVError.posix(EIO, operation: "pwrite")
        }
        follow(bytes, count: written)
        if failed == nil, fileRemoved {
            failed = AVError.posix(ENOENT, operation: "write (the file was removed)")
        }
        if let failed {
            fail(failed)
            return failed.code
        }
        return Int32(count)
    }

    /// The layout as written: every whole fragment, the fragmented `moov`
    /// (nil before the header was written or when a box could not be
    /// followed; then finishing reads the file).
    func writtenLayout(marker: MP4RecordingMarker) throws -> MP4RecordingLayout? {
        guard let fragmentMoov, !lostTrack else { return nil }
        return MP4RecordingLayout(fileSize: try file.size(), fragmentMoov: fragmentMoov, marker: marker,
                                  fragments: fragments, completeEnd: committedEnd)
    }

    /// Set when a fragment completed and the file had no name left.
    private var fileRemoved = false

    private func fail(_ error: AVError) {
        failure = error
        // Nothing after the last whole fragment stays; if even this fails the
        // torn tail is left for `MP4Repair`, which drops it.
        try? file.truncate(to: committedEnd)
    }

    /// Advances over `count` bytes just written, noting each top-level box
    /// that ends in them.
    private func follow(_ bytes: UnsafePointer<UInt8>, count: Int) {
        var index = 0
        while index < count {
            if lostTrack {
                position += Int64(count - index)
                return
            }
            if inHeader {
                let wanted = largeSize ? 16 : 8
                let take = min(wanted - headerCount, count - index)
                for offset in 0..<take { header[headerCount + offset] = bytes[index + offset] }
                headerCount += take
                index += take
                position += Int64(take)
                if headerCount == 8 {
                    let size = UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3])
                    boxType = UInt32(header[4]) << 24 | UInt32(header[5]) << 16 | UInt32(header[6]) << 8 | UInt32(header[7])
                    if size == 1 {
                        largeSize = true
                        continue
                    }
                    guard size >= 8 else { lostTrack = true; continue }
                    boxEnd = boxStart + Int64(size)
                    boxStarted()
                } else if headerCount == 16 {
                    let size = header[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    guard size >= 16, size < UInt64(Int64.max) else { lostTrack = true; continue }
                    boxEnd = boxStart + Int64(size)
                    boxStarted()
                } else {
                    continue
                }
            } else {
                let take = Int(min(Int64(count - index), boxEnd - position))
                if capturing { capture.append(contentsOf: UnsafeBufferPointer(start: bytes + index, count: take)) }
                index += take
                position += Int64(take)
            }
            if !inHeader && position == boxEnd { boxCompleted() }
        }
    }

    /// A box's header has passed: keep the payload of the fragmented `moov`
    /// and of each `moof` for the index.
    private func boxStarted() {
        inHeader = false
        capturing = (boxType == FourCC.moov.value && fragmentMoov == nil) || boxType == FourCC.moof.value
        if capturing { capture.removeAll(keepingCapacity: true) }
    }

    private func boxCompleted() {
        let box = MP4RecordingLayout.Box(type: FourCC(boxType), offset: boxStart, size: boxEnd - boxStart,
                                         headerSize: largeSize ? 16 : 8)
        if boxType == FourCC.moov.value && fragmentMoov == nil {
            fragmentMoov = box
            index = try? MP4FragmentIndex(moovPayload: capture)
        } else if boxType == FourCC.moof.value {
            pendingMoof = box
        } else if boxType == FourCC.mdat.value && previousType == FourCC.moof.value, let moof = pendingMoof {
            committedEnd = boxEnd
            fragmentCount += 1
            fragments.append(MP4RecordingLayout.Fragment(moof: moof, mdat: box))
            do {
                try index?.add(moof: capture, at: moof.offset, dataRange: box.payloadOffset..<box.end)
            } catch {
                index = nil  // finishing reads the file instead
            }
            if file.linkCount() == 0 { fileRemoved = true }
        }
        capturing = false
        previousType = boxType
        boxStart = boxEnd
        inHeader = true
        headerCount = 0
        largeSize = false
    }
}
