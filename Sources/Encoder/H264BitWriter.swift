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
                // Not `bytes[i] |= ...`: Swift 6.3.1 with -sanitize=thread
                // crashes compiling that ("Invalid bitcast").
                let index = bitCount >> 3
                bytes[index] = bytes[index] | (UInt8(0x80) >> UInt8(bitCount & 7))
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
