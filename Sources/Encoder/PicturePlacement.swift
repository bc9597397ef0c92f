/// Where a capture lies in a rendition's picture: the rectangle (in the
/// picture's samples; all of it, or inside letterbox bars) that a
/// `captureWidth`x`captureHeight` capture was scaled into. Maps a place in
/// the capture (the pointer's) into the picture.
public struct PicturePlacement: Sendable, Equatable {
    public let x: Int
    public let y: Int
    public let width: Int
    public let height: Int
    /// The capture's size, in its pixels.
    public let captureWidth: Int
    public let captureHeight: Int

    public init(x: Int, y: Int, width: Int, height: Int, captureWidth: Int, captureHeight: Int) {
        precondition(captureWidth > 0 && captureHeight > 0, "a capture has a size")
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.captureWidth = captureWidth
        self.captureHeight = captureHeight
    }
}
