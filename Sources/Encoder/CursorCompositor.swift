package import MediaCore

/// Draws the pointer onto the encoder's I420 picture just before x264 takes
/// it, and puts back what it covered right after: the persistent picture,
/// which damage keeps up to date rectangle by rectangle and the frozen-picture
/// check reads, never holds a pointer. Drawing costs the pointer's own pixels
/// (a few thousand), not a pass over the picture.
///
/// The shape's premultiplied ARGB is blended in YUV: with the limited-range
/// BT.601 matrix libyuv's `ARGBToI420` uses, `Y = 16 + K·RGB` is affine, so
/// for `out = C + (1 - α) · background` (premultiplied `C`),
/// `Y_out = 16 + K·C + (1 - α) · (Y_bg - 16)`, exact per pixel; and likewise
/// for U and V (around 128) on each 2x2 block with the block's mean colour
/// and alpha, which is what 4:2:0 keeps of any picture. An opaque pixel comes
/// out as `ARGBToI420` would make it.
///
/// Used by the encode thread only (`package`: `capbench cursor` times it).
package final class CursorCompositor {
    /// The covered rectangle (even place and size, in luma samples) and its
    /// saved planes: luma, then U, then V.
    private var covered: (x: Int, y: Int, width: Int, height: Int)?
    private let saved: UnsafeMutablePointer<UInt8>
    private static let savedCapacity: Int = {
        let side = CursorShapes.maximumSide + 2
        return side * side + 2 * (side / 2) * (side / 2)
    }()

    package init() {
        saved = .allocate(capacity: Self.savedCapacity)
    }

    deinit { saved.deallocate() }

    /// Draws `overlay` onto `picture`, whose content comes from a capture of
    /// `inputWidth`x`inputHeight` (the hot spot is scaled to the picture's
    /// size; the shape is drawn at its own size). Saves what it covers.
    package func draw(_ overlay: CursorOverlay, onto picture: I420Planes, inputWidth: Int, inputHeight: Int) {
        precondition(covered == nil, "restore the picture before drawing again")
        let hotX = picture.width == inputWidth ? overlay.x : overlay.x * picture.width / inputWidth
        let hotY = picture.height == inputHeight ? overlay.y : overlay.y * picture.height / inputHeight
        let left = hotX - overlay.hotspotX, top = hotY - overlay.hotspotY
        let x0 = max(0, left) & ~1, y0 = max(0, top) & ~1
        let x1 = min(picture.width & ~1, (left + overlay.width + 1) & ~1)
        let y1 = min(picture.height & ~1, (top + overlay.height + 1) & ~1)
        guard x1 > x0, y1 > y0 else { return }
        let width = x1 - x0, height = y1 - y0
        covered = (x0, y0, width, height)
        save(picture, x: x0, y: y0, width: width, height: height)

        let pixels = overlay.pixels.assumingMemoryBound(to: UInt32.self)
        @inline(__always) func pixel(_ x: Int, _ y: Int) -> UInt32 {
            let column = x - left, row = y - top
            guard column >= 0, column < overlay.width, row >= 0, row < overlay.height else { return 0 }
            return pixels[row * overlay.width + column]
        }
        // Luma, pixel by pixel.
        for y in y0..<y1 {
            let line = picture.y + y * picture.strideY
            for x in x0..<x1 {
                let argb = pixel(x, y)
                let alpha = Int(argb >> 24)
                guard alpha != 0 || argb & 0xFFFFFF != 0 else { continue }
                let (r, g, b) = (Int(argb >> 16 & 0xFF), Int(argb >> 8 & 0xFF), Int(argb & 0xFF))
                let background = Int(line[x]) - 16
                let value = 16 + ((66 * r + 129 * g + 25 * b + 128) >> 8) + (background * (255 - alpha) + 127) / 255
                line[x] = UInt8(clamping: value)
            }
        }
        // Chroma, 2x2 block by block, on the block's sums.
        for blockY in (y0 / 2)..<(y1 / 2) {
            let uLine = picture.u + blockY * picture.strideU, vLine = picture.v + blockY * picture.strideV
            for blockX in (x0 / 2)..<(x1 / 2) {
                var (alpha, r, g, b) = (0, 0, 0, 0)
                @inline(__always) func add(_ argb: UInt32) {
                    alpha += Int(argb >> 24)
                    r += Int(argb >> 16 & 0xFF)
                    g += Int(argb >> 8 & 0xFF)
                    b += Int(argb & 0xFF)
                }
                add(pixel(2 * blockX, 2 * blockY))
                add(pixel(2 * blockX + 1, 2 * blockY))
                add(pixel(2 * blockX, 2 * blockY + 1))
                add(pixel(2 * blockX + 1, 2 * blockY + 1))
                guard alpha != 0 || r != 0 || g != 0 || b != 0 else { continue }
                // Sums of four pixels, hence 1020 for full alpha and /1024 (4 * 256).
                let u = Self.divideRounded(112 * b - 74 * g - 38 * r, 1024)
                let v = Self.divideRounded(112 * r - 94 * g - 18 * b, 1024)
                uLine[blockX] = UInt8(clamping: 128 + u + (Int(uLine[blockX]) - 128) * (1020 - alpha) / 1020)
                vLine[blockX] = UInt8(clamping: 128 + v + (Int(vLine[blockX]) - 128) * (1020 - alpha) / 1020)
            }
        }
    }

    /// Puts back what the last `draw` covered (into `picture`'s planes,
    /// which may be new buffers holding a copy of the drawn picture).
    package func restore(_ picture: I420Planes) {
        guard let (x0, y0, width, height) = covered else { return }
        covered = nil
        var source = UnsafePointer(saved)
        Self.copy(from: &source, into: picture.y, stride: picture.strideY, x: x0, y: y0, width: width, height: height)
        Self.copy(from: &source, into: picture.u, stride: picture.strideU, x: x0 / 2, y: y0 / 2, width: width / 2,
                  height: height / 2)
        Self.copy(from: &source, into: picture.v, stride: picture.strideV, x: x0 / 2, y: y0 / 2, width: width / 2,
                  height: height / 2)
    }

    private func save(_ picture: I420Planes, x x0: Int, y y0: Int, width: Int, height: Int) {
        var target = saved
        Self.copy(picture.y, stride: picture.strideY, x: x0, y: y0, width: width, height: height, to: &target)
        Self.copy(picture.u, stride: picture.strideU, x: x0 / 2, y: y0 / 2, width: width / 2, height: height / 2,
                  to: &target)
        Self.copy(picture.v, stride: picture.strideV, x: x0 / 2, y: y0 / 2, width: width / 2, height: height / 2,
                  to: &target)
    }

    /// A plane's rectangle into consecutive bytes at `target`, which advances.
    private static func copy(_ plane: UnsafeMutablePointer<UInt8>, stride: Int, x: Int, y: Int, width: Int, height: Int,
                             to target: inout UnsafeMutablePointer<UInt8>) {
        for row in 0..<height {
            target.update(from: plane + (y + row) * stride + x, count: width)
            target += width
        }
    }

    /// Consecutive bytes at `source`, which advances, back into a plane's rectangle.
    private static func copy(from source: inout UnsafePointer<UInt8>, into plane: UnsafeMutablePointer<UInt8>,
                             stride: Int, x: Int, y: Int, width: Int, height: Int) {
        for row in 0..<height {
            (plane + (y + row) * stride + x).update(from: source, count: width)
            source += width
        }
    }

    @inline(__always)
    private static func divideRounded(_ value: Int, _ divisor: Int) -> Int {
        value >= 0 ? (value + divisor / 2) / divisor : -((-value + divisor / 2) / divisor)
    }
}
