/// Builds MP4 boxes: big-endian fields appended to one growing buffer, and
/// box headers whose size is filled in when the box is closed.
struct MP4ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u64(_ value: UInt64) {
        u32(UInt32(value >> 32))
        u32(UInt32(truncatingIfNeeded: value))
    }

    mutating func append(_ other: some Collection<UInt8>) { bytes.append(contentsOf: other) }

    /// Writes a box of `type` whose content `body` appends; the 32-bit size
    /// is patched in afterwards (boxes built here stay far below 4 GiB).
    mutating func box(_ type: FourCC, _ body: (inout MP4ByteWriter) throws -> Void) rethrows {
        let start = bytes.count
        u32(0)
        u32(type.value)
        try body(&self)
        let size = bytes.count - start
        precondition(size <= Int(UInt32.max), "box \(type) too large for a 32-bit size")
        for index in 0..<4 { bytes[start + index] = UInt8(truncatingIfNeeded: size >> (24 - 8 * index)) }
    }

    /// A full box: `box` with the version and flags word first.
    mutating func fullBox(_ type: FourCC, version: UInt8, flags: UInt32 = 0,
                          _ body: (inout MP4ByteWriter) throws -> Void) rethrows {
        try box(type) { writer in
            writer.u32(UInt32(version) << 24 | flags & 0x00FF_FFFF)
            try body(&writer)
        }
    }

    /// The 8-byte header of a box of `size` bytes (at most 4 GiB - 1).
    static func header(_ type: FourCC, size: Int64) -> [UInt8] {
        precondition(size >= 8 && size <= Int64(UInt32.max))
        var writer = MP4ByteWriter(capacity: 8)
        writer.u32(UInt32(size))
        writer.u32(type.value)
        return writer.bytes
    }
}
