import MediaCore

/// Checks that DAMAGE reports every change: every `interval` frames the
/// grabber takes one whole grab, and a tile of the picture that changed since
/// the previous check although no DAMAGE rectangle touched it means the server
/// changes the screen without telling. The grabber then gives up DAMAGE and
/// grabs whole frames.
///
/// Remembers a 64-bit hash per 64x64-pixel tile (4 KB for 1080p), not the
/// picture; differing tiles are judged once the next frame's events are read
/// (an event for a drawing the check already saw may still be on the way), and
/// a tile such an event touches is excused. Buffers are made once here; nothing
/// else allocates. Cost and reasons: docs/ARCHITECTURE.md, "Display capture
/// notes".
final class DamageAudit {
    /// Tile edge in pixels: small enough to name where a change was, large
    /// enough that marking a full-screen rectangle touches few tiles
    /// (510 at 1920x1080).
    static let tileSize = 64
    /// Seconds from one check to the next: the next check catches a change
    /// DAMAGE missed, at most this long after it (one check later when full
    /// motion has just stopped), and whole grabs repair the picture from the
    /// frame after. One whole grab every 2 s costs a still screen little
    /// (see the type's note) and matches the GOP Jibri records with (a
    /// keyframe every 2 s).
    static let checkSeconds = 2

    /// The tiles, `tileSize` pixels square, of frames of the region's size.
    let grid: TileGrid
    var width: Int { grid.width }
    var height: Int { grid.height }
    var columns: Int { grid.columns }
    var rows: Int { grid.rows }
    let bytesPerPixel: Int
    /// Frames from one check to the next.
    let interval: Int
    /// Per tile: a DAMAGE rectangle touched it since the last check.
    private let marked: UnsafeMutableBufferPointer<Bool>
    /// Per tile: its hash at the last check.
    private let hashes: UnsafeMutableBufferPointer<UInt64>
    /// Per tile: it changed unreported at the last check, to be judged.
    private let suspect: UnsafeMutableBufferPointer<Bool>
    private var suspects = 0
    /// Tiles `marked` holds (a full-motion screen marks them all).
    private var markedCount = 0
    /// The last check found every tile marked.
    private var previousCheckAllMarked = false
    /// A check has hashed the picture since the last `reset`.
    private(set) var hasReference = false
    private var framesSinceCheck = 0

    /// For frames of `width`x`height` pixels of `bytesPerPixel` bytes
    /// (rows packed), checked every `interval` frames (at least 1).
    init(width: Int, height: Int, bytesPerPixel: Int, interval: Int) {
        precondition(width > 0 && height > 0 && interval > 0)
        grid = TileGrid(width: width, height: height, tileSize: Self.tileSize)
        self.bytesPerPixel = bytesPerPixel
        self.interval = interval
        marked = .allocate(capacity: grid.count)
        marked.initialize(repeating: false)
        hashes = .allocate(capacity: grid.count)
        hashes.initialize(repeating: 0)
        suspect = .allocate(capacity: grid.count)
        suspect.initialize(repeating: false)
    }

    deinit {
        marked.deallocate()
        hashes.deallocate()
        suspect.deallocate()
    }

    /// A frame went by; true when this one is due for a check.
    @inline(__always)
    func frameIsDue() -> Bool {
        framesSinceCheck += 1
        return framesSinceCheck >= interval
    }

    /// Records a DAMAGE rectangle, in frame pixels (clipped here).
    @inline(__always)
    func mark(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int) {
        guard let tiles = grid.tiles(x: x, y: y, width: rectWidth, height: rectHeight) else { return }
        for row in tiles.rows {
            for column in tiles.columns where !marked[row * columns + column] {
                marked[row * columns + column] = true
                markedCount += 1
            }
        }
    }

    /// Forgets the last check (the screen's layout changed): the next check
    /// starts over and judges nothing.
    func reset() {
        hasReference = false
        clearSuspects()
        framesSinceCheck = 0
    }

    /// Hashes the whole frame at `base` (rows of `width * bytesPerPixel`
    /// bytes) and keeps the hashes for the next check. Tiles no DAMAGE
    /// rectangle touched since the last check and whose hash differs become
    /// suspects, judged by `judge()` after the next frame's events.
    func check(_ base: UnsafeRawPointer) {
        framesSinceCheck = 0
        let allMarked = markedCount == grid.count
        defer { previousCheckAllMarked = allMarked }
        if allMarked && previousCheckAllMarked {
            // Every tile changed by report, twice in a row (full motion):
            // nothing to compare, and hashing the picture for the next
            // check would be the check's whole cost. The next check takes
            // the reference instead (a change DAMAGE missed as the motion
            // stops shows one check later). Once is not enough: a new
            // DAMAGE object reports the whole screen at first.
            marked.update(repeating: false)
            markedCount = 0
            hasReference = false
            return
        }
        let stride = width * bytesPerPixel
        for row in 0..<rows {
            let top = row * Self.tileSize
            let tileHeight = min(Self.tileSize, height - top)
            for column in 0..<columns {
                let left = column * Self.tileSize
                let tileBytes = min(Self.tileSize, width - left) * bytesPerPixel
                let hash = Self.hash(base + top * stride + left * bytesPerPixel, rowBytes: tileBytes,
                                     rows: tileHeight, stride: stride)
                let index = row * columns + column
                if hasReference && !marked[index] && hashes[index] != hash {
                    suspect[index] = true
                    suspects += 1
                }
                hashes[index] = hash
                marked[index] = false
            }
        }
        markedCount = 0
        hasReference = true
    }

    /// After the frame following a check has read its events (and marked
    /// them): the first suspect tile no event excused, as its top-left
    /// corner in frame pixels, or nil. Clears the suspects either way.
    func judge() -> (x: Int, y: Int)? {
        guard suspects > 0 else { return nil }
        var found: (x: Int, y: Int)?
        for index in 0..<grid.count where suspect[index] {
            if found == nil && !marked[index] {
                found = ((index % columns) * Self.tileSize, (index / columns) * Self.tileSize)
            }
        }
        clearSuspects()
        return found
    }

    var hasSuspects: Bool { suspects > 0 }

    private func clearSuspects() {
        if suspects > 0 {
            for index in 0..<grid.count { suspect[index] = false }
        }
        suspects = 0
    }

    /// FNV-1a over 64-bit words (a row's last bytes, past a multiple of 8,
    /// one by one): each step is a bijection of the running hash, so a tile
    /// differing in one word always hashes differently. The pass is bound by
    /// reading the grab, not by the multiplies (four interleaved lanes
    /// measured the same).
    @inline(__always)
    private static func hash(_ start: UnsafeRawPointer, rowBytes: Int, rows: Int, stride: Int) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        let words = rowBytes / 8
        var row = start
        for _ in 0..<rows {
            for word in 0..<words {
                hash = (hash ^ row.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self)) &* prime
            }
            for byte in (words * 8)..<rowBytes {
                hash = (hash ^ UInt64(row.load(fromByteOffset: byte, as: UInt8.self))) &* prime
            }
            row += stride
        }
        return hash
    }
}
