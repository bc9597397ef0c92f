/// Reads big-endian fields from bytes of a box, as MP4 stores them. Reading
/// past the end throws `MP4FormatError`, so a damaged box is an error, never a trap.
struct MP4ByteReader {
    private let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - position }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= remaining else { throw MP4FormatError("a box ends early") }
        position += count
    }

    mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw MP4FormatError("a box ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw MP4FormatError("a box ends early") }
        defer { position += 4 }
        return UInt32(bytes[position]) << 24 | UInt32(bytes[position + 1]) << 16
            | UInt32(bytes[position + 2]) << 8 | UInt32(bytes[position + 3])
    }

    mutating func u64() throws -> UInt64 {
        let high = try u32()
        return UInt64(high) << 32 | UInt64(try u32())
    }

    /// Version (high byte) and flags (low 24 bits) of a full box.
    mutating func versionAndFlags() throws -> (version: UInt8, flags: UInt32) {
        let word = try u32()
        return (UInt8(word >> 24), word & 0x00FF_FFFF)
    }

    /// The child boxes in this reader's range: (type, start of payload, end).
    func children() throws -> [(type: FourCC, payload: Range<Int>)] {
        var reader = self
        var result: [(type: FourCC, payload: Range<Int>)] = []
        while reader.remaining >= 8 {
            let start = reader.position
            var size = UInt64(try reader.u32())
            let type = FourCC(try reader.u32())
            if size == 1 { size = try reader.u64() } else if size == 0 { size = UInt64(end - start) }
            let header = reader.position - start
            guard size >= UInt64(header), size <= UInt64(end - start) else {
                throw MP4FormatError("box \(type) has a bad size \(size)")
            }
            result.append((type, reader.position..<(start + Int(size))))
            reader.position = start + Int(size)
        }
        return result
    }
}
