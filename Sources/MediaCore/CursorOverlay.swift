/// A pointer to draw onto one picture: a shape's pixels (premultiplied ARGB
/// words, see `CursorShape`) and where its hot spot goes. A view, valid while
/// the `CursorShapes` it came from holds the shape: for the frame being
/// encoded, and the repeats of it that follow.
public struct CursorOverlay {
    public let pixels: UnsafeRawPointer
    public let width: Int
    public let height: Int
    public let hotspotX: Int
    public let hotspotY: Int
    /// The hot spot's place in the picture, in the capture's pixels.
    public let x: Int
    public let y: Int
    /// The shape's serial: two overlays with the same serial and place draw
    /// the same pixels.
    public let serial: UInt32

    public init(pixels: UnsafeRawPointer, width: Int, height: Int, hotspotX: Int, hotspotY: Int, x: Int, y: Int,
                serial: UInt32) {
        self.pixels = pixels
        self.width = width
        self.height = height
        self.hotspotX = hotspotX
        self.hotspotY = hotspotY
        self.x = x
        self.y = y
        self.serial = serial
    }

    /// True when `other` draws the same shape at the same place.
    @inline(__always)
    public func drawsSame(as other: CursorOverlay?) -> Bool {
        guard let other else { return false }
        return serial == other.serial && x == other.x && y == other.y
    }
}
