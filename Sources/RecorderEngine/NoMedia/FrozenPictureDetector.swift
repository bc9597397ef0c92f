import MediaCore

/// Finds a frozen picture on the video encode thread, without reading whole
/// pictures. It reads the encoder's own input picture (the 8-bit luma plane
/// of the persistent I420 picture every frame is converted into), so what it
/// judges is what is encoded, whatever the capture delivered: a whole frame,
/// damaged rectangles, or nothing.
///
/// - A frame X DAMAGE reported unchanged costs nothing: the picture is the
///   same as before, certainly (the damage information for free).
/// - Otherwise, frame n hashes the luma rows `y ≡ n (mod stripes)` (full
///   rows) and compares the hash with the one the same rows had when last
///   hashed. After any change the detector goes on hashing one stripe a frame
///   until every stripe has been hashed again, even over unchanged frames
///   that follow, so a change confined to a few rows is always seen within
///   `stripes` frames (about half a second at 30 fps and 16 stripes, far
///   below the seconds a no-media threshold is set to).
/// - Cost per hashed frame: a sixteenth of the luma plane's memory traffic
///   (`capbench nomedia`); nothing is allocated after `init`.
package struct FrozenPictureDetector {
    /// Rows are split into this many interleaved sets, one hashed per frame.
    package static let stripes = 16
    private var hashes: [UInt64]
    private var known: [Bool]
    /// Grab sequence of the last frame that differed.
    private var lastChange = -1
    /// Stripes still to hash again since the last damage.
    private var stripesToCheck = stripes

    package init() {
        hashes = Array(repeating: 0, count: Self.stripes)
        known = Array(repeating: false, count: Self.stripes)
    }

    /// Notes that the picture may have changed without being observed (a
    /// frame the timeline dropped still updated the encoder's picture).
    @inline(__always)
    package mutating func noteDamage() {
        stripesToCheck = Self.stripes
    }

    /// Looks at the picture after frame `sequence` (`damaged`: the capture
    /// did not report it unchanged); returns how many frames (grab sequence
    /// numbers) have passed since the picture last changed. `luma` is the
    /// 8-bit plane, `width` x `height` samples, `stride` bytes per row.
    @inline(__always)
    package mutating func observe(luma: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int,
                                  sequence: Int, damaged: Bool) -> Int {
        if damaged { stripesToCheck = Self.stripes }
        if stripesToCheck > 0 {
            stripesToCheck -= 1
            let stripe = sequence % Self.stripes
            var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(stripe + 1)
            var row = stripe
            let start = UnsafeRawPointer(luma)
            while row < height {
                hash = Self.mix(hash, Self.hashRow(start + row * stride, bytes: width))
                row += Self.stripes
            }
            if !known[stripe] || hashes[stripe] != hash {
                // A stripe seen for the first time counts as a change: the
                // picture is new to the detector.
                known[stripe] = true
                hashes[stripe] = hash
                lastChange = sequence
                // What changed may reach into rows hashed a moment ago.
                stripesToCheck = Self.stripes
            }
        }
        if lastChange < 0 { lastChange = sequence }
        return sequence - lastChange
    }

    /// Four independent multiply-xorshift lanes over 8-byte words, so the
    /// multiplies overlap; the tail (a width not a multiple of 8 pixels)
    /// byte by byte.
    @inline(__always)
    private static func hashRow(_ start: UnsafeRawPointer, bytes: Int) -> UInt64 {
        let m: UInt64 = 0xFF51_AFD7_ED55_8CCD
        var a: UInt64 = 1, b: UInt64 = 2, c: UInt64 = 3, d: UInt64 = 4
        let words = bytes / 8
        let blocks = words / 4
        var offset = 0
        for _ in 0..<blocks {
            a = (a ^ start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* m
            b = (b ^ start.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)) &* m
            c = (c ^ start.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)) &* m
            d = (d ^ start.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)) &* m
            offset += 32
        }
        while offset + 8 <= bytes {
            a = (a ^ start.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* m
            offset += 8
        }
        while offset < bytes {
            b = (b ^ UInt64(start.load(fromByteOffset: offset, as: UInt8.self))) &* m
            offset += 1
        }
        return mix(mix(a, b), mix(c, d))
    }

    @inline(__always)
    private static func mix(_ x: UInt64, _ y: UInt64) -> UInt64 {
        var h = (x ^ (y &* 0xC4CE_B9FE_1A85_EC53)) &+ 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        return h &* 0xFF51_AFD7_ED55_8CCD
    }
}
