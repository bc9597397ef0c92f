import MediaCore

#if canImport(Glibc)
import Glibc
#endif

/// Finds what a frame's grab really changed: a client that repaints the
/// same pixels (a player showing a still picture, a toolkit redrawing a
/// window) makes DAMAGE report rectangles whose contents did not change.
/// Each grabbed rectangle is compared row by row (`memcmp`) with a copy of
/// the picture the frames handed on so far hold, in the grab's own pixel
/// format; a rectangle narrows to the bounding box of its changed pixels
/// (even edges) or goes, and a frame left with nothing is `.unchanged`: no
/// conversion, no x264 work. Changed rows are copied into the kept picture.
///
/// The cost is one read of the grab and of the kept rows (0.2 ms at
/// 1920x1080 here, far less than a conversion) plus a copy of what changed.
/// Where comparing finds most of the grab changed (full motion, a playing
/// video) it rests for 2, 4, ... 64 frames, which go by uncompared and
/// uncopied; the kept picture is then stale where they went (the bounding
/// box of their rectangles) until a grabbed rectangle covering that box, or
/// a whole grab (`wantsWholeGrab` asks for one), reloads it. Anything that
/// makes the kept picture differ from the encoder's (a frame the queue
/// refused, a resize) calls `invalidate()`, and a whole grab reloads it.
///
/// Made once per capture (one frame-sized buffer); filtering allocates
/// nothing and takes no lock. Not thread-safe: the capture thread alone uses it.
final class RepaintFilter {
    typealias Rectangle = FrameDamage.Rectangle

    let width: Int
    let height: Int
    let bytesPerPixel: Int
    /// Bytes from one row of the kept picture to the next.
    private let stride: Int
    /// The picture the frames handed on hold, as grabbed.
    private let kept: UnsafeMutableRawPointer
    /// Where `kept` is not the picture (bounding box, frame pixels); nil
    /// when it is all of it.
    private var stale: (x0: Int, y0: Int, x1: Int, y1: Int)?
    /// Frames with damage still to hand on uncompared.
    private var restFrames = 0
    /// Comparisons in a row that found most of the grab changed.
    private var busyStreak = 0
    /// Longest rest in frames (about 2 s at 30 fps).
    static let longestRest = 64

    /// For frames of `width`x`height` pixels of `bytesPerPixel` bytes.
    init(width: Int, height: Int, bytesPerPixel: Int) {
        precondition(width > 0 && height > 0 && bytesPerPixel > 0)
        self.width = width
        self.height = height
        self.bytesPerPixel = bytesPerPixel
        stride = width * bytesPerPixel
        kept = .allocate(byteCount: stride * height, alignment: 64)
        stale = (0, 0, width, height)
    }

    deinit {
        kept.deallocate()
    }

    /// The kept picture needs a whole grab to be compared against again
    /// (and no rest is under way): the grabber should grab the next frame
    /// with damage whole.
    var wantsWholeGrab: Bool { restFrames == 0 && stale != nil }

    /// The kept picture no longer follows the encoder's (a frame the queue
    /// refused after it was compared, a resize): nothing is compared until
    /// a whole grab reloads it.
    func invalidate() {
        stale = (0, 0, width, height)
    }

    /// What of `damage` (its rectangles pointing into `base`, rows packed
    /// as the grabber put them) really changed the picture; keeps it.
    func filter(_ damage: FrameDamage, base: UnsafeRawPointer) -> FrameDamage {
        if damage.kind == .unchanged { return damage }
        if restFrames > 0 {
            restFrames -= 1
            markStale(damage)
            return damage
        }
        if let stale {
            reload(damage, base: base, stale: stale)
            return damage
        }
        var compared = 0, changed = 0
        var result = FrameDamage.rectangles
        if damage.kind == .full {
            let whole = Rectangle(x: 0, y: 0, width: width, height: height, offset: 0, bytesPerRow: stride)
            compared = whole.area
            if let narrowed = compare(whole, base: base) {
                changed = narrowed.area
                if narrowed == whole {
                    pace(compared: compared, changed: changed)
                    return damage
                }
                result.append(narrowed)
            }
        } else {
            for index in 0..<damage.count {
                let rect = damage[index]
                guard rect.offset != nil else {
                    // Painted black: not what `kept` holds there.
                    result.append(rect)
                    invalidate()
                    continue
                }
                compared += rect.area
                if let narrowed = compare(rect, base: base) {
                    changed += narrowed.area
                    result.append(narrowed)
                }
            }
        }
        pace(compared: compared, changed: changed)
        return result.count == 0 ? .unchanged : result
    }

    /// The next frame is compared (no rest under way, the kept picture
    /// whole): `read(_:from:...)` may take it.
    var isComparing: Bool { restFrames == 0 && stale == nil }

    /// A frame read in place (`isComparing` held before it): the grabber
    /// calls `read(_:from:sourceStride:into:at:)` for each damaged
    /// rectangle, appends what it returns to `result`, then hands the sums
    /// here. Returns the frame's damage (`.full` for one whole-frame box).
    func finishReading(_ result: FrameDamage, compared: Int, changed: Int) -> FrameDamage {
        pace(compared: compared, changed: changed)
        if result.count == 1 && result[0].area == width * height && result[0].offset == 0 { return .full }
        return result.count == 0 ? .unchanged : result
    }

    /// What of `rect` (frame pixels, even) really changed, read from
    /// `source` (frame pixel 0,0 of a picture the server keeps, rows
    /// `sourceStride` bytes apart, which it may be drawing into meanwhile):
    /// nil when nothing did, else the box of its changed pixels in the slot
    /// at `base`, the rectangle packed at `offset` as a grab puts it. Reads
    /// the rectangle and `kept` once where nothing changed. Rows that differ
    /// from `kept` are copied to the slot (as read now) and from there to
    /// `kept`; rows inside the box that did not differ are copied from
    /// `kept`: the slot's box is the picture, and `kept` is exactly what the
    /// frame hands on even while the server draws.
    @inline(__always)
    func read(_ rect: ScreenLayout.Rect, from source: UnsafeRawPointer, sourceStride: Int,
                      into base: UnsafeMutableRawPointer, at offset: Int) -> Rectangle? {
        let rowBytes = rect.width * bytesPerPixel
        var from = source + rect.y * sourceStride + rect.x * bytesPerPixel
        var target = kept + rect.y * stride + rect.x * bytesPerPixel
        var slot = base + offset
        var first = -1, last = -1
        var left = rowBytes, right = 0
        for row in 0..<rect.height {
            if memcmp(from, target, rowBytes) != 0 {
                memcpy(slot, from, rowBytes)
                if first < 0 {
                    first = row
                    // The box starts on an even row: the one above is `kept`'s.
                    if row & 1 == 1 { memcpy(slot - rowBytes, target - stride, rowBytes) }
                }
                last = row
                left = Self.firstDifference(slot, target, before: left)
                right = Self.lastDifference(slot, target, from: right, count: rowBytes)
                memcpy(target, slot, rowBytes)
            } else if first >= 0 {
                memcpy(slot, target, rowBytes)
            }
            from += sourceStride
            target += stride
            slot += rowBytes
        }
        guard first >= 0, right > left else { return nil }
        let x0 = (left / bytesPerPixel) & ~1
        let x1 = min(rect.width, ((right + bytesPerPixel - 1) / bytesPerPixel + 1) & ~1)
        let y0 = first & ~1
        let y1 = min(rect.height, (last + 2) & ~1)
        return Rectangle(x: rect.x + x0, y: rect.y + y0, width: x1 - x0, height: y1 - y0,
                         offset: offset + y0 * rowBytes + x0 * bytesPerPixel, bytesPerRow: rowBytes)
    }

    /// Rests when a comparison found most of what it read changed.
    @inline(__always)
    private func pace(compared: Int, changed: Int) {
        if changed * 2 > compared {
            busyStreak = min(busyStreak + 1, 6)
            restFrames = min(1 << busyStreak, Self.longestRest)
        } else {
            busyStreak = 0
        }
    }

    /// A frame handed on uncompared: what it brings is not in `kept`.
    private func markStale(_ damage: FrameDamage) {
        if damage.kind == .full { return invalidate() }
        for index in 0..<damage.count {
            let rect = damage[index]
            let box = stale ?? (rect.x, rect.y, rect.x + rect.width, rect.y + rect.height)
            stale = (min(box.x0, rect.x), min(box.y0, rect.y), max(box.x1, rect.x + rect.width),
                     max(box.y1, rect.y + rect.height))
        }
    }

    /// `kept` is stale: a whole grab, or a frame one of whose grabbed
    /// rectangles covers the stale box, reloads it (the frame's rectangles
    /// copied in order, as the encoder applies them); any other frame
    /// leaves it stale, larger.
    private func reload(_ damage: FrameDamage, base: UnsafeRawPointer, stale box: (x0: Int, y0: Int, x1: Int, y1: Int)) {
        if damage.kind == .full {
            memcpy(kept, base, stride * height)
            stale = nil
            return
        }
        var covered = false
        for index in 0..<damage.count {
            let rect = damage[index]
            if rect.offset != nil && rect.x <= box.x0 && rect.y <= box.y0 && rect.x + rect.width >= box.x1
                && rect.y + rect.height >= box.y1 {
                covered = true
            }
        }
        guard covered else { return markStale(damage) }
        for index in 0..<damage.count {
            let rect = damage[index]
            guard let offset = rect.offset else { return invalidate() }
            var source = base + offset
            var target = kept + rect.y * stride + rect.x * bytesPerPixel
            let rowBytes = rect.width * bytesPerPixel
            for _ in 0..<rect.height {
                memcpy(target, source, rowBytes)
                source += rect.bytesPerRow
                target += stride
            }
        }
        stale = nil
    }

    /// Compares a grabbed rectangle with `kept` row by row, copies the rows
    /// that differ into `kept`, and returns the bounding box of the
    /// differing pixels (even edges, inside `rect`, pointing into the same
    /// grab), or nil when none differs.
    @inline(__always)
    private func compare(_ rect: Rectangle, base: UnsafeRawPointer) -> Rectangle? {
        let rowBytes = rect.width * bytesPerPixel
        let offset = rect.offset!
        var source = base + offset
        var target = kept + rect.y * stride + rect.x * bytesPerPixel
        var first = -1, last = -1
        // Differing bytes lie in left ..< right of the rows seen so far.
        var left = rowBytes, right = 0
        for row in 0..<rect.height {
            if memcmp(source, target, rowBytes) != 0 {
                if first < 0 { first = row }
                last = row
                left = Self.firstDifference(source, target, before: left)
                right = Self.lastDifference(source, target, from: right, count: rowBytes)
                memcpy(target, source, rowBytes)
            }
            source += rect.bytesPerRow
            target += stride
        }
        guard first >= 0 else { return nil }
        let x0 = (left / bytesPerPixel) & ~1
        let x1 = min(rect.width, ((right + bytesPerPixel - 1) / bytesPerPixel + 1) & ~1)
        let y0 = first & ~1
        let y1 = min(rect.height, (last + 2) & ~1)
        return Rectangle(x: rect.x + x0, y: rect.y + y0, width: x1 - x0, height: y1 - y0,
                         offset: offset + y0 * rect.bytesPerRow + x0 * bytesPerPixel, bytesPerRow: rect.bytesPerRow)
    }

    /// The first byte offset below `limit` where `a` and `b` differ, or `limit`.
    @inline(__always)
    private static func firstDifference(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, before limit: Int) -> Int {
        var index = 0
        while index + 8 <= limit {
            let difference = a.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                ^ b.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if difference != 0 { return index + difference.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < limit {
            if a.load(fromByteOffset: index, as: UInt8.self) != b.load(fromByteOffset: index, as: UInt8.self) { return index }
            index += 1
        }
        return limit
    }

    /// One past the last byte offset at or above `floor` (of `count`) where
    /// `a` and `b` differ, or `floor`.
    @inline(__always)
    private static func lastDifference(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, from floor: Int, count: Int) -> Int {
        var end = count
        while end - 8 >= floor {
            let difference = a.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self)
                ^ b.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self)
            if difference != 0 { return end - difference.leadingZeroBitCount / 8 }
            end -= 8
        }
        while end > floor {
            if a.load(fromByteOffset: end - 1, as: UInt8.self) != b.load(fromByteOffset: end - 1, as: UInt8.self) { return end }
            end -= 1
        }
        return floor
    }
}
