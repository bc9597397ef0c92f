#if canImport(Glibc)
import Glibc
#endif
public import MediaCore
public import MediaPackets

/// Writes a recording's H.264 and AAC packets to an MP4 file that survives a
/// crash, `kill -9` or a full disk, and turns it into a regular MP4 in place
/// on a clean stop, in time that does not grow with the recording.
///
/// While recording, the file at `path` is a fragmented MP4 (`ftyp`, an empty
/// `moov`, our marker, a `free` reserve for the final index, then
/// `moof`+`mdat` pairs), cut at every keyframe and at least every
/// `fragmentDuration` seconds, each fragment handed to the kernel as it is
/// cut: it plays up to about `fragmentDuration` plus the encoder's latency
/// before a crash. A failed write (ENOSPC, EDQUOT, EIO, the file removed)
/// cuts the file back to its last whole fragment and throws; `finish()` then
/// still finishes what is there. A sink released without `finish()` leaves
/// the file as a crash would.
///
/// `finish()` (`FinishMode.inPlace`) writes the complete index and edit lists
/// into the reserve (or after the media) without copying media
/// (`MP4InPlaceFinisher`); `FinishMode.remux` copies into a new faststart MP4.
/// Layout, durability and the finishing states: docs/ARCHITECTURE.md, "The
/// file".
///
/// Not thread-safe: one thread (the mux thread) uses it.
public final class MP4FileSink: PacketFileSink, @unchecked Sendable {
    /// How `finish()` makes the regular MP4.
    public enum FinishMode: Sendable {
        /// In place: the index into the reserve (or after the media), one
        /// `mdat` header over the fragments. Constant time, no extra disk.
        case inPlace
        /// A stream-copy remux into a new file with `moov` first (nameless
        /// until it is complete), renamed over `path`: time and free space
        /// grow with the length. For whoever needs libavformat's own layout.
        case remux
    }

    /// Where the recording is written and finalized.
    public let path: String
    /// The longest a fragment may last, in seconds.
    public let fragmentDuration: Double
    public let finishMode: FinishMode
    /// Bytes reserved after the header for the complete index.
    public let reservedIndexBytes: Int64
    private let output: MP4FragmentOutput
    let muxer: Muxer
    private var marker: MP4RecordingMarker
    private let markerOffset: Int64
    /// Both streams' offsets are in the marker on disk.
    private var offsetsRecorded = false
    /// Seconds of the timeline each resume after a pause starts at.
    private var resumes: [Double] = []
    private let hasVideo: Bool
    private let hasAudio: Bool
    private var finished = false

    /// Suffix of the name the remux's copy has for an instant before it
    /// replaces `path`.
    public static let finalizingSuffix = ".finalizing"
    /// The media the default reserve holds the index of: 3 hours, a long
    /// meeting (see `indexReserve(for:seconds:fragmentDuration:)`).
    public static let defaultReserveSeconds: Double = 3 * 3600

    /// Creates the file at `path` and writes its header, the marker and the
    /// reserve. Refuses a bad path before creating anything (see
    /// `validateOutputPath(_:overwrite:)`).
    /// `arrivesInterleaved`: the caller already hands over packets in decoding
    /// order across streams (a `PacketFanOut` does), so the sink writes them as
    /// they come instead of ordering them a second time.
    /// `reservedIndexBytes`: room for the final index near the front; nil
    /// sizes it for `reserveSeconds` of these streams (a recording of known
    /// length passes its length; 3 hours otherwise), but at most a 64th of
    /// the free space (`reserveLimit(directory:)`).
    /// `files`: with a confinement, the file is created and finished beneath
    /// it and never by name (`path` must lie under it; `.remux` is refused).
    public init(path: String, streams: [StreamParameters], overwrite: Bool = false,
                fragmentDuration: Double = 1.0, arrivesInterleaved: Bool = false,
                finishMode: FinishMode = .inPlace, reservedIndexBytes: Int64? = nil,
                reserveSeconds: Double = MP4FileSink.defaultReserveSeconds,
                files: OutputFiles = OutputFiles()) throws {
        try Self.validateOutputPath(path, overwrite: overwrite, files: files)
        guard files.confinement == nil || finishMode == .inPlace else {
            throw InvalidSetting(.output, value: path, reason: "a confined file is finished in place, not remuxed")
        }
        guard fragmentDuration >= 0.1, fragmentDuration <= 10 else {
            throw InvalidSetting(.fragmentDuration, value: "\(fragmentDuration)",
                                 reason: "must be from 0.1 to 10 seconds")
        }
        let reserve = reservedIndexBytes ?? min(
            Self.indexReserve(for: streams, seconds: max(1, reserveSeconds), fragmentDuration: fragmentDuration),
            Self.reserveLimit(directory: Self.parentDirectory(of: path)))
        guard reserve >= 16 else {
            // Finishing writes a 16-byte mdat header into it, whatever the index.
            throw InvalidSetting(.reservedIndexBytes, value: "\(reserve)", reason: "must be at least 16")
        }
        self.path = path
        self.fragmentDuration = fragmentDuration
        self.finishMode = finishMode
        self.reservedIndexBytes = reserve
        hasVideo = streams.contains { $0.kind == .video }
        hasAudio = streams.contains { $0.kind == .audio }
        output = try MP4FragmentOutput(path: path, overwrite: overwrite, files: files)
        do {
            muxer = try Muxer(formatName: "mp4", url: path, streams: streams, flushEachPacket: true,
                              zeroBasesStreams: true, interleaves: !arrivesInterleaved)
            // The recording's start as its creation time (mvhd, tkhd, mdhd),
            // as ffmpeg's `-timestamp now` writes it (Jibri passes it); the
            // finished index copies these boxes.
            try muxer.setMetadata("creation_time", Self.creationTime())
            try muxer.open(options: [
                // frag_keyframe: a fragment starts at each keyframe; empty_moov:
                // the moov holds no samples, so the file is valid from the first
                // fragment on; default_base_moof: offsets relative to each moof,
                // as players and MSE expect; skip_trailer: no mfra at the end
                // (finishing makes the index).
                "movflags": "frag_keyframe+empty_moov+default_base_moof+skip_trailer",
                // Cut at least this often even inside a long GOP (microseconds).
                "frag_duration": String(Int64(fragmentDuration * 1_000_000)),
            ], output: output.context)
            markerOffset = output.position
            marker = MP4RecordingMarker(reserveOffset: markerOffset + Int64(MP4RecordingMarker.boxSize),
                                        reserveSize: reserve)
            try output.writeThrough(marker.encoded() + MP4ByteWriter.header(.free, size: reserve),
                                    zeroCount: Int(reserve) - 8)
        } catch {
            output.files.remove(path)
            throw output.failure ?? error
        }
    }

    /// Queues `packet` and writes whatever is due, in decoding order. Throws
    /// the write error that stopped the file (which then ends at its last
    /// whole fragment); later packets are refused the same way.
    @inline(__always)
    public func write(_ packet: consuming Packet) throws {
        do {
            try muxer.write(packet)
        } catch {
            throw output.failure ?? error
        }
        if !offsetsRecorded { try recordOffsets() }
    }

    /// Ends the fragment in progress and hands it to the kernel
    /// (`PacketFileSink`): the file then plays up to the last packet written.
    public func flushPending() throws {
        do {
            try muxer.flushFragment()
        } catch {
            throw output.failure ?? error
        }
        if !offsetsRecorded { try recordOffsets() }
    }

    /// Where the recording was resumed after a pause (`PacketFileSink`):
    /// the finished file lists a chapter per part ("Part 1" at 0, "Part 2"
    /// here...). A file finished by `MP4Repair` after a crash has none.
    public func resumed(atSeconds seconds: Double) {
        resumes.append(seconds)
    }

    /// The file written (`PacketFileSink`): `path`.
    public var currentPath: String { path }

    /// Bytes handed to the file so far.
    public var bytesWritten: Int64 { output.position }

    /// Bytes in the file on disk now.
    public var bytesOnDisk: Int64 { output.bytesOnDisk }

    /// Complete fragments in the file.
    public var fragmentCount: Int { output.fragmentCount }

    /// Writes the last packets and fragment, then makes `path` a regular MP4
    /// (see `FinishMode`). Never throws: when the recording or the finishing
    /// failed, the report says so (`outcome` `.keptAsWritten`, `error`), and
    /// the file holds every whole fragment, plays, and can be finished later
    /// by `MP4Repair`.
    public func finish() -> MP4FinishReport {
        precondition(!finished, "finish() once")
        finished = true
        let clock = MonotonicClock()
        let started = clock.now()
        var recordingError: String?
        var failure: AVError? = output.failure
        if let recorded = output.failure {
            recordingError = "\(recorded)"
        } else {
            do {
                try muxer.finish()
                if !offsetsRecorded { try recordOffsets() }
                try output.file.synchronize()
            } catch {
                let underlying = output.failure ?? Self.underlying(error)
                failure = underlying
                recordingError = "\(underlying.map { "\($0)" } ?? "\(error)")"
            }
        }
        func seconds() -> Double { Double(clock.now() - started) / Double(Int64.nanosecondsPerSecond) }
        let removed = output.file.linkCount() == 0
        func kept(_ error: String, _ cause: (any Error)? = nil) -> MP4FinishReport {
            MP4FinishReport(path: path, outcome: .keptAsWritten, duration: 0, finalizingSeconds: seconds(),
                            bytes: removed ? 0 : output.bytesOnDisk, fragments: removed ? 0 : output.fragmentCount,
                            moovAtFront: false, extraBytes: 0, error: error,
                            failure: failure ?? cause.flatMap(Self.underlying))
        }
        // Removed from its directory: nothing left to finish or to report on disk.
        if removed { return kept(recordingError ?? "the file was removed") }
        if finishMode == .remux && recordingError == nil {
            do {
                let duration = try remux()
                let bytes = (try? FileHandleIO(path: path, flags: O_RDONLY).size()) ?? 0
                return MP4FinishReport(path: path, outcome: .remuxed, duration: duration, finalizingSeconds: seconds(),
                                       bytes: bytes, fragments: output.fragmentCount, moovAtFront: true,
                                       extraBytes: bytes, error: nil)
            } catch {
                return kept("remuxing: \(error)", error)
            }
        }
        do {
            // What was written is known: no need to read the file back.
            let written = try output.writtenLayout(marker: marker)
            let layout = try written ?? MP4RecordingLayout(reading: output.file)
            guard !layout.fragments.isEmpty else { return kept(recordingError ?? "no fragment was written") }
            var finisher = MP4InPlaceFinisher(file: output.file)
            let result = try finisher.finish(layout, index: written == nil ? nil : output.index,
                                             chapters: resumes.isEmpty ? [] : [MP4Chapter(start: 0, title: "Part 1")]
                                                 + resumes.enumerated().map { MP4Chapter(start: $1, title: "Part \($0 + 2)") })
            return MP4FinishReport(path: path, outcome: .finishedInPlace, duration: result.duration,
                                   finalizingSeconds: seconds(), bytes: output.bytesOnDisk, fragments: result.fragments,
                                   moovAtFront: result.moovAtFront, extraBytes: result.extraBytes,
                                   indexBytes: result.indexBytes, error: recordingError, failure: failure)
        } catch {
            return kept([recordingError, "finishing in place: \(error)"].compactMap { $0 }.joined(separator: "; "), error)
        }
    }

    /// The libav or system error inside `error`, if it carries one.
    static func underlying(_ error: any Error) -> AVError? {
        if let error = error as? AVError { return error }
        if let error = error as? PartialWrite { return error.error }
        return nil
    }

    /// The bytes of index a regular MP4 needs for `seconds` of `streams`,
    /// rounded up to 64 KiB, with a tenth more and 64 KiB for the boxes
    /// around the tables. Per second of media (ISO/IEC 14496-12 §8.6-8.7,
    /// the tables `MP4SampleTableWriter` writes): 4 bytes of `stsz` per
    /// sample, 8 of `ctts` per video frame when B-frames reorder them, and
    /// per fragment and track one chunk (8 bytes of `co64`, 12 of `stsc` at
    /// worst); `stts` and `stss` are a few runs.
    ///
    /// 30 fps H.264 without B-frames (x264 ultrafast, Jibri's recording
    /// preset) and AAC at 44.1 kHz (43.07 frames/s), one fragment a second:
    /// 120 + 172 + 40 = 332 bytes a second, 1.2 MB an hour; 3 hours reserve
    /// 3.9 MiB. With B-frames: 572 bytes a second, 6.7 MiB for 3 hours.
    /// A longer recording gets its index after the media: still finished in
    /// place in the same time, with the index at the end.
    public static func indexReserve(for streams: [StreamParameters], seconds: Double, fragmentDuration: Double) -> Int64 {
        var perSecond = 0.0
        for stream in streams {
            let parameters = stream.codecParameters.pointee
            if stream.kind == .video {
                let rate = stream.frameRate.map { Double($0.num) / Double(max($0.den, 1)) } ?? 30
                perSecond += rate * (4 + (parameters.video_delay > 0 ? 8 : 0))
            } else {
                let frameSize = parameters.frame_size > 0 ? Double(parameters.frame_size) : 1024
                perSecond += Double(parameters.sample_rate > 0 ? parameters.sample_rate : 48_000) / frameSize * 4
            }
            perSecond += 20 / fragmentDuration
        }
        let bytes = perSecond * seconds * 1.1 + 65_536
        let unit = 65_536.0
        return Int64((bytes / unit).rounded(.up) * unit)
    }

    /// The most the default reserve may take: a 64th of the space free in
    /// `directory` (at least 64 KiB), so that on a nearly full or small disk
    /// the reserve does not take the room of the media itself; the index
    /// then goes after the media.
    static func reserveLimit(directory: String) -> Int64 {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return Int64.max }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        return max(65_536, free / 64 / 65_536 * 65_536)
    }

    /// Writes the offsets that started each stream at 0 into the marker,
    /// once both are known (before the fragments that need them).
    private func recordOffsets() throws {
        var changed = false
        if marker.videoOffset == nil, let ticks = muxer.videoOffset {
            marker.videoOffset = (ticks, muxer.videoSourceTimeBase)
            changed = true
        }
        if marker.audioOffset == nil, let ticks = muxer.audioOffset {
            marker.audioOffset = (ticks, muxer.audioSourceTimeBase)
            changed = true
        }
        offsetsRecorded = (!hasVideo || marker.videoOffset != nil) && (!hasAudio || marker.audioOffset != nil)
        if changed {
            try output.file.write(marker.encodedOffsets(), at: markerOffset + MP4RecordingMarker.offsetsPosition)
        }
    }

    /// Now, as libavformat reads `creation_time` (ISO 8601, UTC, microseconds).
    static func creationTime() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let micro = String(now.tv_nsec / 1000)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
            + "\(two(parts.tm_min)):\(two(parts.tm_sec)).\(String(repeating: "0", count: 6 - micro.count) + micro)Z"
    }
}
