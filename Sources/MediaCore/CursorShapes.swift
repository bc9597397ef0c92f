/// The pointer shapes a display capture publishes for its consumer: a pool of
/// image buffers made at start and a lock-free ring that hands each new shape
/// over, in order. Shapes change rarely (an arrow becomes a hand or a text
/// cursor); frames only carry a shape's serial (`CursorPlacement`).
///
/// The producer (the capture thread) fills a buffer and queues it; when no
/// buffer is free or the ring is full it says so and tries again on a later
/// frame, which meanwhile carries the previous shape's serial. The consumer
/// (the encode thread) takes shapes off the ring until it holds the one a
/// frame names, and keeps it until a later frame names a newer one: the
/// pixels an overlay points to stay put while the encoder may still draw
/// them (the frame, and repeats of it). Nothing allocates or locks after
/// `init`.
public final class CursorShapes: @unchecked Sendable {
    /// The largest image kept, in pixels a side; a larger pointer (rare:
    /// X cursor themes go up to 256 for high-density screens) is cropped
    /// around its hot spot.
    public static let maximumSide = 256

    /// One being filled, one held by the consumer, two in the ring.
    private let pool = BufferPool(count: 4, byteCount: maximumSide * maximumSide * 4)
    private let ring = SPSCRing<CursorShape>(minimumCapacity: 2)
    /// Producer side: the last serial handed out.
    private var lastSerial: UInt32 = 0
    /// Consumer side: the shape held, and a copy of what overlays need.
    private var held: CursorShape?
    private var heldSerial: UInt32 = 0
    private var heldPixels: UnsafeRawPointer?
    private var heldWidth = 0, heldHeight = 0, heldHotspotX = 0, heldHotspotY = 0

    public init() {}

    deinit {
        while let shape = ring.pop() { _ = consume shape }
        held = .none
    }

    // MARK: Producer (the capture thread)

    /// Publishes a `width`x`height` shape (each at most `maximumSide`) that
    /// `fill` writes into rows of `width` words; returns its serial, or nil
    /// when there is no room now (publish it again later).
    public func publish(width: Int, height: Int, hotspotX: Int, hotspotY: Int,
                        fill: (UnsafeMutablePointer<UInt32>) -> Void) -> UInt32? {
        precondition(width > 0 && height > 0 && width <= Self.maximumSide && height <= Self.maximumSide)
        guard let buffer = pool.acquire() else { return nil }
        fill(buffer.baseAddress.assumingMemoryBound(to: UInt32.self))
        let serial = lastSerial &+ 1
        let shape = CursorShape(buffer: buffer, width: width, height: height, hotspotX: hotspotX, hotspotY: hotspotY,
                                serial: serial)
        if let refused = ring.push(shape) {
            _ = consume refused
            return nil
        }
        lastSerial = serial
        return serial
    }

    // MARK: Consumer (the encode thread)

    /// The overlay for a frame's `placement`: takes newer shapes off the ring
    /// until it holds the one named. nil when the frame has no pointer.
    public func overlay(for placement: CursorPlacement?) -> CursorOverlay? {
        guard let placement else { return nil }
        if heldSerial != placement.shape {
            while let shape = ring.pop() {
                heldSerial = shape.serial
                heldPixels = UnsafeRawPointer(shape.buffer.baseAddress)
                (heldWidth, heldHeight) = (shape.width, shape.height)
                (heldHotspotX, heldHotspotY) = (shape.hotspotX, shape.hotspotY)
                held = .some(shape)
                if heldSerial == placement.shape { break }
            }
        }
        guard heldSerial == placement.shape, let heldPixels else { return nil }
        return CursorOverlay(pixels: heldPixels, width: heldWidth, height: heldHeight, hotspotX: heldHotspotX,
                             hotspotY: heldHotspotY, x: placement.x, y: placement.y, serial: heldSerial)
    }
}
