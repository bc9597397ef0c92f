import CYUV
import MediaCore

/// Converts captured pixels of any `PixelFormat` to I420 (BT.601 limited
/// range, as libyuv's `ARGBToI420` makes it) into a rectangle of a picture:
/// one libyuv call straight to I420 for 32-bit BGRX (`ARGBToI420`), RGB565
/// (`RGB565ToI420`) and XRGB1555 (`ARGB1555ToI420`); 30-bit pixels, which
/// libyuv takes only to ARGB, go through a strip of a few rows
/// (`AR30ToARGB`, then `ARGBToI420`) that stays in the cache.
///
/// libyuv widens 5- and 6-bit channels by repeating their top bits (0x1F
/// becomes 0xFF, 0x10 becomes 0x84), so a 16-bit grey stays grey within
/// one step of its channels, and drops the low 2 bits of 10-bit ones.
///
/// Used by the encode thread only.
final class PictureConverter {
    /// Rows converted at once through `strip` (even, for 4:2:0).
    static let stripRows = 16
    /// ARGB rows for 30-bit pixels; allocated at the first such frame, once.
    private var strip: UnsafeMutableRawPointer?
    private var stripWidth = 0

    deinit { strip?.deallocate() }

    /// Converts the `width`x`height` rectangle at `source` (rows
    /// `bytesPerRow` apart, in `format`) into `target` at (`x`, `y`); place
    /// and size even.
    @inline(__always)
    func convert(_ source: UnsafePointer<UInt8>, format: PixelFormat, bytesPerRow: Int, x: Int, y: Int, width: Int,
                 height: Int, into target: I420Planes) {
        let yPlane = target.y + y * target.strideY + x
        let uPlane = target.u + (y / 2) * target.strideU + x / 2
        let vPlane = target.v + (y / 2) * target.strideV + x / 2
        let status: Int32
        switch format {
        case .xrgb8888:
            status = ARGBToI420(source, Int32(bytesPerRow), yPlane, Int32(target.strideY), uPlane, Int32(target.strideU),
                                vPlane, Int32(target.strideV), Int32(width), Int32(height))
        case .rgb565:
            status = RGB565ToI420(source, Int32(bytesPerRow), yPlane, Int32(target.strideY), uPlane, Int32(target.strideU),
                                  vPlane, Int32(target.strideV), Int32(width), Int32(height))
        case .xrgb1555:
            status = ARGB1555ToI420(source, Int32(bytesPerRow), yPlane, Int32(target.strideY), uPlane,
                                    Int32(target.strideU), vPlane, Int32(target.strideV), Int32(width), Int32(height))
        case .xrgb2101010:
            status = convert30Bit(source, bytesPerRow: bytesPerRow, width: width, height: height, y: yPlane, u: uPlane,
                                  v: vPlane, target: target)
        }
        // libyuv fails only on bad arguments, which the capture's checks exclude.
        precondition(status == 0, "libyuv conversion from \(format) failed (\(status))")
    }

    private func convert30Bit(_ source: UnsafePointer<UInt8>, bytesPerRow: Int, width: Int, height: Int,
                              y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>,
                              v: UnsafeMutablePointer<UInt8>, target: I420Planes) -> Int32 {
        if strip == nil || stripWidth < width {
            strip?.deallocate()
            // The picture's width bounds every rectangle: one allocation.
            stripWidth = max(width, target.width)
            strip = .allocate(byteCount: stripWidth * 4 * Self.stripRows, alignment: 64)
        }
        let argb = strip!.assumingMemoryBound(to: UInt8.self)
        var row = 0
        while row < height {
            let rows = min(Self.stripRows, height - row)
            var status = AR30ToARGB(source + row * bytesPerRow, Int32(bytesPerRow), argb, Int32(width * 4),
                                    Int32(width), Int32(rows))
            guard status == 0 else { return status }
            status = ARGBToI420(argb, Int32(width * 4), y + row * target.strideY, Int32(target.strideY),
                                u + (row / 2) * target.strideU, Int32(target.strideU),
                                v + (row / 2) * target.strideV, Int32(target.strideV), Int32(width), Int32(rows))
            guard status == 0 else { return status }
            row += rows
        }
        return 0
    }
}
