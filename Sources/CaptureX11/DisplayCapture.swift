import CX11
public import MediaCore
import Synchronization

/// Grabs the X display at a fixed rate into pooled buffers and hands each frame,
/// stamped on the session clock, to a ring the encoder reads.
///
/// With MIT-SHM the X server writes straight into a pooled shared-memory
/// segment, the frame travels down the ring as that buffer, and the buffer goes
/// back to the pool when the encoder drops the frame: no per-frame allocation and
/// no copy on our side. Without it (`XGetImage` path) the server sends the pixels
/// over the socket into the same kind of pooled buffer.
///
/// Pacing uses absolute deadlines `start + k/fps` on the clock. A grab that
/// starts a frame or more late is counted and the grabber moves on to the
/// current deadline; it never catches up in a burst. Frame `sequence` is `k`.
///
/// With DAMAGE (`tracksDamage`) a frame grabs only the rectangles that
/// changed since the last frame handed on, packed one after another in its
/// buffer (`VideoFrame.damage` says where each one goes), or nothing at all
/// when nothing changed (`.unchanged`): the encoder keeps the whole picture
/// and updates it. A frame the queue refused leaves its rectangles for the
/// next frame, so no change is lost.
///
/// Frames hold the screen's own pixel format (`pixelFormat`: 32-bit BGRX,
/// or 16-, 15- or 30-bit TrueColor); the encoder converts each to I420.
///
/// With `drawsCursor` each frame also says where the pointer is and which
/// shape it has (`VideoFrame.cursor`, shapes in `cursorShapes`), polled once
/// per frame (`CursorTracker`); the pixels never include it.
///
/// The screen may change size while capturing (RandR): the root window's
/// `ConfigureNotify`, or a grab the server refuses with `BadMatch` (a resize
/// it reported after the grab was sent), makes the grabber read the new size
/// and go on. Frames keep the region's size; the part of it off screen is
/// black. The pool's segments are the region's size, which is the most a
/// grab can ever need, so they are never re-created.
public final class DisplayCapture<Clock: MediaClock>: @unchecked Sendable {
    /// Pixels per row and rows of every frame.
    public let width: Int
    public let height: Int
    /// Where on the root window frames come from.
    public let region: CaptureRegion
    /// The method in use (never `.automatic`).
    public let method: GrabMethod
    /// Grabs per second.
    public let framesPerSecond: Int
    /// How the frames' pixels are laid out (the screen's visual).
    public let pixelFormat: PixelFormat
    /// The pointer's shapes for the consumer, when drawing it was asked for.
    public var cursorShapes: CursorShapes? { cursorTracker?.shapes }
    /// The display name in use.
    public var displayName: String { connection.name }
    /// Frames for the consumer, oldest first. Pop from one thread only.
    public let frames: SPSCRing<VideoFrame>
    /// Notified after each frame is queued and when capture ends, so the
    /// consumer can sleep while `frames` is empty instead of polling it.
    public let framesReady = WakeSignal()
    /// The buffers frames live in; the pool outlives every frame taken from it.
    public let pool: BufferPool

    private let clock: Clock
    private let counters: MediaCounters
    private let connection: DisplayConnection
    private let imageTable: UnsafeMutablePointer<UnsafeMutablePointer<XImage>>
    /// Set when frames follow DAMAGE; nil grabs every frame whole.
    private let damageTracker: DamageTracker?
    /// Why DAMAGE is not used although it was asked for.
    private let damageUnavailableReason: String?
    /// Set when the pointer is drawn.
    private let cursorTracker: CursorTracker?
    private let bytesPerPixel: Int
    /// An image header the sub-rectangle grabs point into a slot's segment.
    private let scratchImage: UnsafeMutablePointer<XImage>
    /// The capture thread's view of the screen and of what changed.
    private var layout: ScreenLayout
    private var pending = DamageAccumulator()
    private let running = Atomic<Bool>(false)
    /// Clock time of grab 0's deadline; `Int64.min` before capture starts.
    private let firstDeadline = Atomic<Int64>(.min)
    private var thread: MediaThread?

    /// Opens the display, checks the region against the screen and allocates the
    /// frame pool (ring capacity plus the frames the grabber and encoder hold).
    ///
    /// Throws `InvalidArgument` for a bad rate or a region off the screen and
    /// `XError` when the display cannot be opened, its visual is unsupported
    /// (naming its depth) or the pointer is asked for without XFixes.
    public init(configuration: DisplayCaptureConfiguration, clock: Clock, counters: MediaCounters) throws {
        try configuration.validate()
        let connection = try DisplayConnection(name: configuration.display)
        let region = configuration.region
            ?? CaptureRegion(width: connection.screenWidth & ~1, height: connection.screenHeight & ~1)
        try region.validate(screenWidth: connection.screenWidth, screenHeight: connection.screenHeight)

        let queueCapacity = configuration.queueCapacity(frameBytes: region.width * region.height * 4)
        if configuration.drawsCursor {
            guard let tracker = CursorTracker(connection: connection) else {
                throw XError(.cursorUnavailable, display: connection.name)
            }
            cursorTracker = tracker
        } else {
            cursorTracker = nil
        }
        let ring = SPSCRing<VideoFrame>(minimumCapacity: queueCapacity)
        // Every frame the queue may hold, plus the one being grabbed and the one
        // being encoded. Each 1080p slot is an 8 MB segment, so the pool, not the
        // ring's power-of-two capacity, bounds what is queued.
        let slotCount = queueCapacity + 2
        let slots: ImageSlots
        switch configuration.method {
        case .getImage:
            slots = try ImageSlots(connection: connection, method: .getImage, width: region.width, height: region.height, count: slotCount)
        case .sharedMemory:
            guard XShmQueryExtension(connection.display) != 0 else { throw XError(.sharedMemoryUnavailable, display: connection.name) }
            slots = try ImageSlots(connection: connection, method: .sharedMemory, width: region.width, height: region.height, count: slotCount)
        case .automatic:
            if XShmQueryExtension(connection.display) != 0,
               let shared = try? ImageSlots(connection: connection, method: .sharedMemory, width: region.width,
                                            height: region.height, count: slotCount) {
                slots = shared
            } else {
                slots = try ImageSlots(connection: connection, method: .getImage, width: region.width, height: region.height, count: slotCount)
            }
        }
        // The root's ConfigureNotify tells of RandR resizes.
        XSelectInput(connection.display, connection.root, StructureNotifyMask)
        if configuration.tracksDamage {
            damageTracker = DamageTracker(connection: connection)
            damageUnavailableReason = damageTracker == nil ? "the X server offers no DAMAGE extension" : nil
        } else {
            damageTracker = nil
            damageUnavailableReason = nil
        }
        layout = ScreenLayout(region: region, screenWidth: connection.screenWidth, screenHeight: connection.screenHeight)
        scratchImage = .allocate(capacity: 1)
        scratchImage.initialize(to: slots.images[0].pointee)
        self.connection = connection
        self.region = region
        self.clock = clock
        self.counters = counters
        width = region.width
        height = region.height
        method = slots.method
        framesPerSecond = configuration.framesPerSecond
        pixelFormat = connection.pixelFormat
        bytesPerPixel = connection.pixelFormat.bytesPerPixel
        frames = ring
        pool = BufferPool(adopting: slots.buffers, byteCount: slots.byteCount, memoryOwner: slots)
        imageTable = .allocate(capacity: slots.images.count)
        imageTable.initialize(from: slots.images, count: slots.images.count)
    }

    deinit {
        stop()
        // Queued frames point into the pool: return them before the pool goes.
        while let frame = frames.pop() { _ = consume frame }
        imageTable.deallocate()
        scratchImage.deallocate()
    }

    /// True when frames follow the X DAMAGE extension (only changes grabbed).
    public var tracksDamage: Bool { damageTracker != nil }

    /// Grabs one frame now, on the calling thread (not while capture runs).
    public func grabFrame(sequence: Int = 0) throws(XError) -> VideoFrame {
        precondition(!running.load(ordering: .relaxed), "grabFrame while capture is running")
        guard let buffer = pool.acquire() else { preconditionFailure("every frame of the pool is held by the caller") }
        let time = clock.now()
        try grab(into: buffer.index)
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: width * bytesPerPixel,
                          captureTime: time, sequence: sequence, pixelFormat: pixelFormat)
    }

    /// Starts the capture thread (named `grab`, with `context`'s tag, log
    /// target and CPU account). `onEvent` is called on that thread if capture
    /// has to stop on its own.
    ///
    /// The thread holds this object while it runs: the owner must call
    /// `stop()` (which joins it) before letting go.
    public func start(context: MediaThread.Context = MediaThread.Context(),
                      onEvent: @escaping @Sendable (DisplayCaptureEvent) -> Void) {
        precondition(thread == nil, "capture started twice")
        running.store(true, ordering: .releasing)
        thread = MediaThread(role: "grab", context: context, priority: .realTimeIfPermitted) { [self] in
            let failure = captureLoop(onEvent: onEvent)
            framesReady.notify()
            if let failure { onEvent(.failed(failure)) }
        }
    }

    /// Stops the capture thread and waits for it. Frames already queued stay in
    /// `frames` for the consumer.
    public func stop() {
        running.store(false, ordering: .releasing)
        thread?.join()
        thread = nil
    }

    /// The deadline the grab numbered `sequence` was paced to: the instant its
    /// picture stands for on the clock (it is taken a little after). Valid
    /// for frames the running capture has produced.
    public func deadline(ofSequence sequence: Int) -> Int64 {
        let start = firstDeadline.load(ordering: .acquiring)
        precondition(start != .min, "deadline asked before capture started")
        return deadline(Int64(sequence), from: start)
    }

    /// Deadlines count from the start, not from the previous grab: no drift.
    @inline(__always)
    private func deadline(_ sequence: Int64, from start: Int64) -> Int64 {
        start + sequence * Int64.nanosecondsPerSecond / Int64(framesPerSecond)
    }

    /// True while the capture thread runs (false after `stop` or a failure).
    public var isRunning: Bool { running.load(ordering: .acquiring) }

    private func captureLoop(onEvent: (DisplayCaptureEvent) -> Void) -> XError? {
        if let damageUnavailableReason {
            onEvent(.damageUnavailable(display: connection.name, reason: damageUnavailableReason))
        }
        let start = clock.now()
        firstDeadline.store(start, ordering: .releasing)
        let fps = Int64(framesPerSecond)
        let interval = Int64.nanosecondsPerSecond / fps
        var k: Int64 = 0
        // Grabs refused in a row; a resize costs one or two, a server that
        // refuses every grab for two seconds ends the capture.
        var refusedInARow = 0
        while running.load(ordering: .relaxed) {
            let due = deadline(k, from: start)
            clock.sleep(until: due)
            var now = clock.now()
            if now - due >= interval {
                counters.videoLateGrabs.add()
                let current = (now - start) * fps / Int64.nanosecondsPerSecond
                counters.videoSkippedDeadlines.add(Int(current - k))
                k = current
            }
            guard let buffer = pool.acquire() else {
                counters.videoFramesDroppedQueueFull.add()
                k += 1
                continue
            }
            now = clock.now()
            let damage: FrameDamage
            do {
                try readEvents(onEvent: onEvent)
                damage = try grabChanges(into: buffer.index, base: buffer.baseAddress)
                refusedInARow = 0
            } catch let error where error.isScreenMismatch && refusedInARow < 2 * framesPerSecond {
                // The screen changed under the grab before its event arrived.
                refusedInARow += 1
                screenChanged(onEvent: onEvent)
                k += 1
                continue
            } catch {
                running.store(false, ordering: .releasing)
                return error
            }
            // Where the pointer is as the picture is taken (a round trip;
            // the shape only when it changed).
            let cursor = cursorTracker?.placement(in: region)
            let frame = VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: width * bytesPerPixel,
                                   captureTime: now, sequence: Int(k), damage: damage, pixelFormat: pixelFormat,
                                   cursor: cursor)
            counters.videoFramesCaptured.add()
            if damage.kind == .unchanged { counters.videoFramesUnchanged.add() }
            if let refused = frames.push(frame) {
                // Ring full: drop the newest, keep the queue's older frames.
                // What it grabbed stays pending for the next frame.
                _ = consume refused
                counters.videoFramesDroppedQueueFull.add()
            } else {
                pending.clear()
                framesReady.notify()
            }
            k += 1
        }
        return nil
    }

    /// Reads what the server reported since the last frame: DAMAGE
    /// rectangles into `pending`, a root resize into `layout`. Never blocks.
    private func readEvents(onEvent: (DisplayCaptureEvent) -> Void) throws(XError) {
        let display = connection.display
        if connection.broken.load(ordering: .acquiring) { throw XError(.connectionLost, display: connection.name) }
        var event = XEvent()
        var damaged = false
        while XEventsQueued(display, QueuedAfterReading) > 0 {
            XNextEvent(display, &event)
            if event.type == ConfigureNotify {
                let configure = event.xconfigure
                if configure.window == connection.root
                    && (Int(configure.width) != layout.screenWidth || Int(configure.height) != layout.screenHeight) {
                    resize(width: Int(configure.width), height: Int(configure.height), onEvent: onEvent)
                }
            } else if let damageTracker, event.type == damageTracker.notifyEventType {
                let area = withUnsafeBytes(of: &event) { $0.load(as: XDamageNotifyEvent.self).area }
                pending.add(x: Int(area.x) - region.x, y: Int(area.y) - region.y,
                            width: Int(area.width), height: Int(area.height), within: layout.visible)
                damaged = true
            } else if let cursorTracker, event.type == cursorTracker.notifyEventType {
                cursorTracker.shapeDidChange()
            }
        }
        if damaged { damageTracker?.acknowledge() }
        if connection.broken.load(ordering: .acquiring) { throw XError(.connectionLost, display: connection.name) }
    }

    /// A grab was refused as if the screen had changed: asks the server for
    /// the root's size now (a round trip) and rebuilds the layout.
    private func screenChanged(onEvent: (DisplayCaptureEvent) -> Void) {
        _ = connection.lastErrorCode.exchange(0, ordering: .acquiringAndReleasing)
        var root: Window = 0
        var x: Int32 = 0, y: Int32 = 0
        var width: UInt32 = 0, height: UInt32 = 0, border: UInt32 = 0, depth: UInt32 = 0
        guard XGetGeometry(connection.display, connection.root, &root, &x, &y, &width, &height, &border, &depth) != 0
        else { return }
        if Int(width) != layout.screenWidth || Int(height) != layout.screenHeight {
            resize(width: Int(width), height: Int(height), onEvent: onEvent)
        }
        pending.markAll()
    }

    private func resize(width screenWidth: Int, height screenHeight: Int, onEvent: (DisplayCaptureEvent) -> Void) {
        layout = ScreenLayout(region: region, screenWidth: screenWidth, screenHeight: screenHeight)
        pending.markAll()
        counters.videoScreenSizeChanges.add()
        onEvent(.screenResized(width: screenWidth, height: screenHeight, visibleWidth: layout.visible.width,
                               visibleHeight: layout.visible.height, sentence: layout.describe(display: connection.name)))
    }

    /// Grabs what `pending` says changed into the slot and says where it put
    /// it. Without DAMAGE everything is pending every frame.
    private func grabChanges(into slot: Int32, base: UnsafeMutableRawPointer) throws(XError) -> FrameDamage {
        if damageTracker == nil { pending.markAll() }
        if pending.isEmpty { return .unchanged }
        let visible = layout.visible
        // Past half the picture, one whole grab costs less than many pieces.
        let whole = pending.all || pending.area * 2 > visible.area
        if whole && layout.isWhole {
            try grab(into: slot)
            counters.videoPixelsGrabbed.add(width * height)
            return .full
        }
        var damage = FrameDamage.rectangles
        var offset = 0
        if whole {
            if !visible.isEmpty { try grab(visible, into: slot, base: base, offset: &offset, damage: &damage) }
            // Two strips, no array: this runs every frame while the screen is small.
            if !layout.right.isEmpty { damage.append(Self.black(layout.right)) }
            if !layout.bottom.isEmpty { damage.append(Self.black(layout.bottom)) }
        } else {
            for index in 0..<pending.count {
                try grab(pending[index], into: slot, base: base, offset: &offset, damage: &damage)
            }
        }
        return damage
    }

    private static func black(_ strip: ScreenLayout.Rect) -> FrameDamage.Rectangle {
        FrameDamage.Rectangle(x: strip.x, y: strip.y, width: strip.width, height: strip.height, offset: nil, bytesPerRow: 0)
    }

    /// Grabs one rectangle of the frame. MIT-SHM writes it packed (rows of
    /// its own width) at `offset` in the slot's segment, through an image
    /// header of its size; `XGetSubImage` writes it at its place in the
    /// whole-frame layout.
    private func grab(_ rect: ScreenLayout.Rect, into slot: Int32, base: UnsafeMutableRawPointer, offset: inout Int,
                      damage: inout FrameDamage) throws(XError) {
        let allPlanes = UInt(bitPattern: -1)
        let ok: Bool
        let placed: FrameDamage.Rectangle
        switch method {
        case .sharedMemory:
            scratchImage.pointee = imageTable[Int(slot)].pointee
            scratchImage.pointee.width = Int32(rect.width)
            scratchImage.pointee.height = Int32(rect.height)
            scratchImage.pointee.bytes_per_line = Int32(rect.width * bytesPerPixel)
            scratchImage.pointee.data = (base + offset).assumingMemoryBound(to: CChar.self)
            ok = XShmGetImage(connection.display, connection.root, scratchImage, Int32(region.x + rect.x),
                              Int32(region.y + rect.y), allPlanes) != 0
            placed = FrameDamage.Rectangle(x: rect.x, y: rect.y, width: rect.width, height: rect.height,
                                           offset: offset, bytesPerRow: rect.width * bytesPerPixel)
            offset += rect.area * bytesPerPixel
        default:
            ok = XGetSubImage(connection.display, connection.root, Int32(region.x + rect.x), Int32(region.y + rect.y),
                              UInt32(rect.width), UInt32(rect.height), allPlanes, ZPixmap, imageTable[Int(slot)],
                              Int32(rect.x), Int32(rect.y)) != nil
            placed = FrameDamage.Rectangle(x: rect.x, y: rect.y, width: rect.width, height: rect.height,
                                           offset: (rect.y * width + rect.x) * bytesPerPixel,
                                           bytesPerRow: width * bytesPerPixel)
        }
        try check(ok)
        counters.videoPixelsGrabbed.add(rect.area)
        damage.append(placed)
    }

    @inline(__always)
    private func grab(into slot: Int32) throws(XError) {
        let image = imageTable[Int(slot)]
        let allPlanes = UInt(bitPattern: -1)
        let ok: Bool
        switch method {
        case .sharedMemory:
            ok = XShmGetImage(connection.display, connection.root, image, Int32(region.x), Int32(region.y), allPlanes) != 0
        default:
            ok = XGetSubImage(connection.display, connection.root, Int32(region.x), Int32(region.y),
                              UInt32(width), UInt32(height), allPlanes, ZPixmap, image, 0, 0) != nil
        }
        try check(ok)
    }

    /// Turns a failed grab into the error that says why.
    @inline(__always)
    private func check(_ ok: Bool) throws(XError) {
        if !ok || connection.broken.load(ordering: .relaxed) {
            if connection.broken.load(ordering: .acquiring) { throw XError(.connectionLost, display: connection.name) }
            let code = connection.lastErrorCode.exchange(0, ordering: .acquiringAndReleasing)
            if code != 0 {
                throw XError(.protocolError(request: method == .sharedMemory ? "XShmGetImage" : "XGetSubImage", code: code),
                             display: connection.name)
            }
            throw XError(.grabFailed(request: method == .sharedMemory ? "XShmGetImage" : "XGetSubImage"), display: connection.name)
        }
    }
}
