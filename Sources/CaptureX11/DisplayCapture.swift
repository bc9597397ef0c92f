import CX11
public import MediaCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Grabs the X display at a fixed rate into pooled buffers and hands each frame,
/// stamped on the session clock, to a ring the encoder reads.
///
/// With MIT-SHM the X server writes straight into a pooled shared-memory
/// segment that travels down the ring and returns to the pool when the
/// encoder drops the frame: no per-frame allocation, no copy on our side
/// (`XGetImage` fills the same kind of pooled buffer otherwise).
///
/// Pacing: absolute deadlines `start + k/fps` on the clock; a grab a frame or
/// more late is counted and the grabber moves on to the current deadline,
/// never catching up in a burst. Frame `sequence` is `k`.
///
/// With DAMAGE (`tracksDamage`) a frame carries only the changed rectangles
/// (`VideoFrame.damage`), or none (`.unchanged`); what was grabbed is
/// compared with what the frames handed on hold (`RepaintFilter`), so a
/// repaint of the same pixels is unchanged too and a partly changed
/// rectangle brings only the box of its changed pixels; a refused frame's
/// rectangles go with the next one, so no change is lost, and a periodic
/// whole grab checks DAMAGE (`DamageAudit`). Frames hold the screen's own
/// pixel format (`pixelFormat`) and the region's size through screen resizes
/// (the part off screen black). On a local Xvfb started with `-shmem`, the
/// frames the repaint check compares are read in its framebuffer in place
/// (`readsFramebuffer`, `ServerFramebuffer`): no request, and a repaint of
/// the same pixels costs one read of it and of the kept picture. With
/// `drawsCursor` each frame says where the pointer is (`VideoFrame.cursor`);
/// the pixels never include it. Details:
/// docs/ARCHITECTURE.md, "Display capture notes".
public final class DisplayCapture<Clock: MediaClock>: @unchecked Sendable {
    /// Pixels per row and rows of every frame.
    public var width: Int { loop.width }
    public var height: Int { loop.height }
    /// Where on the root window frames come from.
    public var region: CaptureRegion { loop.region }
    /// The method in use (never `.automatic`).
    public var method: GrabMethod { loop.method }
    /// Grabs per second.
    public var framesPerSecond: Int { loop.framesPerSecond }
    /// How the frames' pixels are laid out (the screen's visual).
    public var pixelFormat: PixelFormat { loop.pixelFormat }
    /// The pointer's shapes for the consumer, when drawing it was asked for.
    public var cursorShapes: CursorShapes? { loop.cursorTracker?.shapes }
    /// The display name in use.
    public var displayName: String { loop.connection.name }
    /// Frames for the consumer, oldest first. Pop from one thread only.
    public var frames: SPSCRing<VideoFrame> { loop.frames }
    /// Notified after each frame is queued and when capture ends, so the
    /// consumer can sleep while `frames` is empty instead of polling it.
    public var framesReady: WakeSignal { loop.framesReady }
    /// The buffers frames live in; the pool outlives every frame taken from it.
    public var pool: BufferPool { loop.pool }

    /// What the capture thread runs; the thread holds it, not this object.
    private let loop: GrabLoop<Clock>
    private var thread: MediaThread?

    /// Opens the display, checks the region against the screen and allocates the
    /// frame pool (ring capacity plus the frames the grabber and encoder hold).
    ///
/// Throws `InvalidSetting` for a bad rate or a region off the screen and
/// `XError` when the display cannot be opened, does not answer within
/// `answerTimeout` (`.notAnswering`, after at most about that long), its
/// visual is unsupported (naming its depth) or the pointer is asked for
/// without XFixes.
    public init(configuration: DisplayCaptureConfiguration, clock: Clock, counters: MediaCounters) throws {
        try configuration.validate()
        let connection = try DisplayConnection(name: configuration.display,
                                               answerTimeout: configuration.answerTimeout.nanoseconds)
        // One deadline for the whole setup; a call it interrupts breaks the
        // connection, and the error says the server does not answer.
        connection.arm()
        defer { connection.disarm() }
        do {
            loop = try Self.makeLoop(configuration: configuration, connection: connection, clock: clock, counters: counters)
        } catch {
            if connection.broken.load(ordering: .acquiring) { throw connection.lostError }
            throw error
        }
        if connection.broken.load(ordering: .acquiring) { throw connection.lostError }
    }

    private static func makeLoop(configuration: DisplayCaptureConfiguration, connection: DisplayConnection, clock: Clock,
                                 counters: MediaCounters) throws -> GrabLoop<Clock> {
        let region = configuration.region
            ?? CaptureRegion(width: connection.screenWidth & ~1, height: connection.screenHeight & ~1)
        try region.validate(screenWidth: connection.screenWidth, screenHeight: connection.screenHeight)

        let queueCapacity = configuration.queueCapacity(frameBytes: region.width * region.height * 4)
        let cursorTracker: CursorTracker?
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
        let damageTracker: DamageTracker?
        let damageUnavailableReason: String?
        if configuration.tracksDamage {
            damageTracker = DamageTracker(connection: connection)
            damageUnavailableReason = damageTracker == nil ? "the X server offers no DAMAGE extension" : nil
        } else {
            damageTracker = nil
            damageUnavailableReason = nil
        }
        // A local Xvfb started with -shmem is read in place (`.automatic` only:
        // a method asked for by name is used as named).
        let framebuffer = configuration.method == .automatic ? ServerFramebuffer.attach(connection) : nil
        return GrabLoop(connection: connection, region: region, slots: slots, ring: ring,
                        framesPerSecond: configuration.framesPerSecond, damageTracker: damageTracker,
                        damageUnavailableReason: damageUnavailableReason, cursorTracker: cursorTracker,
                        framebuffer: framebuffer, slotTrimSeconds: configuration.slotTrimSeconds, clock: clock,
                        counters: counters)
    }

    deinit {
        stop()
    }

    /// True while the frames the repaint check compares are read in a
    /// local Xvfb's framebuffer (`Xvfb -shmem`, method `.automatic`) instead
    /// of being grabbed through the server; false on any other display and
    /// after a screen resize. Read it before `start` or after `stop`.
    public var readsFramebuffer: Bool { loop.readsInPlace }

    /// True when frames started out following the X DAMAGE extension (only
    /// changes grabbed). A check that catches DAMAGE missing a change turns
    /// it off later (`DisplayCaptureEvent.damageUnavailable` says when).
    public var tracksDamage: Bool { loop.damageTracker != nil }

    /// Grabs one frame now, on the calling thread (not while capture runs).
    public func grabFrame(sequence: Int = 0) throws(XError) -> VideoFrame {
        loop.connection.arm()
        defer { loop.connection.disarm() }
        return try loop.grabFrame(sequence: sequence)
    }

    /// Starts the capture thread (named `grab`, with `context`'s tag, log
    /// target and CPU account). `onEvent` is called on that thread if capture
    /// has to stop on its own; it must not block nor call `stop()`.
    ///
    /// The thread holds the grab loop, not this object: releasing a running
    /// capture stops and joins its thread (unless `onEvent` holds it).
    public func start(context: MediaThread.Context = MediaThread.Context(),
                      onEvent: @escaping @Sendable (DisplayCaptureEvent) -> Void) {
        precondition(thread == nil, "capture started twice")
        let loop = self.loop
        loop.running.store(true, ordering: .releasing)
        thread = MediaThread(role: "grab", context: context, priority: .realTimeIfPermitted) {
            // A write Xlib makes on a socket the watchdog shut down fails
            // with EPIPE instead of killing the process (SIGPIPE stays
            // pending on this thread, blocked).
            var pipe = sigset_t()
            sigemptyset(&pipe)
            sigaddset(&pipe, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipe, nil)
            let failure = loop.run(onEvent: onEvent)
            loop.framesReady.notify()
            if let failure { onEvent(.failed(failure)) }
        }
    }

    /// Stops the capture thread and waits for it, 1 s at most more than a
    /// frame's work whatever the X server does: a call still blocked then is
    /// interrupted (the capture fails with `.notAnswering`) and the
    /// connection is not used again. Frames already queued stay in
    /// `frames` for the consumer.
    public func stop() {
        loop.running.store(false, ordering: .releasing)
        if thread != nil { loop.connection.hurry() }
        thread?.join()
        thread = nil
    }

    /// The sequence of the last frame queued in `frames` (nil before the
    /// first); final once `stop()` has returned.
    public var lastQueuedSequence: Int? {
        let sequence = loop.lastQueuedSequence.load(ordering: .acquiring)
        return sequence < 0 ? nil : sequence
    }

    /// The deadline the grab numbered `sequence` was paced to: the instant its
    /// picture stands for on the clock (it is taken a little after). Valid
    /// for frames the running capture has produced.
    public func deadline(ofSequence sequence: Int) -> Int64 {
        let start = loop.firstDeadline.load(ordering: .acquiring)
        precondition(start != .min, "deadline asked before capture started")
        return loop.deadline(Int64(sequence), from: start)
    }

    /// True while the capture thread runs (false after `stop` or a failure).
    public var isRunning: Bool { loop.running.load(ordering: .acquiring) }
}
