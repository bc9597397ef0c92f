#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
import MediaCore
import MediaPackets

extension MP4FileSink {
    /// `FinishMode.remux`: a stream-copy remux into a file with no name yet
    /// (`O_TMPFILE` in the recording's directory, written through its
    /// `/proc/self/fd` path), fsync, then linked as `path + finalizingSuffix`
    /// and at once renamed over `path`, and the directory fsynced. Returns the
    /// media duration. A kill during the copy leaves no file behind (the
    /// kernel drops a nameless one); only between the link and the rename,
    /// two system calls, does the named copy exist. Where the file system
    /// has no `O_TMPFILE`, the copy is named from the start. If the remux
    /// fails, the fragmented recording stays at `path`.
    func remux() throws -> Double {
        let temporary = path + Self.finalizingSuffix
        // O_TMPFILE (__O_TMPFILE | O_DIRECTORY in Linux's fcntl.h), a macro
        // Swift does not import.
        let nameless = open(Self.parentDirectory(of: path), 0o2000_0000 | O_DIRECTORY | O_RDWR | O_CLOEXEC, 0o644)
        guard nameless >= 0 else { return try remuxNamed(temporary) }
        defer { close(nameless) }
        let anonymous = "/proc/self/fd/\(nameless)"
        let duration = try Self.remuxWithMoovFirst(from: path, to: anonymous, restoring: muxer.appliedOffsets)
        guard fsync(nameless) == 0 else { throw AVError.posix(errno, operation: "fsync") }
        unlink(temporary)  // a stale one from an older recorder
        guard linkat(AT_FDCWD, anonymous, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0 else {
            throw AVError.posix(errno, operation: "linkat")
        }
        guard rename(temporary, path) == 0 else {
            let number = errno
            unlink(temporary)
            throw AVError.posix(number, operation: "rename")
        }
        try Self.synchronize(Self.parentDirectory(of: path))
        return duration
    }

    /// The remux through a named temporary file.
    private func remuxNamed(_ temporary: String) throws -> Double {
        do {
            let duration = try Self.remuxWithMoovFirst(from: path, to: temporary, restoring: muxer.appliedOffsets)
            try Self.synchronize(temporary)
            guard rename(temporary, path) == 0 else { throw AVError.posix(errno, operation: "rename") }
            try Self.synchronize(Self.parentDirectory(of: path))
            return duration
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func synchronize(_ path: String) throws {
        try FileHandleIO(path: path, flags: O_RDONLY).synchronize()
    }

    /// Copies every packet of the fragmented recording at `source` into a
    /// regular MP4 at `destination` with `moov` before `mdat` (`faststart`:
    /// libavformat writes the moov at the end, then shifts the data once).
    /// Returns the media duration in seconds.
    ///
    /// The same `Muxer` the recording used writes the copy, so the packets go
    /// through the same interleaver: the fragmented file holds each
    /// fragment's video before its audio, the result is interleaved by time.
    ///
    /// `offsets` are those the recording added to start each stream at 0
    /// (`Muxer.appliedOffsets`); they are taken off again, so the audio
    /// starts at -1024 samples (the AAC priming), B-frame video at a negative
    /// DTS, and the regular MP4 gets edit lists that cut both at 0: exact A/V
    /// sync and a constant frame rate from the first frame.
    static func remuxWithMoovFirst(from source: String, to destination: String,
                                   restoring offsets: [(kind: StreamKind, ticks: Int64, timeBase: AVRational)]) throws -> Double {
        let input = try DemuxerInput(url: source)
        var streams: [StreamParameters] = []
        var kinds: [StreamKind?] = []
        for index in 0..<input.streamCount {
            let stream = input.stream(index)
            let type = stream.pointee.codecpar.pointee.codec_type
            let kind: StreamKind? = type == AVMEDIA_TYPE_VIDEO ? .video : type == AVMEDIA_TYPE_AUDIO ? .audio : nil
            guard let kind, !streams.contains(where: { $0.kind == kind }) else {
                kinds.append(nil)
                continue
            }
            var frameRate: AVRational? = nil
            if kind == .video {
                frameRate = stream.pointee.avg_frame_rate.num > 0 ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
            }
            streams.append(try StreamParameters(copying: stream.pointee.codecpar, kind: kind,
                                                timeBase: stream.pointee.time_base, frameRate: frameRate))
            kinds.append(kind)
        }
        // Each stream's offset in its time base in this file, made once.
        let shifts = (0..<input.streamCount).map { index -> Int64 in
            guard let kind = kinds[index], let offset = offsets.first(where: { $0.kind == kind }) else { return 0 }
            return av_rescale_q(offset.ticks, offset.timeBase, input.stream(index).pointee.time_base)
        }
        let muxer = try Muxer(formatName: "mp4", url: destination, streams: streams, flushEachPacket: false)
        try muxer.open(options: ["movflags": "+faststart"])
        // Room for both interleaver queues full, so the copy never allocates packets.
        let pool = PacketPool(capacity: 520)
        guard let scratch = av_packet_alloc() else {
            throw AVError(code: AVError.outOfMemoryCode, operation: "av_packet_alloc")
        }
        var scratchOwner: UnsafeMutablePointer<AVPacket>? = scratch
        defer { av_packet_free(&scratchOwner) }
        var start = Double.infinity, end = -Double.infinity
        while try input.read(into: scratch) {
            let index = Int(scratch.pointee.stream_index)
            guard index < kinds.count, let kind = kinds[index] else {
                av_packet_unref(scratch)
                continue
            }
            if scratch.pointee.pts != CFFMPEG_AV_NOPTS_VALUE {
                scratch.pointee.pts -= shifts[index]
                let timeBase = av_q2d(input.stream(index).pointee.time_base)
                let time = Double(scratch.pointee.pts) * timeBase
                start = min(start, time)
                end = max(end, time + Double(scratch.pointee.duration) * timeBase)
            }
            if scratch.pointee.dts != CFFMPEG_AV_NOPTS_VALUE { scratch.pointee.dts -= shifts[index] }
            let packet = pool.acquire(kind: kind)
            av_packet_move_ref(packet.pointer, scratch)
            try muxer.write(packet)
        }
        try muxer.finish()
        // Playback starts at 0: the edit list cuts the audio priming before it.
        start = max(start, 0)
        return end > start ? end - start : 0
    }
}
