/// Where the pointer was when a frame was grabbed, and which of the
/// capture's published shapes it had (`CursorShapes`).
///
/// The pointer is never part of a frame's pixels: X servers leave it out of
/// `GetImage`, and the encoder keeps one persistent picture that damage
/// updates, so a pointer drawn into it would stay behind wherever it had
/// been. The encoder composites it onto each picture it hands to x264 and
/// takes it off again (see `CursorOverlay`).
public struct CursorPlacement: Sendable, Equatable {
    /// The pointer's hot spot in the frame's pixels (the region's top-left is
    /// 0, 0); the shape may reach past the frame's edges, which clip it.
    public var x: Int
    public var y: Int
    /// `CursorShape.serial` of the shape to draw.
    public var shape: UInt32

    public init(x: Int, y: Int, shape: UInt32) {
        self.x = x
        self.y = y
        self.shape = shape
    }
}
