public import CX11
import Foundation

/// A window the test draws known colours into, on its own X connection, so a
/// capture can be checked pixel by pixel.
public final class TestWindow {
    public let display: OpaquePointer
    public let window: Window
    public let gc: GC
    /// The screen's visual, to turn 0xRRGGBB into its pixel values.
    private let visual: UnsafeMutablePointer<Visual>

    /// Opens `displayName` and maps an undecorated window at (x, y).
    public init(displayName: String, x: Int, y: Int, width: Int, height: Int) throws {
        guard let display = XOpenDisplay(displayName) else { throw TestWindowError.cannotOpen(displayName) }
        self.display = display
        let screen = XDefaultScreen(display)
        let root = XRootWindow(display, screen)
        visual = XDefaultVisual(display, screen)
        window = XCreateSimpleWindow(display, root, Int32(x), Int32(y), UInt32(width), UInt32(height), 0, 0, 0)
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        XChangeWindowAttributes(display, window, UInt(CWOverrideRedirect), &attributes)
        XMapRaised(display, window)
        gc = XCreateGC(display, window, 0, nil)
        XSync(display, 0)
    }

    /// The pixel value of 0xRRGGBB on a TrueColor screen of any depth: each
    /// channel's top bits in its mask (the colour itself at 24 bits).
    public func pixel(_ color: UInt32) -> UInt {
        func channel(_ value: UInt32, _ mask: UInt) -> UInt {
            guard mask != 0 else { return 0 }
            let shift = mask.trailingZeroBitCount, bits = (mask >> shift).nonzeroBitCount
            let scaled = bits >= 8 ? UInt(value) << (bits - 8) | UInt(value) >> (16 - bits) : UInt(value) >> (8 - bits)
            return (scaled << shift) & mask
        }
        return channel(color >> 16 & 0xFF, visual.pointee.red_mask) | channel(color >> 8 & 0xFF, visual.pointee.green_mask)
            | channel(color & 0xFF, visual.pointee.blue_mask)
    }

    /// Fills a rectangle (window coordinates) with 0xRRGGBB.
    public func fill(_ color: UInt32, x: Int, y: Int, width: Int, height: Int) {
        XSetForeground(display, gc, pixel(color))
        XFillRectangle(display, window, gc, Int32(x), Int32(y), UInt32(width), UInt32(height))
    }

    /// Paints the whole window 0xRRGGBB and makes that its background, which
    /// the server repaints by itself whenever the window is exposed (after a
    /// RandR resize, for instance) without the test drawing again.
    public func setBackground(_ color: UInt32) {
        XSetWindowBackground(display, window, pixel(color))
        XClearWindow(display, window)
    }

    /// Gives the window a pointer that is a solid `side`x`side` square of
    /// 0xRRGGBB with its hot spot at (`hotspotX`, `hotspotY`): a core
    /// cursor from two all-ones bitmaps, which XFixes reports as opaque ARGB.
    public func defineSquareCursor(side: Int, colour: UInt32, hotspotX: Int, hotspotY: Int) {
        let rowBytes = (side + 7) / 8
        var bits = [CChar](repeating: -1, count: rowBytes * side)
        let source = XCreateBitmapFromData(display, window, &bits, UInt32(side), UInt32(side))
        let mask = XCreateBitmapFromData(display, window, &bits, UInt32(side), UInt32(side))
        func xColor(_ value: UInt32) -> XColor {
            var color = XColor()
            color.red = UInt16(value >> 16 & 0xFF) * 257
            color.green = UInt16(value >> 8 & 0xFF) * 257
            color.blue = UInt16(value & 0xFF) * 257
            return color
        }
        var foreground = xColor(colour), background = xColor(0)
        let cursor = XCreatePixmapCursor(display, source, mask, &foreground, &background, UInt32(hotspotX), UInt32(hotspotY))
        XDefineCursor(display, window, cursor)
        XFreePixmap(display, source)
        XFreePixmap(display, mask)
        XFreeCursor(display, cursor)
        XSync(display, 0)
    }

    /// Waits until the server has drawn everything asked so far.
    public func sync() { XSync(display, 0) }

    deinit {
        XFreeGC(display, gc)
        XDestroyWindow(display, window)
        XCloseDisplay(display)
    }
}

public enum TestWindowError: Error { case cannotOpen(String) }
