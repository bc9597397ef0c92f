@testable import CaptureX11
import MediaCore
import Testing

/// `RepaintFilter.read`, the in-place path, without a display: a source
/// picture with its own row stride stands for Xvfb's framebuffer.
@Suite struct RepaintFilterReadTests {
    static let width = 64, height = 32, bytesPerPixel = 4
    /// Rows of the "server's" picture are wider than the frame (a region).
    static let sourceStride = 80 * bytesPerPixel

    final class Source {
        var bytes = [UInt8](repeating: 0, count: RepaintFilterReadTests.sourceStride * RepaintFilterReadTests.height)
        init() {
            for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 13) }
        }
        func paint(x: Int, y: Int, value: UInt8) {
            bytes[y * RepaintFilterReadTests.sourceStride + x * RepaintFilterReadTests.bytesPerPixel] = value
        }
        func pixel(x: Int, y: Int) -> [UInt8] {
            let start = y * RepaintFilterReadTests.sourceStride + x * RepaintFilterReadTests.bytesPerPixel
            return Array(bytes[start..<start + RepaintFilterReadTests.bytesPerPixel])
        }
    }

    /// Reads `rects` as the grabber does and returns the damage.
    private func read(_ filter: RepaintFilter, _ source: Source, _ slot: UnsafeMutableRawPointer,
                      _ rects: [ScreenLayout.Rect]) -> FrameDamage {
        var result = FrameDamage.rectangles
        var compared = 0, changed = 0, offset = 0
        source.bytes.withUnsafeBytes { pixels in
            for rect in rects {
                compared += rect.area
                if let box = filter.read(rect, from: pixels.baseAddress!, sourceStride: Self.sourceStride, into: slot,
                                         at: offset) {
                    changed += box.area
                    result.append(box)
                }
                offset += rect.area * Self.bytesPerPixel
            }
        }
        return filter.finishReading(result, compared: compared, changed: changed)
    }

    /// A filter whose kept picture is `source` (a whole grab reloaded it).
    private func loadedFilter(_ source: Source) -> RepaintFilter {
        let filter = RepaintFilter(width: Self.width, height: Self.height, bytesPerPixel: Self.bytesPerPixel)
        var whole = [UInt8](repeating: 0, count: Self.width * Self.height * Self.bytesPerPixel)
        for row in 0..<Self.height {
            let from = row * Self.sourceStride, to = row * Self.width * Self.bytesPerPixel
            whole[to..<to + Self.width * Self.bytesPerPixel] =
                source.bytes[from..<from + Self.width * Self.bytesPerPixel]
        }
        whole.withUnsafeBytes { _ = filter.filter(.full, base: $0.baseAddress!) }
        return filter
    }

    @Test func anUnchangedRepaintIsUnchangedAndAChangedPixelComesAsItsEvenBoxWithThePictureAroundIt() {
        let source = Source()
        let filter = loadedFilter(source)
        #expect(filter.isComparing)
        let slot = UnsafeMutableRawPointer.allocate(byteCount: Self.width * Self.height * Self.bytesPerPixel, alignment: 64)
        defer { slot.deallocate() }
        let whole = ScreenLayout.Rect(x: 0, y: 0, width: Self.width, height: Self.height)
        #expect(read(filter, source, slot, [whole]).kind == .unchanged)

        // One pixel at 13,7 (odd row: the box starts a row above, from the kept picture).
        source.paint(x: 13, y: 7, value: 0xAB)
        let rect = ScreenLayout.Rect(x: 8, y: 4, width: 16, height: 8)
        let damage = read(filter, source, slot, [rect])
        #expect(damage.kind == .rectangles && damage.count == 1)
        let box = damage[0]
        #expect(box.x == 12 && box.y == 6 && box.width == 2 && box.height == 2, "\(box)")
        // The box in the slot is the source's picture, every pixel of it.
        for y in box.y..<box.y + box.height {
            for x in box.x..<box.x + box.width {
                let at = box.offset! + (y - box.y) * box.bytesPerRow + (x - box.x) * Self.bytesPerPixel
                let got = (0..<Self.bytesPerPixel).map { slot.load(fromByteOffset: at + $0, as: UInt8.self) }
                #expect(got == source.pixel(x: x, y: y), "pixel \(x),\(y)")
            }
        }
        // Kept: the same repaint again is unchanged.
        #expect(read(filter, source, slot, [rect]).kind == .unchanged)
    }

    @Test func mostOfTheReadChangedRestsTheComparisonAndAWholeChangeIsFull() {
        let source = Source()
        let filter = loadedFilter(source)
        let slot = UnsafeMutableRawPointer.allocate(byteCount: Self.width * Self.height * Self.bytesPerPixel, alignment: 64)
        defer { slot.deallocate() }
        for y in 0..<Self.height {
            for x in 0..<Self.width { source.paint(x: x, y: y, value: UInt8(truncatingIfNeeded: x &+ y &+ 1) | 1) }
        }
        let whole = ScreenLayout.Rect(x: 0, y: 0, width: Self.width, height: Self.height)
        // Byte 0 of every pixel changed (painted odd, was index*13: 0 mod 4 ... even): the box is the frame.
        let damage = read(filter, source, slot, [whole])
        #expect(damage.kind == .full)
        #expect(!filter.isComparing, "full motion rests the comparison")
    }
}
