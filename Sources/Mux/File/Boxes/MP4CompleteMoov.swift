import CFFmpeg

/// Builds the complete `moov` of a finished recording from its fragment
/// index: the fragmented `moov`'s track descriptions kept as they are, its
/// `mvex` dropped, each sample table filled from the fragments (ISO/IEC
/// 14496-12 §8.5-8.7: `stts`, `ctts`, `stss`, `stsc`, `stsz`, `stco` or
/// `co64`), durations set, and an edit list per track that restores the
/// exact start of each stream.
///
/// The recording started each stream at 0 by its own offset (see
/// `Muxer.appliedOffsets`, kept in the `MP4RecordingMarker`): a sample at `t`
/// in the fragments was at `t - offset` before. Presentation starts at 0 of
/// that original timeline, as the stream-copy remux with edit lists would
/// make it: a stream that began before 0 (AAC priming: -1024 samples;
/// B-frames) is cut by the edit's media time, one that began after 0 is
/// delayed by an empty edit.
enum MP4CompleteMoov {
    /// The `moov` box, and the movie's duration in seconds.
    /// `chapters`: written as a Nero chapter list (`chpl` in `udta`), which
    /// FFmpeg (ffprobe -show_chapters, mpv) and VLC read.
    static func build(index: MP4FragmentIndex, marker: MP4RecordingMarker?,
                      chapters: [MP4Chapter] = []) throws -> (bytes: [UInt8], duration: Double) {
        let bytes = index.moovPayload
        let children = try MP4ByteReader(bytes).children()
        // Every track's edit first: the movie's duration is the longest.
        var plans: [UInt32: EditPlan] = [:]
        for child in children where child.type == .trak {
            let (id, handler) = try trackIdentity(bytes, child.payload)
            guard let track = index.tracks.first(where: { $0.trackID == id }) else { continue }
            let offset = handler == "vide" ? marker?.videoOffset : handler == "soun" ? marker?.audioOffset : nil
            plans[id] = EditPlan(track: track, offset: offset, movieTimescale: index.movieTimescale)
        }
        let movieDuration = plans.values.map(\.trackDuration).max() ?? 0
        var writer = MP4ByteWriter(capacity: estimatedSize(index) + bytes.count)
        try writer.box(.moov) { writer in
            for child in children {
                let payload = Array(bytes[child.payload])
                switch child.type {
                case .udta where !chapters.isEmpty:
                    writer.box(.udta) { writer in
                        writer.append(payload)
                        MP4Chapter.writeList(chapters, into: &writer)
                    }
                case .mvhd:
                    writer.box(.mvhd) { $0.append(try! withDuration(payload, movieDuration, durationOffset: 16)) }
                case .mvex:
                    continue
                case .trak:
                    let (id, _) = try trackIdentity(bytes, child.payload)
                    guard let track = index.tracks.first(where: { $0.trackID == id }), let plan = plans[id] else {
                        writer.box(.trak) { $0.append(payload) }
                        continue
                    }
                    try writeTrack(bytes, child.payload, track: track, plan: plan, into: &writer)
                default:
                    writer.box(child.type) { $0.append(payload) }
                }
            }
            if !chapters.isEmpty && !children.contains(where: { $0.type == .udta }) {
                writer.box(.udta) { MP4Chapter.writeList(chapters, into: &$0) }
            }
        }
        return (writer.bytes, Double(movieDuration) / Double(index.movieTimescale))
    }

    /// The edit of one track, in its media ticks and in the movie's.
    struct EditPlan {
        /// Media time where presentation starts.
        let mediaStart: Int64
        /// Movie ticks before the track's first sample shows (an empty edit).
        let emptyDuration: Int64
        /// Movie ticks of media presented.
        let segmentDuration: Int64
        var trackDuration: Int64 { emptyDuration + segmentDuration }
        var isIdentity: Bool { mediaStart == 0 && emptyDuration == 0 }

        init(track: MP4TrackSamples, offset: (ticks: Int64, timeBase: AVRational)?, movieTimescale: UInt32) {
            let scale = Int64(track.timescale)
            let shift = offset.map { av_rescale_q($0.ticks, $0.timeBase, AVRational(num: 1, den: Int32(clamping: scale))) } ?? 0
            let first = track.sampleCount > 0 ? track.earliestPresentation : 0
            let end = track.sampleCount > 0 ? track.latestPresentationEnd : 0
            mediaStart = max(first, shift)
            let empty = max(0, first - shift)
            emptyDuration = av_rescale(empty, Int64(movieTimescale), scale)
            segmentDuration = av_rescale(max(0, end - mediaStart), Int64(movieTimescale), scale)
        }
    }

    /// A track's id (`tkhd`) and handler type (`hdlr`: "vide", "soun"); 0
    /// and "" when missing.
    private static func trackIdentity(_ bytes: [UInt8], _ range: Range<Int>) throws -> (UInt32, String) {
        let header = try MP4TrackHeader(bytes, trak: range)
        return (header.id ?? 0, header.handler ?? "")
    }

    private static func writeTrack(_ bytes: [UInt8], _ range: Range<Int>, track: MP4TrackSamples, plan: EditPlan,
                                   into writer: inout MP4ByteWriter) throws {
        let children = try MP4ByteReader(bytes, from: range.lowerBound, to: range.upperBound).children()
        try writer.box(.trak) { writer in
            for child in children {
                let payload = Array(bytes[child.payload])
                switch child.type {
                case .tkhd:
                    writer.box(.tkhd) { $0.append(try! withDuration(payload, plan.trackDuration, durationOffset: 20)) }
                    if !plan.isIdentity { writeEdit(plan, into: &writer) }
                case .edts:
                    continue
                case .mdia:
                    try writer.box(.mdia) { writer in
                        for part in try MP4ByteReader(bytes, from: child.payload.lowerBound, to: child.payload.upperBound).children() {
                            let partPayload = Array(bytes[part.payload])
                            if part.type == .mdhd {
                                writer.box(.mdhd) { $0.append(try! withDuration(partPayload, track.mediaDuration, durationOffset: 16)) }
                            } else if part.type == .minf {
                                try writeMediaInformation(bytes, part.payload, track: track, into: &writer)
                            } else {
                                writer.box(part.type) { $0.append(partPayload) }
                            }
                        }
                    }
                default:
                    writer.box(child.type) { $0.append(payload) }
                }
            }
        }
    }

    private static func writeMediaInformation(_ bytes: [UInt8], _ range: Range<Int>, track: MP4TrackSamples,
                                              into writer: inout MP4ByteWriter) throws {
        try writer.box(.minf) { writer in
            for child in try MP4ByteReader(bytes, from: range.lowerBound, to: range.upperBound).children() {
                guard child.type == .stbl else {
                    writer.box(child.type) { $0.append(bytes[child.payload]) }
                    continue
                }
                // Sample tables are made anew; boxes that count samples are dropped.
                let replaced: Set<FourCC> = [.stts, .ctts, .stsc, .stsz, .stz2, .stco, .co64, .stss, .sdtp, .sbgp,
                                             .sgpd, .stps, .cslg, .subs, .saiz, .saio]
                try writer.box(.stbl) { writer in
                    for part in try MP4ByteReader(bytes, from: child.payload.lowerBound, to: child.payload.upperBound).children()
                        where !replaced.contains(part.type) {
                        writer.box(part.type) { $0.append(bytes[part.payload]) }
                    }
                    MP4SampleTableWriter.write(track, into: &writer)
                }
            }
        }
    }

    private static func writeEdit(_ plan: EditPlan, into writer: inout MP4ByteWriter) {
        let large = plan.trackDuration > Int64(UInt32.max) || plan.mediaStart > Int64(Int32.max)
        writer.box(.edts) { writer in
            writer.fullBox(.elst, version: large ? 1 : 0) { writer in
                writer.u32(plan.emptyDuration > 0 ? 2 : 1)
                func entry(duration: Int64, mediaTime: Int64) {
                    if large {
                        writer.u64(UInt64(duration))
                        writer.u64(UInt64(bitPattern: mediaTime))
                    } else {
                        writer.u32(UInt32(duration))
                        writer.u32(UInt32(bitPattern: Int32(mediaTime)))
                    }
                    writer.u32(0x0001_0000)  // media_rate 1.0 (16.16)
                }
                if plan.emptyDuration > 0 { entry(duration: plan.emptyDuration, mediaTime: -1) }
                entry(duration: plan.segmentDuration, mediaTime: plan.mediaStart)
            }
        }
    }

    /// `payload` of an `mvhd`, `mdhd` (duration at byte 16 in version 0) or
    /// `tkhd` (byte 20) with its duration set; version 0 becomes version 1
    /// when the duration needs 64 bits.
    static func withDuration(_ payload: [UInt8], _ duration: Int64, durationOffset: Int) throws -> [UInt8] {
        guard payload.count >= durationOffset + 4 else { throw MP4FormatError("a header box is too short") }
        var result = payload
        if payload[0] == 0 && duration <= Int64(UInt32.max) {
            for index in 0..<4 { result[durationOffset + index] = UInt8(truncatingIfNeeded: duration >> (24 - 8 * index)) }
            return result
        }
        if payload[0] == 0 {
            // Version 1: creation and modification times take 8 bytes each,
            // the duration 8; everything between and after is the same.
            var writer = MP4ByteWriter(capacity: payload.count + 12)
            writer.u8(1)
            writer.append(payload[1..<4])
            var times = MP4ByteReader(payload, from: 4)
            writer.u64(UInt64(try times.u32()))  // creation_time
            writer.u64(UInt64(try times.u32()))  // modification_time
            writer.append(payload[12..<durationOffset])
            writer.u64(UInt64(duration))
            writer.append(payload[(durationOffset + 4)...])
            return writer.bytes
        }
        let position = durationOffset + 8
        guard payload.count >= position + 8 else { throw MP4FormatError("a header box is too short") }
        for index in 0..<8 { result[position + index] = UInt8(truncatingIfNeeded: duration >> (56 - 8 * index)) }
        return result
    }

    private static func estimatedSize(_ index: MP4FragmentIndex) -> Int {
        index.tracks.reduce(4096) { $0 + $1.sampleCount * 12 + $1.chunkOffsets.count * 20 }
    }
}
