import CFFmpeg
import CYUV
public import MediaCore

/// One persistent I420 (yuv420p) picture that encoders read: the capture-size
/// picture every grab is converted into, or a rendition's scaled copy of it.
///
/// It is an `AVFrame` with its own buffers, allocated once, so any number of
/// encoders at its size send it to libx264 as it is: libavcodec takes a
/// reference for the duration of the send and libx264 copies the pixels in,
/// so the picture is writable again (refcount 1) when the send returns and
/// is updated in place from frame to frame, never copied. Each encoder sets
/// its own `pts` and picture type on it just before its send.
///
/// Not thread-safe: the video encode thread alone writes and sends it.
public final class I420Picture: @unchecked Sendable {
    /// Size in pixels (even).
    public let width: Int
    public let height: Int
    let frame: EncoderFrame

    /// Allocates a `width`x`height` picture, black (BT.601 limited range).
    public init(width: Int, height: Int) throws {
        guard width > 0, height > 0, width % 2 == 0, height % 2 == 0 else {
            throw InvalidSetting(.pictureSize, value: "\(width)x\(height)", reason: "must be positive and even")
        }
        self.width = width
        self.height = height
        frame = try EncoderFrame(yuv420pWidth: width, height: height)
        fillBlack(x: 0, y: 0, width: width, height: height)
    }

    /// The planes, to write into (after `makeWritable()`) or read.
    public var planes: I420Planes {
        I420Planes(y: frame.plane(0), u: frame.plane(1), v: frame.plane(2),
                   strideY: frame.stride(0), strideU: frame.stride(1), strideV: frame.stride(2),
                   width: width, height: height)
    }

    /// Makes sure no encoder still holds the buffers before they are written
    /// (a copy only if one does, which libx264 never does after a send).
    @inline(__always)
    public func makeWritable() throws {
        try frame.makeWritable()
    }

    /// Paints a rectangle (even place and size) BT.601 limited-range black,
    /// as libyuv's `ARGBToI420` makes black: Y 16, U and V 128.
    public func fillBlack(x: Int, y: Int, width: Int, height: Int) {
        guard width > 0, height > 0 else { return }
        let planes = planes
        let status = I420Rect(planes.y, Int32(planes.strideY), planes.u, Int32(planes.strideU),
                              planes.v, Int32(planes.strideV), Int32(x), Int32(y), Int32(width), Int32(height),
                              16, 128, 128)
        precondition(status == 0, "libyuv I420Rect failed (\(status))")
    }

    /// Runs `body` with the luma plane: its address, stride in bytes, width
    /// and height in samples. Valid only during `body`, on the encode thread.
    @inline(__always)
    public func withLuma<Result>(_ body: (UnsafePointer<UInt8>, Int, Int, Int) -> Result) -> Result {
        body(UnsafePointer(frame.plane(0)), frame.stride(0), width, height)
    }
}
