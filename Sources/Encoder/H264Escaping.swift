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
