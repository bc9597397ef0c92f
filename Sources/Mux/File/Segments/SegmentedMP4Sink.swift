import CFFmpeg
public import MediaCore
public import MediaPackets

/// A recording split into numbered MP4 files, each cut at a keyframe and
/// each a crash-safe `MP4FileSink` of its own: while written it is the
/// fragmented MP4 that survives `kill -9`; when the next one starts it is
/// finished in place (a regular MP4 that plays, seeks and shows its
/// duration on its own). A crash leaves every earlier segment finished and
/// the current one playable (`MP4Repair` finishes it).
///
/// Cuts: at the first keyframe at or after each multiple of `duration` on
/// the recording's timeline (so segments do not drift: with 2 s GOPs and
/// 5 s segments, cuts at 6, 10, 16 s...), and, with `maxBytes`, at the
/// last keyframe before the file would pass it (`SegmentSizeGuard`): no
/// file grows past `maxBytes` unless one GOP is larger than every GOP
/// before it by more than the room left. With no video, any AAC frame
/// starts a segment. A segment starts with the picture it was cut at: its
/// timestamps are moved so that picture is at 0, and the sound that follows
/// keeps its exact place against it (the edit list `MP4FileSink` writes
/// when it finishes).
///
/// Finishing a segment (its index, and an `fsync`) runs on the mux thread at
/// the cut: measured at about 2-10 ms for a 5 s segment on this disk; the
/// packet rings between the encoders and the mux thread hold seconds.
///
/// Not thread-safe: one thread (the mux thread) uses it.
public final class SegmentedMP4Sink: PacketFileSink, @unchecked Sendable {
    /// When to cut.
    public struct Policy: Sendable, Equatable {
        /// Seconds per segment, or nil.
        public var duration: Double?
        /// The most bytes a file may hold (header, index and media), or nil.
        public var maxBytes: Int64?

        public init(duration: Double? = nil, maxBytes: Int64? = nil) {
            self.duration = duration
            self.maxBytes = maxBytes
        }
    }

    public let names: SegmentNames
    public let policy: Policy
    private let streams: [StreamParameters]
    private let overwrite: Bool
    private let fragmentDuration: Double
    private let timeBases: SegmentTimeBases
    /// The segment being written and where it started.
    private var current: MP4FileSink?
    private var currentIndex = 0
    /// The segment's start in each stream's ticks (subtracted from its packets).
    private var videoBase: Int64 = 0
    private var audioBase: Int64 = 0
    private var currentStart: Double = 0
    /// Where the next time cut is due, seconds on the recording's timeline.
    private var nextCut: Double
    /// The end of the picture (or, with no video, the sound) seen so far,
    /// seconds: the last segment's end.
    private var mediaEnd: Double = 0
    /// Packets that can start a segment (pictures; AAC frames for sound
    /// alone) in the current one: a cut needs at least one.
    private var leadingPackets = 0
    /// Judges when the size calls for a cut (with `maxBytes`).
    private var sizeGuard: SegmentSizeGuard?
    /// Told each time a segment is opened (outcome nil) or finished.
    private let report: (FileSegment) -> Void
    private let files: OutputFiles
    private var finished = false

    /// Creates the first segment (its header only). `streams`: the encode's
    /// video (if any) and the audio. `report` hears of each segment as it is
    /// opened and as it is finished, on the thread that writes. `files`:
    /// with a confinement, every segment is created beneath it.
    public init(names: SegmentNames, streams: [StreamParameters], policy: Policy, overwrite: Bool = false,
                fragmentDuration: Double = 1.0, files: OutputFiles = OutputFiles(),
                report: @escaping (FileSegment) -> Void = { _ in }) throws {
        guard policy.duration != nil || policy.maxBytes != nil else {
            throw InvalidSetting(.segmentPolicy, value: "none", reason: "give a duration, a size or both")
        }
        self.names = names
        self.policy = policy
        self.streams = streams
        self.overwrite = overwrite
        self.fragmentDuration = fragmentDuration
        self.report = report
        self.files = files
        timeBases = SegmentTimeBases(streams: streams)
        nextCut = policy.duration ?? .infinity
        current = try makeSegment(0)
        sizeGuard = policy.maxBytes.map { SegmentSizeGuard(maxBytes: $0, streams: streams, fragmentDuration: fragmentDuration) }
        sizeGuard?.startedFile(fileBytes: current!.bytesWritten)
        report(FileSegment(index: 0, path: names.path(0), start: 0, duration: 0, bytes: 0))
    }

    /// The segment being written (`PacketFileSink`).
    public var currentPath: String { names.path(currentIndex) }

    /// Writes `packet` into the current segment, first starting the next
    /// one when the packet can start a segment and a cut is due.
    @inline(__always)
    public func write(_ packet: consuming Packet) throws {
        guard let segment = current else { preconditionFailure("write after finish()") }
        let time = timeBases.seconds(packet)
        let leading = timeBases.video == nil ? packet.kind == .audio : packet.kind == .video
        let canStart = timeBases.canStart(packet)
        if leadingPackets > 0, canStart, time >= nextCut || overSize(segment, at: time) {
            try cut(at: packet, time: time)
        }
        if leading {
            mediaEnd = max(mediaEnd, time + timeBases.duration(packet))
            leadingPackets += 1
        }
        packet.pointer.pointee.pts = shifted(packet.pointer.pointee.pts, kind: packet.kind)
        packet.pointer.pointee.dts = shifted(packet.pointer.pointee.dts, kind: packet.kind)
        let size = Int64(packet.pointer.pointee.size)
        let written = current!
        try written.write(packet)
        sizeGuard?.wrote(bytes: size, fileBytes: written.bytesWritten, startsGroup: canStart)
    }

    /// Finishes the last segment; its report (the earlier ones were reported
    /// as they were cut).
    public func finish() -> MP4FinishReport {
        precondition(!finished, "finish() once")
        finished = true
        let segment = current!
        current = nil
        let finish = segment.finish()
        report(FileSegment(index: currentIndex, path: segment.path, start: currentStart,
                           duration: max(0, mediaEnd - currentStart), bytes: finish.bytes, outcome: finish.outcome,
                           error: finish.error))
        return finish
    }

    // MARK: Cutting

    @inline(__always)
    private func overSize(_ segment: MP4FileSink, at time: Double) -> Bool {
        guard sizeGuard != nil else { return false }
        return sizeGuard!.nextGroupWouldPass(seconds: time - currentStart, reserve: segment.reservedIndexBytes)
    }

    /// Finishes the current segment and opens the next, starting at `packet`
    /// (at `time` on the recording's timeline). A segment's duration is its
    /// pictures' (the next cut's time less its own), so the durations add
    /// up to the recording's.
    private func cut(at packet: borrowing Packet, time: Double) throws {
        let previous = current!
        let finish = previous.finish()
        report(FileSegment(index: currentIndex, path: previous.path, start: currentStart,
                           duration: time - currentStart, bytes: finish.bytes, outcome: finish.outcome,
                           error: finish.error))
        currentIndex += 1
        currentStart = time
        // The next time cut: the first multiple of the duration past this one.
        if let duration = policy.duration { nextCut = ((time / duration).rounded(.down) + 1) * duration }
        // The cut picture's presentation time is the segment's 0.
        let start = packet.pointer.pointee.pts != CFFMPEG_AV_NOPTS_VALUE ? packet.pointer.pointee.pts : packet.decodingTimestamp
        if packet.kind == .video, let videoTimeBase = timeBases.video {
            videoBase = start
            audioBase = av_rescale_q(start, videoTimeBase, timeBases.audio)
        } else {
            audioBase = start
        }
        leadingPackets = 0
        current = nil
        current = try makeSegment(currentIndex)
        sizeGuard?.startedFile(fileBytes: current!.bytesWritten)
        report(FileSegment(index: currentIndex, path: names.path(currentIndex), start: time, duration: 0, bytes: 0))
    }

    private func makeSegment(_ index: Int) throws -> MP4FileSink {
        // Room for the index of a segment a GOP or two longer than asked;
        // for a size limit, of that many bytes at 128 kbit/s (the sound
        // alone), at most 3 hours. A longer segment gets its index after
        // its media, still finished in place.
        let bySize = policy.maxBytes.map { min(MP4FileSink.defaultReserveSeconds, Double($0) / 16_000) }
        let reserve = [policy.duration.map { $0 * 1.1 + 20 }, bySize].compactMap { $0 }.min()
            ?? MP4FileSink.defaultReserveSeconds
        return try MP4FileSink(path: names.path(index), streams: streams, overwrite: overwrite,
                               fragmentDuration: fragmentDuration, arrivesInterleaved: true, reserveSeconds: reserve,
                               files: files)
    }

    // MARK: Time

    @inline(__always)
    private func shifted(_ timestamp: Int64, kind: StreamKind) -> Int64 {
        guard timestamp != CFFMPEG_AV_NOPTS_VALUE else { return timestamp }
        return timestamp - (kind == .video ? videoBase : audioBase)
    }
}
