#if canImport(Glibc)
import Glibc
#endif
import CFFmpeg
public import MediaCore
public import MediaPackets

/// An HLS output: fMP4 segments (RFC 8216 3.3) and a media playlist that lists them,
/// live while recording (`#EXT-X-PLAYLIST-TYPE:EVENT`) and complete at the
/// end (`#EXT-X-ENDLIST`), so a recording can be watched, or uploaded piece
/// by piece, while the meeting still runs.
///
/// `live.m3u8` gets `live-init.mp4` (`ftyp` and the `moov` that describes
/// the streams, `#EXT-X-MAP`) and `live-00000.m4s`, `live-00001.m4s`...
/// beside it, each a run of `moof`+`mdat` fragments starting at a keyframe
/// (`#EXT-X-INDEPENDENT-SEGMENTS`), written by libavformat's MP4 muxer
/// (one continuous timeline, `tfdt` in every fragment) through one output that moves on to the next file at each cut.
///
/// Cuts: at the first keyframe at or after each multiple of
/// `segmentDuration` on the recording's timeline (sound alone: at the first
/// AAC frame there). The engine asks for the GOP's duration, so each GOP
/// is a segment. A segment is listed once it is complete: the playlist,
/// rewritten whole and renamed into place (`HLSPlaylist`), never names a
/// file still being written, and after a crash it lists every complete
/// segment (only `#EXT-X-ENDLIST` is missing).
///
/// Timestamps: the file's, plus one shift shared by both streams (see
/// `StartShift`), so that nothing starts before 0: the segments have no
/// edit list to start a track later or earlier, each fragment's `tfdt`
/// carries its real decoding time (`frag_discont` for the first one) and
/// composition offsets are positive (`trun` version 0), so each picture is
/// presented at `n / fps` plus the shift and the sound keeps its place
/// against it, whatever B-frames delay the decoding order. (libavformat's
/// `cmaf` flag is left out: it writes negative composition offsets from a
/// decoding timeline moved by the first picture's offset, which ffmpeg's
/// own demuxer presents that much late, and differently for a segment
/// read alone.)
///
/// Not thread-safe: one thread (the mux thread) uses it.
public final class HLSSink: PacketFileSink, @unchecked Sendable {
    public let playlistPath: String
    /// The target segment length, seconds.
    public let segmentDuration: Double
    private let muxer: Muxer
    private let output: HLSSegmentOutput
    private var playlist: HLSPlaylist
    private let directory: String
    private let baseName: String
    private let timeBases: SegmentTimeBases
    private let shift: StartShift
    private var segmentIndex = 0
    private var segmentStart: Double = 0
    private var packetsInSegment = 0
    private var nextCut: Double
    private var mediaEnd: Double = 0
    private let report: (FileSegment) -> Void
    private let files: OutputFiles
    private var finished = false

    /// Creates the initialization segment and the first segment's file.
    /// `maximumSegmentDuration` bounds every segment (the playlist's target
    /// duration, rounded up): the segment duration plus the longest a
    /// keyframe can be late (a GOP, after a scene-cut keyframe).
    public init(playlist path: String, streams: [StreamParameters], segmentDuration: Double,
                maximumSegmentDuration: Double, overwrite: Bool = false, files: OutputFiles = OutputFiles(),
                report: @escaping (FileSegment) -> Void = { _ in }) throws {
        try Self.validatePlaylistPath(path, overwrite: overwrite, files: files)
        guard segmentDuration > 0, maximumSegmentDuration >= segmentDuration else {
            throw InvalidSetting(.hlsSegmentDuration, value: "\(segmentDuration)",
                                 reason: "must be positive, and at most the maximum")
        }
        playlistPath = path
        self.segmentDuration = segmentDuration
        self.report = report
        self.files = files
        let name = path.split(separator: "/").last.map(String.init) ?? path
        directory = String(path.dropLast(name.count))
        baseName = name.hasSuffix(".m3u8") ? String(name.dropLast(5)) : name
        timeBases = SegmentTimeBases(streams: streams)
        shift = StartShift(streams: streams)
        nextCut = segmentDuration
        playlist = HLSPlaylist(path: path, targetDuration: Int(maximumSegmentDuration.rounded(.up)),
                               initName: baseName + "-init.mp4", files: files)
        output = try HLSSegmentOutput(overwrite: overwrite, files: files)
        muxer = try Muxer(formatName: "mp4", url: path, streams: streams, flushEachPacket: true, interleaves: false)
        var created: [String] = []
        do {
            try output.start(directory + playlist.initName)
            created.append(directory + playlist.initName)
            // The recording's start, as every MP4 of ours carries it (the
            // init segment's mvhd, tkhd, mdhd).
            try muxer.setMetadata("creation_time", MP4FileSink.creationTime())
            try muxer.open(options: [
                // empty_moov: the init segment
                // holds no samples; frag_keyframe: a fragment at each
                // keyframe (and frag_duration inside long GOPs), so a
                // segment's fragments reach the disk as they are made;
                // default_base_moof: offsets relative to each moof, as
                // HLS players expect; skip_trailer: no mfra; frag_discont:
                // each track's first tfdt is its first packet's decoding
                // time (without it each track would start at 0 whatever
                // its first timestamp, moving one against the other).
                "movflags": "frag_keyframe+empty_moov+default_base_moof+skip_trailer+frag_discont",
                "frag_duration": "1000000",
                // No edit lists: the shift made every timestamp
                // non-negative, and nothing may move them again (make_zero
                // would start each track at 0 by stretching its first sample).
                "use_editlist": "0",
                "avoid_negative_ts": "disabled",
            ], output: output.context)
            try output.flush()
            try output.start(segmentPath(0))
            created.append(segmentPath(0))
            // A reader may look before the first segment is complete.
            try playlist.write(ended: false)
        } catch {
            for file in created { files.remove(file) }
            throw output.failure ?? error
        }
        report(FileSegment(index: 0, path: segmentPath(0), start: 0, duration: 0, bytes: 0))
    }

    /// The segment file written now (`PacketFileSink`).
    public var currentPath: String { segmentPath(segmentIndex) }

    /// Segments listed in the playlist.
    public var segmentCount: Int { playlist.segmentCount }

    @inline(__always)
    public func write(_ packet: consuming Packet) throws {
        let time = timeBases.seconds(packet)
        if packetsInSegment > 0, time >= nextCut, timeBases.canStart(packet), mediaEnd > segmentStart {
            try cut(at: time)
        }
        // The pictures' timeline (the sound's, with no video) gives the
        // durations, so they add up to the recording's.
        if timeBases.video == nil || packet.kind == .video { mediaEnd = max(mediaEnd, time + timeBases.duration(packet)) }
        packetsInSegment += 1
        shift.apply(to: packet)
        do {
            try muxer.write(packet)
        } catch {
            throw output.failure ?? error
        }
    }

    /// Writes the last segment and the playlist with `#EXT-X-ENDLIST`. After
    /// a failed write the playlist still ends, listing the complete segments.
    /// Throws the first error of the recording or of the finishing.
    public func finish() throws {
        precondition(!finished, "finish() once")
        finished = true
        var failure: (any Error)? = output.failure
        if failure == nil {
            do {
                try muxer.finish()
                try output.flush()
                output.close()
                if packetsInSegment > 0 { close(end: mediaEnd) }
            } catch {
                failure = output.failure ?? error
            }
        }
        output.close()
        if packetsInSegment == 0 || failure != nil { files.remove(segmentPath(segmentIndex)) }
        do {
            try playlist.write(ended: true)
        } catch {
            failure = failure ?? error
        }
        if let failure { throw failure }
    }

    // MARK: Cutting

    /// Ends the segment before the packet at `time` and starts the next.
    private func cut(at time: Double) throws {
        do {
            try muxer.flushFragment()
        } catch {
            throw output.failure ?? error
        }
        close(end: time)
        try playlist.write(ended: false)
        segmentIndex += 1
        segmentStart = time
        packetsInSegment = 0
        nextCut = ((time / segmentDuration).rounded(.down) + 1) * segmentDuration
        try output.start(segmentPath(segmentIndex))
        report(FileSegment(index: segmentIndex, path: segmentPath(segmentIndex), start: time, duration: 0, bytes: 0))
    }

    /// Lists the current segment, ending at `end` seconds.
    private func close(end: Double) {
        let duration = max(0, end - segmentStart)
        let name = segmentName(segmentIndex)
        playlist.append(name: name, duration: duration)
        report(FileSegment(index: segmentIndex, path: directory + name, start: segmentStart, duration: duration,
                           bytes: output.bytesInFile))
    }

    private func segmentName(_ index: Int) -> String {
        let digits = String(index)
        return baseName + "-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".m4s"
    }

    private func segmentPath(_ index: Int) -> String { directory + segmentName(index) }

    /// Checks that the playlist can be written at `path` (a `.m3u8` name in
    /// a writable directory, no file there unless `overwrite`); throws
    /// `InvalidSetting` naming it. With a confinement in `files`, beneath it.
    public static func validatePlaylistPath(_ path: String, overwrite: Bool, files: OutputFiles = OutputFiles()) throws {
        guard path.hasSuffix(".m3u8"), !(path.split(separator: "/").last ?? "").hasPrefix(".m3u8") else {
            throw InvalidSetting(.hls, value: path, reason: "must name a .m3u8 playlist")
        }
        do {
            try MP4FileSink.validateOutputPath(path, overwrite: overwrite, files: files)
        } catch let error as InvalidSetting {
            throw InvalidSetting(.hls, value: error.value, reason: error.reason)
        }
    }
}
