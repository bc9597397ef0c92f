/// One pointer image, as the X server's XFixes extension gives it: 32-bit
/// ARGB words with premultiplied alpha (bytes B, G, R, A in memory), rows of
/// `width * 4` bytes, in a buffer of the capture's `CursorShapes` pool.
public struct CursorShape: ~Copyable, Sendable {
    public var buffer: PooledBuffer
    public let width: Int
    public let height: Int
    /// The hot spot inside the image: the pixel that is at the pointer's position.
    public let hotspotX: Int
    public let hotspotY: Int
    /// Increases with each shape the capture publishes (from 1).
    public let serial: UInt32

    public init(buffer: consuming PooledBuffer, width: Int, height: Int, hotspotX: Int, hotspotY: Int, serial: UInt32) {
        self.buffer = buffer
        self.width = width
        self.height = height
        self.hotspotX = hotspotX
        self.hotspotY = hotspotY
        self.serial = serial
    }
}
