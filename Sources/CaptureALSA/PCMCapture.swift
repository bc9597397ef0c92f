import CALSA
public import MediaCore
import Synchronization

/// Captures audio from an ALSA PCM on one thread and hands it to one consumer
/// as `AudioChunk`s, each a period of interleaved samples stamped on the
/// session's `MediaClock`.
///
/// - The PCM is opened and negotiated in `init`, so bad names and refused
///   values are reported before anything runs; the thread starts in `start`.
/// - `chunks` holds `configuration.queueSeconds` of audio in buffers allocated
///   in `init`. The capture thread never waits for the consumer: when the
///   queue is full, the period is counted in `audioFramesDropped`.
/// - Each chunk's `firstFrameIndex` counts every frame since start, including
///   silence inserted for overruns and stalls (`audioOverruns`,
///   `audioSilenceFrames`), so the sample count and the clock stay in step.
/// - The device's faults never end capture: while it delivers nothing the
///   chunks go on as silence that follows the clock; a device that fails is
///   closed and opened again with backoff, and its sound comes back at its
///   time (`PCMCaptureEvent`, `CaptureLoop`). A reopened device that agrees
///   to another sample format has its samples converted to `format`.
///
/// Exactly one thread may pop `chunks`. Every chunk must be destroyed before
/// the `PCMCapture` is released (their buffers belong to its pool); chunks
/// still queued then are released with it. Releasing a running capture stops
/// it, unless `onEvent` keeps it alive: call `stop()`.
public final class PCMCapture<Clock: MediaClock>: @unchecked Sendable {
    /// What the device agreed to: format, rate and channels of every chunk.
    public let format: AudioFormat
    /// Frames in a full chunk (a period); a chunk may hold fewer after a short read.
    public let framesPerPeriod: Int
    /// Frames the device itself buffers before it overruns (about 200 ms).
    public let deviceBufferFrames: Int
    /// Chunks in capture order; the consumer pops here, never blocking.
    public var chunks: SPSCRing<AudioChunk> { loop.ring }
    /// Notified after each chunk is queued and when capture ends, so the
    /// consumer can sleep while `chunks` is empty instead of polling it.
    public var chunksReady: WakeSignal { loop.chunksReady }
    /// Chunks the queue can hold at once: `queueSeconds` of periods, fixed at `init`.
    public var queueCapacity: Int { loop.pool.count }
    /// Chunk buffers not in use right now (neither queued nor held by the
    /// consumer); for statistics and tests.
    public var freeBufferCount: Int { loop.pool.availableCount }

    let loop: CaptureLoop<Clock>
    private let lifecycle = LockedValue<Lifecycle>(.ready)

    private enum Lifecycle {
        case ready
        case running(MediaThread)
        case stopped
    }

    /// Opens `configuration.device` for capture and negotiates its parameters;
    /// nothing runs until `start`.
    ///
    /// - Throws: `InvalidSetting` for values no device could take (checked
    ///   before the device is opened); `ALSAError` when the device does not
    ///   exist or refuses the format, rate or channel count.
    public init(configuration: PCMCaptureConfiguration, clock: Clock, counters: MediaCounters) throws {
        try configuration.validate()
        let handle = try PCMHandle(captureDevice: configuration.device)
        let parameters = try Self.negotiate(handle, configuration)
        format = parameters.format
        framesPerPeriod = parameters.periodFrames
        deviceBufferFrames = parameters.bufferFrames
        loop = CaptureLoop(handle: handle, clock: clock, counters: counters, parameters: parameters,
                           configuration: configuration)
    }

    deinit {
        stop()
        // The capture thread is gone and, by contract, so is the consumer:
        // return queued buffers before the pool they belong to goes.
        while let chunk = loop.ring.pop() { _ = consume chunk }
    }

    /// Starts the capture thread. `onEvent` is called on that thread when the
    /// device is lost and when it is back; it must not block nor call
    /// `stop()` (which joins that thread). Call once.
    public func start(context: MediaThread.Context = MediaThread.Context(),
                      onEvent: @escaping @Sendable (PCMCaptureEvent) -> Void = { _ in }) {
        lifecycle.withLock { state in
            guard case .ready = state else { preconditionFailure("PCMCapture.start() called twice or after stop()") }
            let loop = self.loop
            state = .running(MediaThread(role: "pcm", context: context) {
                loop.run(onEvent: onEvent)
                loop.chunksReady.notify()
            })
        }
    }

    /// Stops capture: the thread returns after the period it is reading (or
    /// within 100 ms if the device stalls or is lost) and is joined. Chunks already
    /// queued stay poppable. Safe to call more than once and from any thread
    /// but the capture thread; the PCM itself is closed once, when this object
    /// is released.
    public func stop() {
        let thread: MediaThread? = lifecycle.withLock { state in
            defer { state = .stopped }
            if case .running(let thread) = state { return thread }
            return nil
        }
        guard let thread else { return }
        loop.requestStop()
        thread.join()
        // No `snd_pcm_drop` here: the device is closed with this object, and
        // a call into a hung sound server could block `stop()` for ever.
    }

    /// Makes the capture thread sleep once for `nanoseconds` before its next
    /// read, as if the scheduler had preempted it, and then, if `thenOverrun`,
    /// recover as from `-EPIPE`. For tests on a real device (see
    /// `CaptureLoop.stallOnce`).
    func stallCaptureThreadOnce(nanoseconds: Int64, thenOverrun: Bool = false) {
        loop.stallOnce(nanoseconds: nanoseconds, thenOverrun: thenOverrun)
    }
}
