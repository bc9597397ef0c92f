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
        try checkVisual()
    }

    deinit {
        Self.unregister(self)
        // After an I/O error the connection's state is undefined; closing it could
        // touch freed memory in Xlib, so the small Display struct is leaked instead.
        if !broken.load(ordering: .acquiring) { XCloseDisplay(display) }
    }

    /// 24-bit and 32-bit TrueColor with the usual masks store pixels as 32-bit
    /// BGRX words: the layout the converter reads.
    private func checkVisual() throws(XError) {
        var bitsPerPixel: Int32 = 0
        var count: Int32 = 0
        if let formats = XListPixmapFormats(display, &count) {
            for i in 0..<Int(count) where formats[i].depth == depth { bitsPerPixel = formats[i].bits_per_pixel }
            XFree(formats)
        }
        let visualClass = visual.pointee.`class`
        let masksAreBGR = visual.pointee.red_mask == 0xFF0000 && visual.pointee.green_mask == 0xFF00
            && visual.pointee.blue_mask == 0xFF
        guard visualClass == TrueColor, depth == 24 || depth == 32, bitsPerPixel == 32, masksAreBGR else {
            throw XError(.unsupportedVisual(depth: depth, bitsPerPixel: bitsPerPixel, visualClass: visualClass), display: name)
        }
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
