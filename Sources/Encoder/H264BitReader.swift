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
