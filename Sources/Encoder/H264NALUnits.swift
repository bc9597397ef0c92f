/// Walks the NAL units of Annex B bytes (3- or 4-byte start codes).
enum H264NALUnits {
    /// Calls `body` with each NAL unit (from its header byte) and its length.
    static func forEach(in bytes: UnsafePointer<UInt8>, count: Int,
                        _ body: (UnsafePointer<UInt8>, Int) -> Void) {
        var start = -1
        var index = 0
        while index + 2 < count {
            if bytes[index] == 0 && bytes[index + 1] == 0 && bytes[index + 2] == 1 {
                if start >= 0 {
                    var end = index
                    // The zero of a 4-byte start code belongs to it, not to the NAL.
                    while end > start && bytes[end - 1] == 0 { end -= 1 }
                    if end > start { body(bytes + start, end - start) }
                }
                index += 3
                start = index
            } else {
                index += 1
            }
        }
        if start >= 0 && start < count { body(bytes + start, count - start) }
    }
}
