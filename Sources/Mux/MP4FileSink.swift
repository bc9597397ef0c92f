#if canImport(Glibc)
import Glibc
#endif
public import MediaCore
public import MediaPackets

/// Writes a recording's H.264 and AAC packets to an MP4 file that survives a
/// crash or `kill -9`, and finalizes it into a regular MP4 on a clean stop.
///
/// While recording, the file at `path` is a fragmented MP4 (`ftyp`, an empty
/// `moov`, then `moof`+`mdat` pairs): libavformat cuts a fragment at every
/// keyframe and at least every `fragmentDuration` seconds even inside a long
/// GOP, and each fragment is flushed to the kernel as soon as it is cut. So at
/// any moment the file on disk plays up to about `fragmentDuration` plus the
/// encoder's latency before the crash (with the default 1 s: under 2 s).
/// `finish()` remuxes it into a regular MP4 with `moov` at the front beside
/// it and renames that over `path`, so every player shows the duration and
/// can seek.
///
/// Packets may come from both encoders in any order across streams: they are
/// interleaved by decoding time before they are written.
///
/// A fragmented MP4 has no edit lists, so each stream starts at 0 in it: a
/// file left by a crash plays with the audio up to the encoders' start-up
/// delays (23 ms of AAC priming, two frames of B-frame delay) off the video.
/// `finish()` restores the exact timestamps, and the final file cuts both
/// with edit lists.
///
/// A sink released without `finish()` closes the file as a crash would leave
/// it: every fragment already cut, nothing finalized.
///
/// Not thread-safe: one thread (the mux thread) uses it.
public final class MP4FileSink: @unchecked Sendable {
    /// Where the recording is written and finalized.
    public let path: String
    /// The longest a fragment may last, in seconds.
    public let fragmentDuration: Double
    private let muxer: Muxer

    /// Suffix of the file the remux writes before it replaces `path`.
    public static let finalizingSuffix = ".finalizing"

    /// Creates the file at `path` and writes its header. Refuses a bad path
    /// before creating anything (see `validateOutputPath(_:overwrite:)`).
    /// `arrivesInterleaved`: the caller already hands over packets in decoding
    /// order across streams (a `PacketFanOut` does), so the sink writes them as
    /// they come instead of ordering them a second time.
    public init(path: String, streams: [StreamParameters], overwrite: Bool = false,
                fragmentDuration: Double = 1.0, arrivesInterleaved: Bool = false) throws {
        try Self.validateOutputPath(path, overwrite: overwrite)
        guard fragmentDuration >= 0.1, fragmentDuration <= 10 else {
            throw InvalidArgument(name: "fragment duration", value: "\(fragmentDuration)",
                                  reason: "must be from 0.1 to 10 seconds")
        }
        self.path = path
        self.fragmentDuration = fragmentDuration
        let muxer = try Muxer(formatName: "mp4", url: path, streams: streams, flushEachPacket: true,
                              zeroBasesStreams: true, interleaves: !arrivesInterleaved)
        do {
            try muxer.open(options: [
                // frag_keyframe: a fragment starts at each keyframe; empty_moov:
                // the moov holds no samples, so the file is valid from the first
                // fragment on; default_base_moof: offsets relative to each moof,
                // as players and MSE expect.
                "movflags": "frag_keyframe+empty_moov+default_base_moof",
                // Cut at least this often even inside a long GOP (microseconds).
                "frag_duration": String(Int64(fragmentDuration * 1_000_000)),
            ])
        } catch {
            if muxer.openedOutput { unlink(path) }
            throw error
        }
        self.muxer = muxer
    }

    /// Queues `packet` and writes whatever is due, in decoding order.
    @inline(__always)
    public func write(_ packet: consuming Packet) throws {
        try muxer.write(packet)
    }

    /// Bytes in the file so far (whole fragments).
    public var bytesWritten: Int64 { muxer.bytesWritten }

    /// Writes the last packets and fragment, then makes `path` a regular MP4
    /// with `moov` at the front: a stream-copy remux to
    /// `path + finalizingSuffix`, fsync, and an atomic rename over `path`.
    ///
    /// If the remux fails, the fragmented recording stays at `path` (complete
    /// and playable) and the error is thrown.
    public func finish() throws -> MP4FinishReport {
        let clock = MonotonicClock()
        let started = clock.now()
        try muxer.finish()
        let temporary = path + Self.finalizingSuffix
        let duration: Double
        do {
            duration = try Self.remuxWithMoovFirst(from: path, to: temporary, restoring: muxer.appliedOffsets)
            try Self.synchronize(temporary)
            guard rename(temporary, path) == 0 else { throw AVError.posix(errno, operation: "rename") }
        } catch {
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable.
        try Self.synchronize(Self.parentDirectory(of: path))
        let finalizing = Double(clock.now() - started) / Double(Int64.nanosecondsPerSecond)
        var info = stat()
        let bytes = stat(path, &info) == 0 ? Int64(info.st_size) : 0
        return MP4FinishReport(path: path, duration: duration, finalizingSeconds: finalizing, bytes: bytes)
    }

    static func synchronize(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw AVError.posix(errno, operation: "open") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw AVError.posix(errno, operation: "fsync") }
    }
}
