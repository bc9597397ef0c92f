#if canImport(Glibc)
import Glibc
#endif
import MediaCore
import MediaPackets

extension MP4FileSink {
    /// What `finishInterrupted(path:)` found and did.
    public enum InterruptedFinish: Sendable, Equatable {
        /// The file was a recording left fragmented (a crash, `kill -9`); it
        /// is a regular MP4 now, holding `duration` seconds of media.
        case finished(MP4FinishReport)
        /// The file was a regular MP4 already (its recording was finished);
        /// left untouched.
        case alreadyFinished
    }

    /// Turns a recording that a crash left as written (the fragmented MP4
    /// this sink writes while recording) into a regular MP4 with `moov` at
    /// the front, in the same steps as `finish()`: a stream-copy to
    /// `path + finalizingSuffix`, fsync, rename over `path`. Every complete
    /// fragment is kept; packets of a fragment the crash cut short are left
    /// out. A `.finalizing` file a crash left beside it is removed first.
    ///
    /// The streams start at 0 (the offsets the recording took off are not in
    /// the file): the audio may lead by the AAC priming, 23 ms.
    ///
    /// Throws `AVError` when the file cannot be read or written; it is left
    /// as it was then.
    public static func finishInterrupted(path: String) throws -> InterruptedFinish {
        let temporary = path + finalizingSuffix
        unlink(temporary)
        let boxes = try topLevelBoxes(path)
        guard boxes.types.contains("moof") else { return .alreadyFinished }
        let clock = MonotonicClock()
        let started = clock.now()
        let duration: Double
        do {
            duration = try remuxWithMoovFirst(from: path, to: temporary, restoring: [], byteLimit: boxes.completeEnd)
            try synchronize(temporary)
            guard rename(temporary, path) == 0 else { throw AVError.posix(errno, operation: "rename") }
        } catch {
            unlink(temporary)
            throw error
        }
        try synchronize(parentDirectory(of: path))
        var info = stat()
        let bytes = stat(path, &info) == 0 ? Int64(info.st_size) : 0
        return .finished(MP4FinishReport(path: path, duration: duration,
                                         finalizingSeconds: Double(clock.now() - started) / 1e9, bytes: bytes))
    }

    /// The types of the top-level boxes (ISO/IEC 14496-12 §4.2: 32-bit size,
    /// 1 for a 64-bit size after the type, 0 for "to the end"), and where the
    /// last complete one ends.
    static func topLevelBoxes(_ path: String) throws -> (types: [String], completeEnd: Int64) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AVError.posix(errno, operation: "open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw AVError.posix(errno, operation: "fstat") }
        let size = Int64(info.st_size)
        var types: [String] = []
        var offset: Int64 = 0
        var header = [UInt8](repeating: 0, count: 16)
        while offset + 8 <= size {
            let read = header.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 16, off_t(offset)) }
            guard read >= 8 else { break }
            var boxSize = header[0..<4].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            if boxSize == 1 {
                guard read >= 16 else { break }
                boxSize = header[8..<16].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            } else if boxSize == 0 {
                boxSize = size - offset
            }
            guard boxSize >= 8, offset + boxSize <= size else { break }
            types.append(String(decoding: header[4..<8], as: UTF8.self))
            offset += boxSize
        }
        return (types, offset)
    }
}
