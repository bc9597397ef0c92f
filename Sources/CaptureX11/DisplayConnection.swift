import CX11
import MediaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one owner of an Xlib `Display`: opens it, checks the screen's visual,
/// routes X errors to values instead of Xlib's default of exiting the process,
/// and closes it once.
///
/// Xlib's error handlers are process-wide: the first connection installs ours,
/// which record the error for the connection that caused it. When the server
/// goes away, Xlib's I/O-error exit handler (libX11 1.7+) marks the connection
/// broken and returns instead of exiting, so capture ends with an error event.
final class DisplayConnection: @unchecked Sendable {
    let display: OpaquePointer
    let name: String
    let screen: Int32
    let root: Window
    let visual: UnsafeMutablePointer<Visual>
    let depth: Int32
    let screenWidth: Int
    let screenHeight: Int
    /// How the screen's pixels are laid out in a grabbed image.
    private(set) var pixelFormat = PixelFormat.xrgb8888
    /// Set by the I/O-error exit handler, read by the capture thread.
    let broken = Atomic<Bool>(false)
    /// The last X protocol error code seen on this connection (0 for none).
    let lastErrorCode = Atomic<UInt8>(0)

    init(name requestedName: String?) throws(XError) {
        let resolved = requestedName ?? getenv("DISPLAY").map { String(cString: $0) } ?? ""
        Self.installErrorHandlers()
        guard let display = XOpenDisplay(requestedName) else {
            throw XError(.cannotOpenDisplay, display: resolved)
        }
        self.display = display
        name = resolved
        screen = XDefaultScreen(display)
        root = XRootWindow(display, screen)
        visual = XDefaultVisual(display, screen)
        depth = XDefaultDepth(display, screen)
        screenWidth = Int(XDisplayWidth(display, screen))
        screenHeight = Int(XDisplayHeight(display, screen))
        Self.register(self)
        XSetIOErrorExitHandler(display, { display, _ in
            DisplayConnection.lookup(display)?.broken.store(true, ordering: .releasing)
        }, nil)
        pixelFormat = try checkVisual()
    }

    deinit {
        Self.unregister(self)
        // After an I/O error the connection's state is undefined; closing it could
        // touch freed memory in Xlib, so the small Display struct is leaked instead.
        if !broken.load(ordering: .acquiring) { XCloseDisplay(display) }
    }

    /// The screen's TrueColor formats the encoder converts from, by their
    /// masks and pixel size (`PixelFormat`): 24 and 32 bits (BGRX words),
    /// 16 (RGB565), 15 (XRGB1555 in 16-bit words) and 30 (10 bits a channel
    /// in 32-bit words), little-endian. Colour-mapped visuals (PseudoColor,
    /// 8 bits and less) are refused: their pixels mean nothing without the
    /// colormap, which any client may change while recording.
    private static func pixelFormat(visualClass: Int32, depth: Int32, bitsPerPixel: Int32, red: UInt, green: UInt,
                                    blue: UInt) -> PixelFormat? {
        guard visualClass == TrueColor else { return nil }
        switch (depth, bitsPerPixel, red, green, blue) {
        case (24, 32, 0xFF0000, 0xFF00, 0xFF), (32, 32, 0xFF0000, 0xFF00, 0xFF): return .xrgb8888
        case (16, 16, 0xF800, 0x07E0, 0x001F): return .rgb565
        case (15, 16, 0x7C00, 0x03E0, 0x001F): return .xrgb1555
        case (30, 32, 0x3FF0_0000, 0x000F_FC00, 0x0000_03FF): return .xrgb2101010
        default: return nil
        }
    }

    private func checkVisual() throws(XError) -> PixelFormat {
        var bitsPerPixel: Int32 = 0
        var count: Int32 = 0
        if let formats = XListPixmapFormats(display, &count) {
            for i in 0..<Int(count) where formats[i].depth == depth { bitsPerPixel = formats[i].bits_per_pixel }
            XFree(formats)
        }
        let visualClass = visual.pointee.`class`
        // Pixels are read as little-endian words: an MSBFirst server (a
        // remote big-endian one) would need every word swapped.
        guard XImageByteOrder(display) == LSBFirst,
              let format = Self.pixelFormat(visualClass: visualClass, depth: depth, bitsPerPixel: bitsPerPixel,
                                            red: visual.pointee.red_mask, green: visual.pointee.green_mask,
                                            blue: visual.pointee.blue_mask)
        else {
            throw XError(.unsupportedVisual(depth: depth, bitsPerPixel: bitsPerPixel, visualClass: visualClass), display: name)
        }
        return format
    }

    /// Sends every queued request and waits for the server; returns the X error
    /// code the requests caused, or 0.
    func syncAndTakeError() -> UInt8 {
        XSync(display, 0)
        return lastErrorCode.exchange(0, ordering: .acquiringAndReleasing)
    }

    // MARK: Process-wide Xlib handlers

    /// Display address to connection address (bit patterns, so the table is Sendable).
    private static let registry = LockedValue<[UInt: UInt]>([:])
    private static let handlersInstalled = Atomic<Bool>(false)

    private static func register(_ connection: DisplayConnection) {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection.display)))
        let value = UInt(bitPattern: Int(bitPattern: Unmanaged.passUnretained(connection).toOpaque()))
        registry.withLock { $0[key] = value }
    }

    private static func unregister(_ connection: DisplayConnection) {
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection.display)))
        _ = registry.withLock { $0.removeValue(forKey: key) }
    }

    /// Errors are rare; a lock here is off every hot path.
    fileprivate static func lookup(_ display: OpaquePointer?) -> DisplayConnection? {
        guard let display else { return nil }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(display)))
        guard let value = registry.withLock({ $0[key] }), let pointer = UnsafeRawPointer(bitPattern: value) else { return nil }
        return Unmanaged<DisplayConnection>.fromOpaque(pointer).takeUnretainedValue()
    }

    private static func installErrorHandlers() {
        guard handlersInstalled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        XSetErrorHandler { display, event in
            if let event { DisplayConnection.lookup(display)?.lastErrorCode.store(event.pointee.error_code, ordering: .releasing) }
            return 0
        }
        // Returning lets Xlib go on to the per-display exit handler set above.
        XSetIOErrorHandler { _ in 0 }
    }
}
