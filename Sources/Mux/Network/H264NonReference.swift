/// Tells from an H.264 access unit whether any other frame refers to it:
/// a frame whose slices all have `nal_ref_idc == 0` (x264's non-reference
/// B-frames) can be dropped without breaking the pictures after it.
///
/// libx264 in FFmpeg 5.1 does not set `AV_PKT_FLAG_DISPOSABLE`, so a network
/// sink reads the NAL headers: a few bytes per NAL unit, no allocation.
/// Both framings are understood: Annex B start codes (what libx264 emits)
/// and 4-byte length prefixes (avcC, after a bitstream filter).
enum H264NonReference {
    /// True when the access unit has at least one slice and none is a reference.
    static func check(_ data: UnsafePointer<UInt8>?, count: Int) -> Bool {
        guard let data, count >= 5 else { return false }
        let annexB = (data[0] == 0 && data[1] == 0 && data[2] == 1)
            || (data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 1)
        var sawSlice = false
        if annexB {
            var index = 0
            while index + 3 < count {
                if data[index] == 0 && data[index + 1] == 0 && data[index + 2] == 1 {
                    guard visit(header: data[index + 3], sawSlice: &sawSlice) else { return false }
                    index += 3
                } else {
                    index += 1
                }
            }
        } else {
            var index = 0
            while index + 4 < count {
                let length = Int(data[index]) << 24 | Int(data[index + 1]) << 16 | Int(data[index + 2]) << 8 | Int(data[index + 3])
                guard length > 0, index + 4 + length <= count else { return false }
                guard visit(header: data[index + 4], sawSlice: &sawSlice) else { return false }
                index += 4 + length
            }
        }
        return sawSlice
    }

    /// False when the NAL unit is a slice that other frames refer to.
    @inline(__always)
    private static func visit(header: UInt8, sawSlice: inout Bool) -> Bool {
        let type = header & 0x1F
        guard (1...5).contains(type) else { return true }
        sawSlice = true
        return header & 0x60 == 0
    }
}
