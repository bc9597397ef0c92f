/// How a captured picture's pixels are laid out in memory: the packed
/// little-endian formats of X TrueColor visuals, named as DRM fourcc names
/// them (most significant bits first, stored little-endian).
///
/// The X server hands the grabber its screen's own format, and the encoder
/// converts it to I420 in one libyuv pass where libyuv has one (every format
/// but `xrgb2101010`): converting a 16-bit screen to 32-bit BGRA first would
/// write and read back twice the bytes.
public enum PixelFormat: Sendable, Equatable, CustomStringConvertible {
    /// 24- or 32-bit TrueColor: bytes B, G, R, X (libyuv's `ARGB`).
    case xrgb8888
    /// 16-bit TrueColor, red 0xF800, green 0x07E0, blue 0x001F (libyuv's `RGB565`).
    case rgb565
    /// 15-bit TrueColor in 16-bit words, red 0x7C00, green 0x03E0, blue
    /// 0x001F, top bit unused (libyuv's `ARGB1555`, whose alpha I420 ignores).
    case xrgb1555
    /// 30-bit TrueColor (10 bits a channel) in 32-bit words, red 0x3FF00000,
    /// green 0x000FFC00, blue 0x000003FF (libyuv's `AR30`); the encoder keeps
    /// the top 8 bits of each channel.
    case xrgb2101010

    /// Bytes of one pixel.
    public var bytesPerPixel: Int {
        switch self {
        case .xrgb8888, .xrgb2101010: 4
        case .rgb565, .xrgb1555: 2
        }
    }

    public var description: String {
        switch self {
        case .xrgb8888: "XRGB8888"
        case .rgb565: "RGB565"
        case .xrgb1555: "XRGB1555"
        case .xrgb2101010: "XRGB2101010"
        }
    }
}
