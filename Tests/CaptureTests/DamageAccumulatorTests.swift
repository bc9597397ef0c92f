@testable import CaptureX11
import MediaCore
import Testing

/// The bookkeeping of what changed, without a display: rectangles merged,
/// expanded to even edges, clipped, never lost.
@Suite struct DamageAccumulatorTests {
    let bounds = ScreenLayout.Rect(x: 0, y: 0, width: 640, height: 480)

    /// Every pixel of `rects` is covered by the accumulator's rectangles.
    private func covers(_ accumulator: DamageAccumulator, _ rects: [(Int, Int, Int, Int)]) -> Bool {
        rects.allSatisfy { x, y, width, height in
            (y..<y + height).allSatisfy { py in
                (x..<x + width).allSatisfy { px in
                    (0..<accumulator.count).contains { index in
                        let r = accumulator[index]
                        return px >= r.x && px < r.x + r.width && py >= r.y && py < r.y + r.height
                    }
                }
            }
        }
    }

    @Test func rectanglesAreExpandedToEvenEdgesClippedAndKept() {
        var accumulator = DamageAccumulator()
        #expect(accumulator.all, "the first frame is grabbed whole")
        accumulator.clear()
        #expect(accumulator.isEmpty)
        accumulator.add(x: 3, y: 5, width: 10, height: 3, within: bounds)
        #expect(accumulator.count == 1)
        #expect(accumulator[0] == ScreenLayout.Rect(x: 2, y: 4, width: 12, height: 4))
        accumulator.add(x: 630, y: 470, width: 50, height: 50, within: bounds)
        #expect(accumulator[1] == ScreenLayout.Rect(x: 630, y: 470, width: 10, height: 10))
        accumulator.add(x: 700, y: 10, width: 5, height: 5, within: bounds)
        #expect(accumulator.count == 2, "off the region: nothing")
    }

    @Test func touchingRectanglesMergeAndAFullListGrowsTheClosestOne() {
        var accumulator = DamageAccumulator()
        accumulator.clear()
        accumulator.add(x: 0, y: 0, width: 10, height: 10, within: bounds)
        accumulator.add(x: 10, y: 0, width: 10, height: 10, within: bounds)
        #expect(accumulator.count == 1 && accumulator[0] == ScreenLayout.Rect(x: 0, y: 0, width: 20, height: 10))
        var added: [(Int, Int, Int, Int)] = []
        for index in 0..<40 {
            let rect = ((index * 37) % 600, (index * 53) % 440, 6, 6)
            added.append(rect)
            accumulator.add(x: rect.0, y: rect.1, width: rect.2, height: rect.3, within: bounds)
        }
        #expect(accumulator.count <= FrameDamage.capacity)
        #expect(covers(accumulator, added + [(0, 0, 20, 10)]), "a merge never loses a changed pixel")
        accumulator.markAll()
        #expect(accumulator.all && accumulator.count == 0 && !accumulator.isEmpty)
    }

    @Test func aSmallerScreenLeavesBlackStripsOnEvenEdges() {
        let region = CaptureRegion(width: 1280, height: 720)
        let small = ScreenLayout(region: region, screenWidth: 1023, screenHeight: 600)
        #expect(small.visible == ScreenLayout.Rect(x: 0, y: 0, width: 1022, height: 600))
        #expect(small.right == ScreenLayout.Rect(x: 1022, y: 0, width: 258, height: 600))
        #expect(small.bottom == ScreenLayout.Rect(x: 0, y: 600, width: 1280, height: 120))
        #expect(!small.isWhole)
        #expect(ScreenLayout(region: region, screenWidth: 1920, screenHeight: 1080).isWhole)
        let offset = ScreenLayout(region: CaptureRegion(width: 400, height: 300, x: 800, y: 400), screenWidth: 1024, screenHeight: 768)
        #expect(offset.visible == ScreenLayout.Rect(x: 0, y: 0, width: 224, height: 300))
        #expect(offset.right.width == 176 && offset.bottom.isEmpty)
        let gone = ScreenLayout(region: CaptureRegion(width: 400, height: 300, x: 800, y: 400), screenWidth: 640, screenHeight: 480)
        #expect(gone.visible.isEmpty)
        #expect(gone.describe(display: ":1").contains("off screen"))
    }
}
