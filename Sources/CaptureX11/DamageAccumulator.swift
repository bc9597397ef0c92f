import MediaCore

/// The parts of the capture region that changed since the last frame was
/// handed on, as a few rectangles in frame coordinates: what the next frame
/// must grab.
///
/// Holds at most `FrameDamage.capacity` rectangles, stored inline (adding
/// never allocates). A rectangle that touches or overlaps one already held is
/// merged into it (their bounding box); when every place is taken, the new
/// one is merged into the rectangle it grows least. Merging only ever grows
/// what is grabbed: nothing reported is ever lost. Rectangles are expanded
/// to even coordinates and sizes, so 4:2:0 chroma blocks are updated whole.
struct DamageAccumulator {
    typealias Rect = ScreenLayout.Rect

    static let capacity = FrameDamage.capacity
    /// Everything must be grabbed (the first frame, a resize, a merge that
    /// covers most of the picture).
    private(set) var all = true
    private(set) var count = 0
    private var rects = InlineArray<16, Rect>(repeating: Rect(x: 0, y: 0, width: 0, height: 0))

    var isEmpty: Bool { !all && count == 0 }

    subscript(index: Int) -> Rect { rects[index] }

    /// Pixels the held rectangles cover (overlaps counted twice).
    var area: Int {
        var total = 0
        for index in 0..<count { total += rects[index].area }
        return total
    }

    mutating func markAll() {
        all = true
        count = 0
    }

    mutating func clear() {
        all = false
        count = 0
    }

    /// Adds a changed rectangle given in frame coordinates, clipped to `bounds`.
    mutating func add(x: Int, y: Int, width: Int, height: Int, within bounds: Rect) {
        guard !all else { return }
        var x0 = max(x, bounds.x), y0 = max(y, bounds.y)
        var x1 = min(x + width, bounds.x + bounds.width), y1 = min(y + height, bounds.y + bounds.height)
        guard x0 < x1, y0 < y1 else { return }
        // Even edges; `bounds` has even edges, so this stays inside it.
        x0 &= ~1
        y0 &= ~1
        x1 = (x1 + 1) & ~1
        y1 = (y1 + 1) & ~1
        var new = Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
        // Absorb every held rectangle the new one touches, until none does.
        var index = 0
        while index < count {
            if Self.touches(rects[index], new) {
                new = Self.union(rects[index], new)
                count -= 1
                rects[index] = rects[count]
                index = 0
            } else {
                index += 1
            }
        }
        if count < Self.capacity {
            rects[count] = new
            count += 1
            return
        }
        var best = 0, bestGrowth = Int.max
        for candidate in 0..<count {
            let growth = Self.union(rects[candidate], new).area - rects[candidate].area
            if growth < bestGrowth { best = candidate; bestGrowth = growth }
        }
        rects[best] = Self.union(rects[best], new)
    }

    private static func touches(_ a: Rect, _ b: Rect) -> Bool {
        a.x <= b.x + b.width && b.x <= a.x + a.width && a.y <= b.y + b.height && b.y <= a.y + a.height
    }

    private static func union(_ a: Rect, _ b: Rect) -> Rect {
        let x0 = min(a.x, b.x), y0 = min(a.y, b.y)
        let x1 = max(a.x + a.width, b.x + b.width), y1 = max(a.y + a.height, b.y + b.height)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }
}
