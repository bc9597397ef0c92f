import CX11

/// The sync probe's picture: an undecorated black window over the captured
/// region on its own X connection, whose middle third (the ramp region) the
/// probe fills with a grey level. Used by one thread at a time (Xlib without
/// `XInitThreads`).
///
/// Only the middle third is redrawn: a ramp redraws it about every
/// millisecond, and a third of 1920x1080 (640x360) costs Xvfb a small part
/// of that, where the whole window would hold the server for about one.
package final class FlashWindow: @unchecked Sendable {
    private let display: OpaquePointer
    private let window: Window
    private let gc: GC
    private let width: UInt32
    private let height: UInt32

    /// Where the grey is drawn, as fractions of the window: by default its
    /// middle third each way, where the analyses read a patch
    /// (`RampRegion.patch`).
    package let region: RampRegion

    /// Opens `displayName` and maps a black window of `width`x`height` at the
    /// top left, whose `region` `fill` draws.
    package init(displayName: String, width: Int, height: Int, region: RampRegion = .drawn) throws {
        self.region = region
        guard let display = XOpenDisplay(displayName) else { throw ProbeFailure("cannot open X display \(displayName)") }
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
        XSetForeground(display, gc, 0)
        XFillRectangle(display, window, gc, 0, 0, self.width, self.height)
        XSync(display, 0)
    }

    /// Fills the ramp region with grey `level` (0 black, 255 white) and waits
    /// until the X server has done it: when this returns, the pixels are in
    /// the server's framebuffer (Xvfb draws while it processes the request,
    /// and answers `XSync` right after it), so any later grab sees them and
    /// any grab the server handled before it does not.
    package func fill(level: UInt8) {
        let grey = UInt(level)
        XSetForeground(display, gc, grey << 16 | grey << 8 | grey)
        let (x, y, w, h) = region.pixels(width: Int(width), height: Int(height))
        XFillRectangle(display, window, gc, Int32(x), Int32(y), UInt32(w), UInt32(h))
        XSync(display, 0)
    }

    deinit {
        XFreeGC(display, gc)
        XDestroyWindow(display, window)
        XCloseDisplay(display)
    }
}

/// A rectangle as fractions of a picture, so that the probe, the pure
/// capture and the file analysis (which may read a scaled picture) agree.
package struct RampRegion {
    package var x: Double, y: Double, width: Double, height: Double

    /// The whole picture.
    package static let whole = RampRegion(x: 0, y: 0, width: 1, height: 1)
    /// What the probe draws: the middle third each way.
    package static let drawn = RampRegion(x: 1.0 / 3, y: 1.0 / 3, width: 1.0 / 3, height: 1.0 / 3)
    /// What the analyses read: the middle sixth each way, well inside the
    /// drawn region, away from its edges (where the encoder's blocks straddle
    /// the edge and ring).
    package static let patch = RampRegion(x: 5.0 / 12, y: 5.0 / 12, width: 1.0 / 6, height: 1.0 / 6)

    /// The rectangle in a picture of `width`x`height`, in whole pixels.
    package func pixels(width: Int, height: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let left = Int((x * Double(width)).rounded()), top = Int((y * Double(height)).rounded())
        let right = Int(((x + self.width) * Double(width)).rounded())
        let bottom = Int(((y + self.height) * Double(height)).rounded())
        return (left, top, max(1, right - left), max(1, bottom - top))
    }
}
