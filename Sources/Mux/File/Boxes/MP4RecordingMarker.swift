import CFFmpeg
import MediaCore

/// The small `free` box our recordings carry right after the header
/// (`ftyp`, the empty `moov`): it names the file as one of ours, says where
/// the space reserved for the index is, and keeps the offsets that started
/// each stream at 0 (`Muxer.appliedOffsets`), so that finishing, also by
/// `MP4Repair` after a crash, can restore the exact timestamps with edit
/// lists (AAC priming -1024, B-frames' negative DTS).
///
/// Readers skip a `free` box whatever it holds (ISO/IEC 14496-12 §8.1.2).
/// Layout of the payload, big-endian: the 16-byte `magic`; the reserve's
/// offset and size (u64 each); flags (u32: 1 video offset known, 2 audio);
/// the video offset (i64 ticks, i32 numerator, i32 denominator of its time
/// base); the audio offset, the same way.
struct MP4RecordingMarker: Equatable {
    static let magic = Array("SDC recording v1".utf8)
    /// Size of the whole box, header included.
    static let boxSize = 8 + 16 + 16 + 4 + 16 + 16
    /// Where the video and audio offsets start in the box, for the update.
    static let offsetsPosition: Int64 = 8 + 16 + 16

    var reserveOffset: Int64
    var reserveSize: Int64
    var videoOffset: (ticks: Int64, timeBase: AVRational)?
    var audioOffset: (ticks: Int64, timeBase: AVRational)?

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.encoded() == rhs.encoded() }

    /// The whole box.
    func encoded() -> [UInt8] {
        var writer = MP4ByteWriter(capacity: Self.boxSize)
        writer.box(.free) { writer in
            writer.append(Self.magic)
            writer.u64(UInt64(reserveOffset))
            writer.u64(UInt64(reserveSize))
            writer.append(encodedOffsets())
        }
        return writer.bytes
    }

    /// The flags and both offsets: the part written again once they are known.
    func encodedOffsets() -> [UInt8] {
        var writer = MP4ByteWriter(capacity: 36)
        writer.u32((videoOffset == nil ? 0 : 1) | (audioOffset == nil ? 0 : 2))
        for offset in [videoOffset, audioOffset] {
            writer.u64(UInt64(bitPattern: offset?.ticks ?? 0))
            writer.u32(UInt32(bitPattern: offset?.timeBase.num ?? 0))
            writer.u32(UInt32(bitPattern: offset?.timeBase.den ?? 1))
        }
        return writer.bytes
    }

    /// Reads a marker from a `free` box's payload; nil when it is not ours.
    init?(payload: [UInt8]) {
        guard payload.count >= Self.boxSize - 8, Array(payload.prefix(16)) == Self.magic else { return nil }
        var reader = MP4ByteReader(payload, from: 16)
        guard let offset = try? reader.u64(), let size = try? reader.u64(), let flags = try? reader.u32(),
              offset < UInt64(Int64.max), size < UInt64(Int64.max) else { return nil }
        reserveOffset = Int64(offset)
        reserveSize = Int64(size)
        func offsetField(_ present: Bool) -> (ticks: Int64, timeBase: AVRational)? {
            guard let ticks = try? reader.u64(), let num = try? reader.u32(), let den = try? reader.u32() else { return nil }
            guard present, Int32(bitPattern: den) > 0, Int32(bitPattern: num) > 0 else { return nil }
            return (Int64(bitPattern: ticks), AVRational(num: Int32(bitPattern: num), den: Int32(bitPattern: den)))
        }
        videoOffset = offsetField(flags & 1 != 0)
        audioOffset = offsetField(flags & 2 != 0)
    }

    init(reserveOffset: Int64, reserveSize: Int64) {
        self.reserveOffset = reserveOffset
        self.reserveSize = reserveSize
    }
}
