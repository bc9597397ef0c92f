public import CX11
import Foundation

/// A window the test draws known colours into, on its own X connection, so a
/// capture can be checked pixel by pixel.
public final class TestWindow {
    public let display: OpaquePointer
    public let window: Window
    public let gc: GC

    /// Opens `displayName` and maps an undecorated window at (x, y).
    public init(displayName: String, x: Int, y: Int, width: Int, height: Int) throws {
        guard let display = XOpenDisplay(displayName) else { throw TestWindowError.cannotOpen(displayName) }
        self.display = display
        let screen = XDefaultScreen(display)
        let root = XRootWindow(display, screen)
        window = XCreateSimpleWindow(display, root, Int32(x), Int32(y), UInt32(width), UInt32(height), 0, 0, 0)
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        XChangeWindowAttributes(display, window, UInt(CWOverrideRedirect), &attributes)
        XMapRaised(display, window)
        gc = XCreateGC(display, window, 0, nil)
        XSync(display, 0)
    }

    /// Fills a rectangle (window coordinates) with 0xRRGGBB.
    public func fill(_ color: UInt32, x: Int, y: Int, width: Int, height: Int) {
        XSetForeground(display, gc, UInt(color))
        XFillRectangle(display, window, gc, Int32(x), Int32(y), UInt32(width), UInt32(height))
    }

    /// Paints the whole window 0xRRGGBB and makes that its background, which
    /// the server repaints by itself whenever the window is exposed (after a
    /// RandR resize, for instance) without the test drawing again.
    public func setBackground(_ color: UInt32) {
        XSetWindowBackground(display, window, UInt(color))
        XClearWindow(display, window)
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
