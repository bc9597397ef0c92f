import CX11

/// The sync probe's picture: an undecorated window over the captured region
/// on its own X connection, filled black or white. Used by one thread at a
/// time (Xlib without `XInitThreads`).
final class FlashWindow: @unchecked Sendable {
    private let display: OpaquePointer
    private let window: Window
    private let gc: GC
    private let width: UInt32
    private let height: UInt32

    /// Opens `displayName` and maps a black window of `width`x`height` at the top left.
    init(displayName: String, width: Int, height: Int) throws {
        guard let display = XOpenDisplay(displayName) else { throw BenchFailure("cannot open X display \(displayName)") }
        self.display = display
        self.width = UInt32(width)
        self.height = UInt32(height)
        let screen = XDefaultScreen(display)
        window = XCreateSimpleWindow(display, XRootWindow(display, screen), 0, 0, UInt32(width), UInt32(height), 0, 0,
                                     XBlackPixel(display, screen))
        // No window manager runs on the bench; override-redirect keeps one from
        // moving or decorating it where one does.
        var attributes = XSetWindowAttributes()
        attributes.override_redirect = 1
        XChangeWindowAttributes(display, window, UInt(CWOverrideRedirect), &attributes)
        XMapRaised(display, window)
        gc = XCreateGC(display, window, 0, nil)
        fill(white: false)
    }

    /// Fills the window and waits until the X server has done it: when this
    /// returns, the pixels are in the server's framebuffer (Xvfb draws while
    /// it processes the request), so any later grab sees them.
    func fill(white: Bool) {
        XSetForeground(display, gc, white ? 0xFFFFFF : 0)
        XFillRectangle(display, window, gc, 0, 0, width, height)
        XSync(display, 0)
    }

    deinit {
        XFreeGC(display, gc)
        XDestroyWindow(display, window)
        XCloseDisplay(display)
    }
}
