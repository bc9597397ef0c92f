import CX11
import MediaCore

/// Follows the pointer for a capture that draws it: its image through the
/// XFixes extension, fetched (`XFixesGetCursorImage`, one round trip) only
/// when the server says it changed (`XFixesCursorNotify`, selected on the
/// root window), and its position by one `XQueryPointer` round trip per frame.
///
/// XFixes sends no event when the pointer moves, and core motion events on
/// the root window stop at the first child window that selects them, so the
/// position is polled, once per frame on the capture thread, right after the
/// frame's grab (or in its place when nothing changed): the frame carries
/// where the pointer was when its picture was taken. `capbench cursor`
/// measures what this costs.
///
/// Used by the capture thread only.
final class CursorTracker {
    let connection: DisplayConnection
    /// `XFixesCursorNotify`'s event type on this connection.
    let notifyEventType: Int32
    /// Where the images go, for the encoder.
    let shapes = CursorShapes()
    /// The image must be fetched again (at start, and after each notify).
    private var shapeChanged = true
    /// The last published shape (0: none yet) and what placement needs of it.
    private var serial: UInt32 = 0
    private var width = 0, height = 0, hotspotX = 0, hotspotY = 0

    /// nil when the server has no XFixes extension.
    init?(connection: DisplayConnection) {
        var eventBase: Int32 = 0, errorBase: Int32 = 0
        guard XFixesQueryExtension(connection.display, &eventBase, &errorBase) != 0 else { return nil }
        var major: Int32 = 0, minor: Int32 = 0
        guard XFixesQueryVersion(connection.display, &major, &minor) != 0 else { return nil }
        self.connection = connection
        notifyEventType = eventBase + Int32(XFixesCursorNotify)
        XFixesSelectCursorInput(connection.display, connection.root, UInt(XFixesDisplayCursorNotifyMask))
        guard connection.syncAndTakeError() == 0 else { return nil }
    }

    /// A `XFixesCursorNotify` arrived: the image is fetched before the next placement.
    func shapeDidChange() { shapeChanged = true }

    /// Where the pointer is now over `region`'s frame, with the shape to draw;
    /// nil when it is on another screen, entirely outside the region, or no
    /// shape has been published yet.
    func placement(in region: CaptureRegion) -> CursorPlacement? {
        if shapeChanged { fetchShape() }
        guard serial != 0 else { return nil }
        var root: Window = 0, child: Window = 0
        var rootX: Int32 = 0, rootY: Int32 = 0, windowX: Int32 = 0, windowY: Int32 = 0
        var mask: UInt32 = 0
        guard XQueryPointer(connection.display, connection.root, &root, &child, &rootX, &rootY, &windowX, &windowY,
                            &mask) != 0
        else { return nil }
        let x = Int(rootX) - region.x, y = Int(rootY) - region.y
        let left = x - hotspotX, top = y - hotspotY
        guard left < region.width, top < region.height, left + width > 0, top + height > 0 else { return nil }
        return CursorPlacement(x: x, y: y, shape: serial)
    }

    /// Reads the current image and publishes it; on failure (no image, no
    /// room for it yet) it is tried again on the next frame.
    private func fetchShape() {
        guard let image = XFixesGetCursorImage(connection.display) else { return }
        defer { XFree(image) }
        let fullWidth = Int(image.pointee.width), fullHeight = Int(image.pointee.height)
        let fullHotX = Int(image.pointee.xhot), fullHotY = Int(image.pointee.yhot)
        guard fullWidth > 0, fullHeight > 0, let pixels = image.pointee.pixels else { return }
        // A pointer larger than the shapes' buffers keeps the part around its hot spot.
        let side = CursorShapes.maximumSide
        let cropX = fullWidth > side ? min(max(0, fullHotX - side / 2), fullWidth - side) : 0
        let cropY = fullHeight > side ? min(max(0, fullHotY - side / 2), fullHeight - side) : 0
        let shapeWidth = min(fullWidth, side), shapeHeight = min(fullHeight, side)
        let published = shapes.publish(width: shapeWidth, height: shapeHeight, hotspotX: fullHotX - cropX,
                                       hotspotY: fullHotY - cropY) { target in
            // XFixes hands each 32-bit ARGB pixel in an `unsigned long`: 8 bytes on LP64.
            for row in 0..<shapeHeight {
                let source = pixels + (row + cropY) * fullWidth + cropX
                let destination = target + row * shapeWidth
                for column in 0..<shapeWidth {
                    destination[column] = UInt32(truncatingIfNeeded: source[column])
                }
            }
        }
        guard let published else { return }
        serial = published
        (width, height, hotspotX, hotspotY) = (shapeWidth, shapeHeight, fullHotX - cropX, fullHotY - cropY)
        shapeChanged = false
    }
}
