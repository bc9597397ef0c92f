/// Writes an H.264 RBSP bit by bit (most significant bit first) into memory
/// it owns, allocated once: the fixed-length `u(n)` and Exp-Golomb `ue(v)` /
/// `se(v)` codes of ITU-T H.264 clause 7.2 and 9.1.
struct H264BitWriter: ~Copyable {
    let capacity: Int
    private let bytes: UnsafeMutablePointer<UInt8>
    /// Bits written so far.
    private(set) var bitCount = 0

    init(capacity: Int) {
        self.capacity = capacity
        bytes = .allocate(capacity: capacity)
        bytes.initialize(repeating: 0, count: capacity)
    }

    deinit { bytes.deallocate() }

    var byteCount: Int { (bitCount + 7) / 8 }
    var isByteAligned: Bool { bitCount % 8 == 0 }
    var data: UnsafePointer<UInt8> { UnsafePointer(bytes) }

    mutating func reset() {
        bytes.update(repeating: 0, count: byteCount)
        bitCount = 0
    }

    /// `u(n)`: the low `count` bits of `value`.
    mutating func write(_ value: UInt64, bits count: Int) {
        precondition((bitCount + count + 7) / 8 <= capacity, "H264BitWriter: out of room")
        var remaining = count
        while remaining > 0 {
            remaining -= 1
            if (value >> UInt64(remaining)) & 1 == 1 {
                bytes[bitCount >> 3] |= UInt8(0x80) >> UInt8(bitCount & 7)
            }
            bitCount += 1
        }
    }

    mutating func writeBit(_ bit: Bool) { write(bit ? 1 : 0, bits: 1) }

    /// `ue(v)`: Exp-Golomb, unsigned.
    mutating func writeUnsigned(_ value: Int) {
        precondition(value >= 0)
        let coded = UInt64(value) + 1
        let length = 64 - coded.leadingZeroBitCount
        write(0, bits: length - 1)
        write(coded, bits: length)
    }

    /// `se(v)`: Exp-Golomb, signed (k > 0 maps to 2k - 1, k <= 0 to -2k).
    mutating func writeSigned(_ value: Int) {
        writeUnsigned(value > 0 ? 2 * value - 1 : -2 * value)
    }

    /// Appends whole bytes (the writer must be byte-aligned).
    mutating func append(_ source: UnsafePointer<UInt8>, count: Int) {
        precondition(isByteAligned && byteCount + count <= capacity, "H264BitWriter: unaligned or out of room")
        (bytes + byteCount).update(from: source, count: count)
        bitCount += 8 * count
    }

    /// `rbsp_trailing_bits()`: a one, then zeros to the byte boundary.
    mutating func writeTrailingBits() {
        writeBit(true)
        while !isByteAligned { writeBit(false) }
    }
}

/// Reads the fields of an H.264 RBSP (emulation prevention already removed).
struct H264BitReader {
    private let bytes: UnsafePointer<UInt8>
    private let count: Int
    /// Bits read so far.
    private(set) var position = 0

    init(_ bytes: UnsafePointer<UInt8>, count: Int) {
        self.bytes = bytes
        self.count = count
    }

    struct Overrun: Error {}

    mutating func read(bits: Int) throws(Overrun) -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<bits {
            guard position < count * 8 else { throw Overrun() }
            value = value << 1 | UInt64((bytes[position >> 3] >> UInt8(7 - position & 7)) & 1)
            position += 1
        }
        return value
    }

    mutating func readFlag() throws(Overrun) -> Bool { try read(bits: 1) == 1 }

    mutating func readUnsigned() throws(Overrun) -> Int {
        var zeros = 0
        while try read(bits: 1) == 0 {
            zeros += 1
            guard zeros < 32 else { throw Overrun() }
        }
        return Int((1 << UInt64(zeros)) - 1 + (try read(bits: zeros)))
    }

    mutating func readSigned() throws(Overrun) -> Int {
        let code = try readUnsigned()
        return code % 2 == 1 ? (code + 1) / 2 : -(code / 2)
    }
}

/// Emulation prevention (H.264 clause 7.4.1): the bytes `00 00` are never
/// followed by 00-03 inside a NAL unit; a 03 is inserted after them.
enum H264Escaping {
    /// Escapes `count` RBSP bytes into `output` (room for count * 3 / 2 + 1);
    /// returns the bytes written.
    static func escape(_ input: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<UInt8>) -> Int {
        var zeros = 0, written = 0
        for index in 0..<count {
            let byte = input[index]
            if zeros >= 2 && byte <= 3 {
                output[written] = 3
                written += 1
                zeros = 0
            }
            output[written] = byte
            written += 1
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return written
    }

    /// Removes emulation prevention bytes; returns the RBSP bytes written
    /// (at most `count`).
    static func unescape(_ input: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<UInt8>) -> Int {
        var zeros = 0, written = 0
        for index in 0..<count {
            let byte = input[index]
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            output[written] = byte
            written += 1
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return written
    }
}
