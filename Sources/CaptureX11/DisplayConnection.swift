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
///
/// Every call has a deadline: opening waits at most `answerTimeout` (on a
/// thread of its own, abandoned if the server never answers), and callers
/// `arm()` before their calls and `disarm()` after; a call still blocked at
/// its deadline is interrupted by `DisplayWatchdog` (the socket is shut
/// down), the connection breaks as if the server had gone away, and
/// `lostError` says the server does not answer (`XError.Kind.notAnswering`).
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
    /// Nanoseconds the server may take to answer a call.
    let answerTimeout: Int64
    /// Clock time (`monotonicNow`) by which the call under way must be
    /// answered; 0 when none is.
    let callDeadline = Atomic<Int64>(0)
    /// The watchdog interrupted a call: the server did not answer in time.
    let timedOut = Atomic<Bool>(false)
    /// A stop or a teardown is under way: calls get `shortTimeout`.
    private let hurried = Atomic<Bool>(false)
    /// What a call may take once the owner stops the capture or closes the
    /// connection: a stop finishes within about this, whatever the server does.
    static let shortTimeout: Int64 = 1_000_000_000

    /// Opens `requestedName` (nil: `$DISPLAY`); a server that accepts the
    /// connection but does not answer within `answerTimeout` nanoseconds is
    /// `notAnswering`.
    init(name requestedName: String?, answerTimeout: Int64) throws(XError) {
        let resolved = requestedName ?? getenv("DISPLAY").map { String(cString: $0) } ?? ""
        Self.installErrorHandlers()
        self.answerTimeout = answerTimeout
        let display = try DisplayOpening.open(requestedName, resolvedName: resolved, timeout: answerTimeout)
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
        DisplayWatchdog.shared.watch(self)
        pixelFormat = try checkVisual()
    }

    deinit {
        // What XCloseDisplay waits for, under a deadline; then the watchdog
        // lets go of the socket before Xlib closes it (its own sync after
        // this one has nothing left to wait for).
        hurry()
        arm()
        if !broken.load(ordering: .acquiring) { XSync(display, 0) }
        disarm()
        DisplayWatchdog.shared.unwatch(self)
        Self.unregister(self)
        if !broken.load(ordering: .acquiring) {
            XCloseDisplay(display)
        } else {
            // After an I/O error the connection's state is undefined; closing it
            // could touch freed memory in Xlib, so the small Display struct is
            // leaked instead, but not its socket.
            close(XConnectionNumber(display))
        }
    }

    // MARK: Deadlines

    /// `CLOCK_MONOTONIC` in nanoseconds (the watchdog's clock, whatever
    /// clock the capture paces by).
    @inline(__always)
    static func monotonicNow() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Gives the calls from now to `disarm()` a deadline: `answerTimeout`
    /// from now, or `shortTimeout` once hurried. No lock, no allocation.
    @inline(__always)
    func arm() {
        let now = Self.monotonicNow()
        callDeadline.store(now + answerTimeout, ordering: .sequentiallyConsistent)
        // Pairs with `hurry()`: one of the two sees the other.
        if hurried.load(ordering: .sequentiallyConsistent) {
            callDeadline.store(now + min(answerTimeout, Self.shortTimeout), ordering: .sequentiallyConsistent)
            DisplayWatchdog.shared.deadlineShortened()
        }
    }

    @inline(__always)
    func disarm() {
        callDeadline.store(0, ordering: .sequentiallyConsistent)
    }

    /// From now on every call gets `shortTimeout`, the one under way too:
    /// the owner is stopping or closing, and waits for no slow server.
    func hurry() {
        hurried.store(true, ordering: .sequentiallyConsistent)
        let shortened = Self.monotonicNow() + min(answerTimeout, Self.shortTimeout)
        var current = callDeadline.load(ordering: .sequentiallyConsistent)
        while current != 0 && current > shortened {
            let (exchanged, original) = callDeadline.compareExchange(expected: current, desired: shortened,
                                                                     ordering: .sequentiallyConsistent)
            if exchanged { break }
            current = original
        }
        DisplayWatchdog.shared.deadlineShortened()
    }

    /// Called by the watchdog (under its lock, so never after `deinit`
    /// left it) when a call passed its deadline: shuts the socket down so
    /// that Xlib's blocked read or write fails and its I/O-error path runs.
    func interrupt() {
        callDeadline.store(0, ordering: .sequentiallyConsistent)
        timedOut.store(true, ordering: .releasing)
        shutdown(XConnectionNumber(display), Int32(SHUT_RDWR))
    }

    /// The error for a broken connection: the server went away, or did not
    /// answer in time.
    var lostError: XError {
        if timedOut.load(ordering: .acquiring) {
            return XError(.notAnswering(milliseconds: Int(answerTimeout / 1_000_000)), display: name)
        }
        return XError(.connectionLost, display: name)
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
    /// code the requests caused, or 0. The caller has armed a deadline.
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
