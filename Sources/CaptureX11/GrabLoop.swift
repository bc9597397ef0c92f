import CX11
import MediaCore
import Synchronization

/// The capture thread's work: sleep to the next deadline, read the server's
/// events, grab what changed into a pooled buffer, queue it, repeat.
///
/// Kept apart from `DisplayCapture` so that the thread's body holds this
/// object, not the public one: a `DisplayCapture` nobody references any
/// more still runs its `deinit`, which stops and joins the thread (as
/// `CaptureLoop` is to `PCMCapture`). Everything a grab needs lives here:
/// the connection, the pool and its image headers, the trackers, the ring.
///
/// Per frame it allocates nothing and takes no lock; only the error path
/// builds an `XError`.
final class GrabLoop<Clock: MediaClock>: @unchecked Sendable {
    /// Free slots kept resident when the others give their pages back every
    /// `slotTrimSeconds`: a backlog fills the pool (8.3 MB a slot at 1080p),
    /// a steady recording then cycles through one or two (docs/BENCHMARKS.md,
    /// the soak).
    static var workingSlots: Int { 2 }

    let width: Int
    let height: Int
    let region: CaptureRegion
    let method: GrabMethod
    let framesPerSecond: Int
    let pixelFormat: PixelFormat
    let connection: DisplayConnection
    /// Set when frames follow DAMAGE; nil grabs every frame whole.
    let damageTracker: DamageTracker?
    /// Checks every `DamageAudit.checkSeconds` that DAMAGE reported every
    /// change (set with `damageTracker`).
    private let audit: DamageAudit?
    /// DAMAGE is followed: there is a tracker and no check caught it
    /// missing a change.
    private var trustsDamage: Bool
    /// Why DAMAGE is not used although it was asked for.
    let damageUnavailableReason: String?
    /// Drops what a damaged grab did not really change (set with
    /// `damageTracker`; full grabs stay the plain reference).
    private let repaints: RepaintFilter?
    /// Set when the pointer is drawn.
    let cursorTracker: CursorTracker?
    /// A local Xvfb's framebuffer (`-shmem`): frames the repaint filter
    /// compares are read there in place; nil on any other display.
    private let framebuffer: ServerFramebuffer?
    /// Compared frames read `framebuffer`: it is there and the screen has
    /// kept the size it was found at (after a resize every grab asks the
    /// server).
    private(set) var readsInPlace: Bool
    let frames: SPSCRing<VideoFrame>
    let framesReady = WakeSignal()
    let pool: BufferPool
    let running = Atomic<Bool>(false)
    /// Clock time of grab 0's deadline; `Int64.min` before capture starts.
    let firstDeadline = Atomic<Int64>(.min)
    /// The sequence of the last frame queued toward the encoder, -1 before one.
    let lastQueuedSequence = Atomic<Int>(-1)

    private let slotTrimFrames: Int64
    private let clock: Clock
    private let counters: MediaCounters
    private let imageTable: UnsafeMutablePointer<UnsafeMutablePointer<XImage>>
    private let bytesPerPixel: Int
    /// An image header the sub-rectangle grabs point into a slot's segment.
    private let scratchImage: UnsafeMutablePointer<XImage>
    /// The capture thread's view of the screen and of what changed.
    private var layout: ScreenLayout
    private var pending = DamageAccumulator()

    /// Takes over what `DisplayCapture.init` opened: the connection and the
    /// slots (whose memory the pool now owns).
    init(connection: DisplayConnection, region: CaptureRegion, slots: ImageSlots, ring: SPSCRing<VideoFrame>,
         framesPerSecond: Int, damageTracker: DamageTracker?, damageUnavailableReason: String?,
         cursorTracker: CursorTracker?, framebuffer: ServerFramebuffer?, slotTrimSeconds: Int, clock: Clock,
         counters: MediaCounters) {
        self.connection = connection
        self.framebuffer = framebuffer
        readsInPlace = framebuffer != nil
        self.region = region
        self.damageTracker = damageTracker
        trustsDamage = damageTracker != nil
        audit = damageTracker.map { _ in
            DamageAudit(width: region.width, height: region.height, bytesPerPixel: connection.pixelFormat.bytesPerPixel,
                        interval: framesPerSecond * DamageAudit.checkSeconds)
        }
        repaints = damageTracker.map { _ in
            RepaintFilter(width: region.width, height: region.height, bytesPerPixel: connection.pixelFormat.bytesPerPixel)
        }
        self.damageUnavailableReason = damageUnavailableReason
        self.cursorTracker = cursorTracker
        self.clock = clock
        self.counters = counters
        self.framesPerSecond = framesPerSecond
        slotTrimFrames = Int64(max(1, slotTrimSeconds * framesPerSecond))
        width = region.width
        height = region.height
        method = slots.method
        pixelFormat = connection.pixelFormat
        bytesPerPixel = connection.pixelFormat.bytesPerPixel
        frames = ring
        layout = ScreenLayout(region: region, screenWidth: connection.screenWidth, screenHeight: connection.screenHeight)
        scratchImage = .allocate(capacity: 1)
        scratchImage.initialize(to: slots.images[0].pointee)
        pool = BufferPool(adopting: slots.buffers, byteCount: slots.byteCount, memoryOwner: slots,
                          pageRelease: slots.pageRelease)
        imageTable = .allocate(capacity: slots.images.count)
        imageTable.initialize(from: slots.images, count: slots.images.count)
    }

    deinit {
        // Queued frames point into the pool: return them before the pool goes.
        while let frame = frames.pop() { _ = consume frame }
        imageTable.deallocate()
        scratchImage.deallocate()
    }

    /// Grabs one whole frame now, on the calling thread (not while capture runs).
    func grabFrame(sequence: Int) throws(XError) -> VideoFrame {
        precondition(!running.load(ordering: .relaxed), "grabFrame while capture is running")
        guard let buffer = pool.acquire() else { preconditionFailure("every frame of the pool is held by the caller") }
        let time = clock.now()
        try grab(into: buffer.index)
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: width * bytesPerPixel,
                          captureTime: time, sequence: sequence, pixelFormat: pixelFormat)
    }

    /// Deadlines count from the start, not from the previous grab: no drift.
    @inline(__always)
    func deadline(_ sequence: Int64, from start: Int64) -> Int64 {
        start + sequence * Int64.nanosecondsPerSecond / Int64(framesPerSecond)
    }

    /// The thread's body: grabs until `running` is cleared; returns the
    /// error that ended it, if one did.
    func run(onEvent: (DisplayCaptureEvent) -> Void) -> XError? {
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
        // Every frame's calls have a deadline (`DisplayWatchdog`); none while asleep.
        defer { connection.disarm() }
        // Slots a backlog touched give their pages back now and then.
        var nextTrim = slotTrimFrames
        while running.load(ordering: .relaxed) {
            let due = deadline(k, from: start)
            connection.disarm()
            clock.sleep(until: due)
            connection.arm()
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
                if let audit, audit.hasSuspects, let tile = audit.judge() { distrustDamage(near: tile, onEvent: onEvent) }
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
                // What it grabbed stays pending for the next frame (and the
                // repaint filter's copy is ahead of the encoder's picture).
                _ = consume refused
                counters.videoFramesDroppedQueueFull.add()
                repaints?.invalidate()
            } else {
                pending.clear()
                lastQueuedSequence.store(Int(k), ordering: .relaxed)
                framesReady.notify()
            }
            k += 1
            if k >= nextTrim {
                pool.trim(keeping: Self.workingSlots)
                nextTrim = k + slotTrimFrames
            }
        }
        return nil
    }

    /// Reads what the server reported since the last frame: DAMAGE
    /// rectangles into `pending`, a root resize into `layout`. Never blocks.
    private func readEvents(onEvent: (DisplayCaptureEvent) -> Void) throws(XError) {
        let display = connection.display
        if connection.broken.load(ordering: .acquiring) { throw connection.lostError }
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
                let x = Int(area.x) - region.x, y = Int(area.y) - region.y
                pending.add(x: x, y: y, width: Int(area.width), height: Int(area.height), within: layout.visible)
                audit?.mark(x: x, y: y, width: Int(area.width), height: Int(area.height))
                damaged = true
            } else if let cursorTracker, event.type == cursorTracker.notifyEventType {
                cursorTracker.shapeDidChange()
            }
        }
        if damaged && trustsDamage {
            damageTracker?.acknowledge()
            // No grab request follows to carry it when reading in place.
            if readsInPlace { XFlush(display) }
        }
        if connection.broken.load(ordering: .acquiring) { throw connection.lostError }
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
        // Whether the segment still holds the screen after a resize is
        // Xvfb's business: the server is asked from now on.
        readsInPlace = false
        pending.markAll()
        audit?.reset()
        repaints?.invalidate()
        counters.videoScreenSizeChanges.add()
        onEvent(.screenResized(width: screenWidth, height: screenHeight, visibleWidth: layout.visible.width,
                               visibleHeight: layout.visible.height, sentence: layout.describe(display: connection.name)))
    }

    /// Grabs what `pending` says changed into the slot and says where it put
    /// it, less what the grab shows did not change (`RepaintFilter`: a
    /// client repainting the same pixels). Without DAMAGE everything is
    /// pending every frame.
    private func grabChanges(into slot: Int32, base: UnsafeMutableRawPointer) throws(XError) -> FrameDamage {
        if !trustsDamage { pending.markAll() }
        // The filter's copy is reloaded by a whole grab.
        if let repaints, layout.isWhole, repaints.wantsWholeGrab, !pending.isEmpty { pending.markAll() }
        // Past half the picture, one whole grab costs less than many pieces.
        let whole = pending.all || pending.area * 2 > layout.visible.area
        // Compared frames are read in place; frames the filter lets by
        // uncompared (full motion, a reload) ask the server, as before.
        let inPlace = readsInPlace && layout.isWhole && repaints?.isComparing == true
        // A whole grab takes the check's reference when it has none (it
        // costs nothing more through the server); read in place, a check
        // asks the server, so only a due one does.
        if let audit, trustsDamage, layout.isWhole,
           audit.frameIsDue() || (whole && !audit.hasReference && !inPlace) {
            let damage = try checkDamage(audit, into: slot, base: base, whole: whole)
            return repaints?.filter(damage, base: base) ?? damage
        }
        if pending.isEmpty { return .unchanged }
        guard let repaints, layout.isWhole else { return try grabDamage(into: slot, base: base, whole: whole) }
        if inPlace, let framebuffer {
            return readInPlace(framebuffer, repaints: repaints, base: base, whole: whole)
        }
        return repaints.filter(try grabDamage(into: slot, base: base, whole: whole), base: base)
    }

    /// Reads what `pending` says changed in the server's framebuffer and
    /// hands on only what differs from the picture (`RepaintFilter.read`):
    /// no request, no copy of what did not change.
    ///
    /// The server may draw while this reads: a row may then hold part of a
    /// drawing. DAMAGE reports a drawing once it is done, and this frame's
    /// events were read before its pixels, so a drawing not reported yet is
    /// reported to a later frame, which reads its rectangle again; the slot
    /// and `kept` always hold the same rows, so that read compares against
    /// what the encoder has and hands on the difference. The first frame
    /// after a drawing's end holds its finished pixels.
    private func readInPlace(_ framebuffer: ServerFramebuffer, repaints: RepaintFilter, base: UnsafeMutableRawPointer,
                             whole: Bool) -> FrameDamage {
        let source = framebuffer.pixels + region.y * framebuffer.bytesPerRow + region.x * bytesPerPixel
        var result = FrameDamage.rectangles
        var compared = 0, changed = 0, offset = 0
        for index in 0..<(whole ? 1 : pending.count) {
            let rect = whole ? layout.visible : pending[index]
            compared += rect.area
            if let box = repaints.read(rect, from: source, sourceStride: framebuffer.bytesPerRow, into: base, at: offset) {
                changed += box.area
                result.append(box)
            }
            offset += rect.area * bytesPerPixel
        }
        counters.videoPixelsGrabbed.add(compared)
        return repaints.finishReading(result, compared: compared, changed: changed)
    }

    /// Grabs what `pending` (not empty) says changed, as DAMAGE reported it;
    /// `whole`: all of it or past half the picture.
    private func grabDamage(into slot: Int32, base: UnsafeMutableRawPointer, whole: Bool) throws(XError) -> FrameDamage {
        let visible = layout.visible
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

    /// A frame due for a DAMAGE check: grabs the whole region (the region is
    /// on screen whole), hashes it (`DamageAudit.check`), and hands on what
    /// `pending` says changed, pointing into the whole grab, so the frame
    /// brings the same as without the check.
    private func checkDamage(_ audit: DamageAudit, into slot: Int32, base: UnsafeMutableRawPointer,
                             whole: Bool) throws(XError) -> FrameDamage {
        // Through the server even when reading in place: the check sees
        // what the server shows, and the round trip every few seconds
        // finds a server that stopped answering.
        try grab(into: slot)
        counters.videoDamageChecks.add()
        audit.check(base)
        if pending.isEmpty { return .unchanged }
        if whole {
            counters.videoPixelsGrabbed.add(width * height)
            return .full
        }
        var damage = FrameDamage.rectangles
        for index in 0..<pending.count {
            let rect = pending[index]
            damage.append(FrameDamage.Rectangle(x: rect.x, y: rect.y, width: rect.width, height: rect.height,
                                                offset: (rect.y * width + rect.x) * bytesPerPixel,
                                                bytesPerRow: width * bytesPerPixel))
            counters.videoPixelsGrabbed.add(rect.area)
        }
        return damage
    }

    /// A check found the screen changed where no DAMAGE rectangle said so:
    /// DAMAGE cannot be trusted on this display any more. Grabs every frame
    /// whole from now on (the next one too, which repairs the picture) and
    /// says so once.
    private func distrustDamage(near tile: (x: Int, y: Int), onEvent: (DisplayCaptureEvent) -> Void) {
        trustsDamage = false
        damageTracker?.stopReporting()
        pending.markAll()
        onEvent(.damageUnavailable(display: connection.name,
                                   reason: "the screen changed near \(region.x + tile.x),\(region.y + tile.y) where DAMAGE"
                                       + " reported nothing"))
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
            if connection.broken.load(ordering: .acquiring) { throw connection.lostError }
            let code = connection.lastErrorCode.exchange(0, ordering: .acquiringAndReleasing)
            if code != 0 {
                throw XError(.protocolError(request: method == .sharedMemory ? "XShmGetImage" : "XGetSubImage", code: code),
                             display: connection.name)
            }
            throw XError(.grabFailed(request: method == .sharedMemory ? "XShmGetImage" : "XGetSubImage"), display: connection.name)
        }
    }
}
