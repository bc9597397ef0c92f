/// What a `trak` box says of its track: its id (`tkhd`), its handler type
/// (`hdlr`: "vide", "soun") and its media time scale (`mdhd`, ticks per
/// second), each nil when its box is missing. ISO/IEC 14496-12 8.3.2, 8.4.2,
/// 8.4.3.
struct MP4TrackHeader {
    var id: UInt32?
    var handler: String?
    var timescale: UInt32?

    /// Reads the `trak` whose payload is `range` of `bytes`.
    /// Throws `MP4FormatError` when a box in it ends early.
    init(_ bytes: [UInt8], trak range: Range<Int>) throws {
        for child in try MP4ByteReader(bytes, from: range.lowerBound, to: range.upperBound).children() {
            if child.type == .tkhd {
                var fields = MP4ByteReader(bytes, from: child.payload.lowerBound, to: child.payload.upperBound)
                let (version, _) = try fields.versionAndFlags()
                try fields.skip(version == 1 ? 16 : 8)  // creation and modification times
                id = try fields.u32()
            } else if child.type == .mdia {
                for part in try MP4ByteReader(bytes, from: child.payload.lowerBound, to: child.payload.upperBound).children() {
                    var fields = MP4ByteReader(bytes, from: part.payload.lowerBound, to: part.payload.upperBound)
                    if part.type == .hdlr {
                        try fields.skip(8)  // version, flags, pre_defined
                        handler = FourCC(try fields.u32()).description
                    } else if part.type == .mdhd {
                        let (version, _) = try fields.versionAndFlags()
                        try fields.skip(version == 1 ? 16 : 8)
                        timescale = try fields.u32()
                    }
                }
            }
        }
    }
}
