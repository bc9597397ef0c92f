#if canImport(Glibc)
import Glibc
#endif
import MediaCore
import MediaPackets

/// One open file descriptor with the positioned reads, writes and syncs the
/// MP4 finishing and repair need; closed once, in `deinit`. Every failure is
/// an `AVError` carrying the errno (`AVERROR(errno)`) and the call.
final class FileHandleIO {
    let descriptor: Int32

    /// Opens `path` with `flags` (`O_RDWR`, `O_RDONLY`...).
    init(path: String, flags: Int32, mode: mode_t = 0o644) throws {
        let descriptor = open(path, flags | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw AVError.posix(errno, operation: "open") }
        self.descriptor = descriptor
    }

    /// Takes over `descriptor` (an open file, e.g. from `ConfinedDirectory`).
    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// The file's size in bytes now.
    func size() throws -> Int64 {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw AVError.posix(errno, operation: "fstat") }
        return Int64(info.st_size)
    }

    /// Links to the file (0 once it was removed from its directory).
    func linkCount() -> Int {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int(info.st_nlink) : 0
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(_ count: Int, at offset: Int64) throws -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var done = 0
        try result.withUnsafeMutableBytes { buffer in
            while done < count {
                let got = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw AVError.posix(errno, operation: "pread")
                }
                if got == 0 { break }
                done += got
            }
        }
        if done < count { result.removeLast(count - done) }
        return result
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: some Collection<UInt8>, at offset: Int64) throws {
        let array = Array(bytes)
        guard !array.isEmpty else { return }
        _ = try array.withUnsafeBytes { buffer in
            try write(buffer.baseAddress!, count: buffer.count, at: offset)
        }
    }

    /// Writes `count` bytes from `pointer` at `offset`; returns how many were
    /// written before an error, with the error.
    @discardableResult
    func write(_ pointer: UnsafeRawPointer, count: Int, at offset: Int64) throws -> Int {
        var done = 0
        while done < count {
            let wrote = pwrite(descriptor, pointer + done, count - done, off_t(offset) + off_t(done))
            if wrote < 0 {
                if errno == EINTR { continue }
                throw PartialWrite(written: done, error: AVError.posix(errno, operation: "pwrite"))
            }
            done += wrote
        }
        return done
    }

    /// Makes everything written so far durable before anything written later.
    func synchronize() throws {
        guard fsync(descriptor) == 0 else { throw AVError.posix(errno, operation: "fsync") }
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int64) throws {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw AVError.posix(errno, operation: "ftruncate") }
    }
}
