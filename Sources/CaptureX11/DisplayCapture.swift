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
    private let running = Atomic<Bool>(false)
    /// Clock time of grab 0's deadline; `Int64.min` before capture starts.
    private let firstDeadline = Atomic<Int64>(.min)
    private var thread: MediaThread?

    /// Opens the display, checks the region against the screen and allocates the
    /// frame pool (ring capacity plus the frames the grabber and encoder hold).
    ///
    /// Throws `InvalidArgument` for a bad rate or a region off the screen and
    /// `XError` when the display cannot be opened or its visual is unsupported.
    public init(configuration: DisplayCaptureConfiguration, clock: Clock, counters: MediaCounters) throws {
        try configuration.validate()
        let connection = try DisplayConnection(name: configuration.display)
        let region = configuration.region
            ?? CaptureRegion(width: connection.screenWidth & ~1, height: connection.screenHeight & ~1)
        try region.validate(screenWidth: connection.screenWidth, screenHeight: connection.screenHeight)

        let queueCapacity = configuration.queueCapacity(frameBytes: region.width * region.height * 4)
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
        self.connection = connection
        self.region = region
        self.clock = clock
        self.counters = counters
        width = region.width
        height = region.height
        method = slots.method
        framesPerSecond = configuration.framesPerSecond
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
    }

    /// Grabs one frame now, on the calling thread (not while capture runs).
    public func grabFrame(sequence: Int = 0) throws(XError) -> VideoFrame {
        precondition(!running.load(ordering: .relaxed), "grabFrame while capture is running")
        guard let buffer = pool.acquire() else { preconditionFailure("every frame of the pool is held by the caller") }
        let time = clock.now()
        try grab(into: buffer.index)
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: width * 4,
                          captureTime: time, sequence: sequence)
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
            let failure = captureLoop()
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

    private func captureLoop() -> XError? {
        let start = clock.now()
        firstDeadline.store(start, ordering: .releasing)
        let fps = Int64(framesPerSecond)
        let interval = Int64.nanosecondsPerSecond / fps
        var k: Int64 = 0
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
            do {
                try grab(into: buffer.index)
            } catch {
                running.store(false, ordering: .releasing)
                return error
            }
            let frame = VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: width * 4,
                                   captureTime: now, sequence: Int(k))
            counters.videoFramesCaptured.add()
            if let refused = frames.push(frame) {
                // Ring full: drop the newest, keep the queue's older frames.
                _ = consume refused
                counters.videoFramesDroppedQueueFull.add()
            } else {
                framesReady.notify()
            }
            k += 1
        }
        return nil
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
