#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
import MediaCore
import MediaPackets

/// The bytes libavformat's MP4 muxer writes for an HLS output, sent to one
/// file after another: first the initialization segment (`ftyp` and the
/// fragmented `moov`), then each media segment (its `moof`+`mdat` pairs).
/// The sink switches files between packets, after making the muxer flush
/// its fragment, so a switch never splits a box.
///
/// Owns the `AVIOContext` and the file being written. Used by one thread
/// (the mux thread); the callback runs on it.
final class HLSSegmentOutput {
    /// The write-only context handed to the muxer (`AVFormatContext.pb`).
    private(set) var context: UnsafeMutablePointer<AVIOContext>?
    /// The file written now, and the bytes written into it.
    private(set) var path = ""
    private var file: FileHandleIO?
    private(set) var bytesInFile: Int64 = 0
    /// The first write error; every later write returns it.
    private(set) var failure: AVError?
    private let overwrite: Bool
    private let files: OutputFiles

    init(overwrite: Bool, files: OutputFiles = OutputFiles(), bufferSize: Int = 1 << 16) throws {
        self.overwrite = overwrite
        self.files = files
        guard let buffer = av_malloc(bufferSize) else {
            throw AVError(code: AVError.outOfMemoryCode, operation: "av_malloc")
        }
        let opaque = Unmanaged.passUnretained(self).toOpaque()
        context = cffmpeg_avio_alloc_write_context(buffer.assumingMemoryBound(to: UInt8.self), Int32(bufferSize), opaque) {
            opaque, bytes, count in
            let output = Unmanaged<HLSSegmentOutput>.fromOpaque(opaque!).takeUnretainedValue()
            return output.receive(bytes!, count: Int(count))
        }
        guard context != nil else {
            av_free(buffer)
            throw AVError(code: AVError.outOfMemoryCode, operation: "avio_alloc_context")
        }
    }

    deinit {
        if let context { av_freep(&context.pointee.buffer) }
        avio_context_free(&context)
    }

    /// Sends what is buffered to the current file and makes `path` the file
    /// written from now on (created; `O_EXCL` unless overwriting). The
    /// previous file is closed.
    func start(_ path: String) throws {
        try flush()
        file = nil
        self.path = path
        bytesInFile = 0
        do {
            file = try files.create(path, access: O_WRONLY, overwrite: overwrite)
        } catch let error as AVError {
            failure = failure ?? error
            throw error
        }
    }

    /// Sends what is buffered to the current file.
    func flush() throws {
        guard let context else { return }
        avio_flush(context)
        if let failure { throw failure }
        if context.pointee.error < 0 { throw AVError(code: context.pointee.error, operation: "avio_flush") }
    }

    /// Closes the current file (after `flush()`).
    func close() {
        file = nil
    }

    private func receive(_ bytes: UnsafePointer<UInt8>, count: Int) -> Int32 {
        if let failure { return failure.code }
        guard let file else {
            let error = AVError.posix(EBADF, operation: "write (no HLS file open)")
            failure = error
            return error.code
        }
        do {
            try file.write(UnsafeRawPointer(bytes), count: count, at: bytesInFile)
            bytesInFile += Int64(count)
            return Int32(count)
        } catch let partial as PartialWrite {
            failure = partial.error
            return partial.error.code
        } catch {
            let error = AVError.posix(EIO, operation: "pwrite")
            failure = error
            return error.code
        }
    }
}
