import CALSA
import MediaCore
import Synchronization

/// The capture thread's work: read a period, stamp it, queue it, repeat.
///
/// Kept apart from `PCMCapture` so that the thread's closure holds this object,
/// not the public one: a `PCMCapture` nobody references any more can still run
/// its `deinit`, which stops and joins the thread.
///
/// Everything the loop touches per period was made at start: the pool, the
/// ring, the scratch period. Per period it allocates nothing, takes no lock and
/// creates no closure, array or string; only the error path builds an
/// `ALSAError`.
final class CaptureLoop<Clock: MediaClock>: @unchecked Sendable {
    let handle: PCMHandle
    let clock: Clock
    let counters: MediaCounters
    let format: AudioFormat
    let periodFrames: Int
    /// Buffers for chunks, sized to the queue; never grows.
    let pool: BufferPool
    /// Chunks toward the consumer. Capacity at least the pool's size, so a
    /// full queue shows up as an empty pool.
    let ring: SPSCRing<AudioChunk>
    /// Notified after each chunk is queued.
    let chunksReady = WakeSignal()
    /// Where a period is read when the pool is empty: the device must still be
    /// drained or it would overrun, and the frames are counted as dropped.
    private let scratch: UnsafeMutableRawPointer
    private let stopRequested = Atomic<Bool>(false)
    /// Frames waiting in the device buffer from which a measurement is not
    /// trusted (the buffer is full but for less than a period).
    private let fullBufferFrames: Int
    /// Nanoseconds the thread should sleep once before its next read, and
    /// whether it should then take the overrun path (tests only; see `stallOnce`).
    private let pendingStall = Atomic<Int64>(0)
    private let pendingOverrun = Atomic<Bool>(false)
    /// Nanoseconds the device may deliver nothing before capture ends.
    private let deviceTimeout: Int64

    /// How long one `snd_pcm_wait` may block: the bound on how late the thread
    /// notices `stop()` when a device stalls without reporting an error.
    private static var waitMilliseconds: Int32 { 100 }

    init(handle: PCMHandle, clock: Clock, counters: MediaCounters, parameters: NegotiatedParameters,
         queueSeconds: Double, deviceTimeoutSeconds: Double) {
        self.handle = handle
        deviceTimeout = Int64(deviceTimeoutSeconds * 1e9)
        self.clock = clock
        self.counters = counters
        format = parameters.format
        periodFrames = parameters.periodFrames
        fullBufferFrames = parameters.bufferFrames - parameters.periodFrames
        timeline = SampleTimeline(sampleRate: parameters.format.sampleRate, periodFrames: parameters.periodFrames)
        let periodBytes = periodFrames * format.bytesPerFrame
        // The queue in periods, plus one being filled by this thread and one in
        // the consumer's hands, so `queueSeconds` really are queued.
        let queuedPeriods = Int((queueSeconds * Double(format.sampleRate) / Double(periodFrames)).rounded(.up))
        pool = BufferPool(count: queuedPeriods + 2, byteCount: periodBytes)
        ring = SPSCRing(minimumCapacity: queuedPeriods + 2)
        scratch = .allocate(byteCount: periodBytes, alignment: 64)
    }

    deinit {
        scratch.deallocate()
    }

    /// Asks the loop to return after the period it is reading.
    func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Makes the capture thread sleep `nanoseconds` once before its next
    /// read, as if it had been preempted that long, and then, if
    /// `thenOverrun`, handle an overrun as if the read had returned `-EPIPE`
    /// (recovery really prepares and restarts the device, losing what it
    /// buffered). For tests on devices that never report overruns themselves.
    func stallOnce(nanoseconds: Int64, thenOverrun: Bool) {
        pendingOverrun.store(thenOverrun, ordering: .relaxed)
        pendingStall.store(nanoseconds, ordering: .releasing)
    }

    // MARK: The capture thread

    /// Frame indices and stamps; touched only by the capture thread.
    private var timeline: SampleTimeline
    /// When the device last delivered (or capture started, or recovered).
    private var lastDelivery: Int64 = 0

    /// Runs until `requestStop()` or until the device fails; a failure is
    /// reported once through `onEvent` and ends the loop.
    func run(onEvent: @Sendable (PCMCaptureEvent) -> Void) {
        let pcm = handle.pcm
        lastDelivery = clock.now()
        var status = Int32(snd_pcm_start(pcm))
        if status < 0, !recover(status, "snd_pcm_start", onEvent: onEvent) { return }

        while !stopRequested.load(ordering: .relaxed) {
            if pendingStall.load(ordering: .relaxed) != 0 {
                let stall = pendingStall.exchange(0, ordering: .acquiring)
                clock.sleep(until: clock.now() + stall)
                if pendingOverrun.exchange(false, ordering: .relaxed) {
                    if recover(-EPIPE, "snd_pcm_readi", onEvent: onEvent) { continue } else { return }
                }
            }
            // Wait with a timeout rather than block in the read for ever, so a
            // device that stalls without an error still lets `stop()` return.
            status = snd_pcm_wait(pcm, Self.waitMilliseconds)
            if status == 0 {
                // Nothing yet. A device that delivers nothing for too long
                // without an error (a hung sound server, a stream moved away)
                // ends capture, rather than leave a recording silently mute.
                let quiet = clock.now() - lastDelivery
                if quiet > deviceTimeout {
                    onEvent(.failed(handle.error(-ETIMEDOUT, "snd_pcm_wait", .noData(milliseconds: Int(quiet / 1_000_000)))))
                    return
                }
                continue
            }
            if status < 0 {
                if recover(status, "snd_pcm_wait", onEvent: onEvent) { continue } else { return }
            }

            let buffer = pool.acquire()
            let target = Self.address(of: buffer) ?? scratch
            let read = snd_pcm_readi(pcm, target, snd_pcm_uframes_t(periodFrames))
            if read < 0 {
                _ = consume buffer
                if recover(Int32(read), "snd_pcm_readi", onEvent: onEvent) { continue } else { return }
            }
            if read == 0 { continue }
            let frames = Int(read)
            lastDelivery = clock.now()
            let measurement = measure(framesJustRead: frames)
            let placement = timeline.place(frames: frames, measured: measurement.captureTime,
                                           bufferFull: measurement.bufferFull, precise: measurement.precise)
            if placement.gapFrames > 0 {
                if placement.isSilentLoss { counters.audioOverruns.add() }
                fillGap(frames: placement.gapFrames, from: placement.gapStart)
            }
            counters.audioPeriodsCaptured.add()
            counters.audioFramesCaptured.add(frames)
            emit(buffer, frames: frames, captureTime: placement.captureTime, isGapFill: false)
        }
    }

    /// Measures the clock time of the first of the `frames` just read: the
    /// clock now, less the frames still waiting in the ALSA buffer
    /// (`snd_pcm_avail`, which first syncs the hardware pointer) and the frames
    /// just read. When the buffer is within a period of full (or
    /// `snd_pcm_avail` failed), more may wait behind it than ALSA can show;
    /// when the call took over a millisecond, the thread was preempted while
    /// measuring. `SampleTimeline` uses neither kind.
    ///
    /// Why the clock rather than status timestamps: it works with any injected
    /// `MediaClock` (status timestamps exist only on `CLOCK_MONOTONIC`, and
    /// plugins such as `pulse` take them from the same system clock at the same
    /// moment anyway), at one call per period. The call is bracketed by two
    /// clock readings and the midpoint taken, so a slow call adds no bias.
    ///
    /// Why `snd_pcm_avail` rather than `snd_pcm_delay`: on `hw:` devices (the
    /// loopback, `dsnoop`) they differ only by the hardware FIFO, microseconds.
    /// The `pulse` plugin's `delay` adds the sound server's latency estimate,
    /// which is wrong for the first seconds of a stream: measured on the bench,
    /// a click played at a known clock time came back stamped 322 ms early with
    /// `delay` and 9.6 ms late with `avail` (then 9.3 ms with both, once the
    /// estimate settled), while frames arrived steadily in real time. Counting
    /// that estimate would make stamps run up to 10 % fast against the sample
    /// count for a second or two; ignoring it costs nothing measurable.
    @inline(__always)
    private func measure(framesJustRead frames: Int) -> (captureTime: Int64, bufferFull: Bool, precise: Bool) {
        let before = clock.now()
        let available = snd_pcm_avail(handle.pcm)
        let after = clock.now()
        let waiting = max(0, Int(available))  // an error here shows at the next read
        let now = before + (after - before) / 2
        return (now - timeline.nanoseconds(frames: Int64(waiting + frames)),
                available < 0 || waiting >= fullBufferFrames, after - before < 1_000_000)
    }

    /// Queues one chunk, or counts its frames as dropped when there was no
    /// buffer or the ring is full; never waits for the consumer.
    @inline(__always)
    private func emit(_ buffer: consuming PooledBuffer?, frames: Int, captureTime: Int64, isGapFill: Bool) {
        let (stamp, index) = timeline.advance(frames: frames, stampedAt: captureTime)
        if let buffer {
            let chunk = AudioChunk(buffer: buffer, frameCount: frames, captureTime: stamp,
                                   firstFrameIndex: index, isGapFill: isGapFill)
            if let rejected = ring.push(chunk) {
                counters.audioFramesDropped.add(rejected.frameCount)
                _ = consume rejected
            } else {
                chunksReady.notify()
            }
        } else {
            counters.audioFramesDropped.add(frames)
        }
    }

    /// Queues `frames` of silence stamped from `start` on, in period-sized
    /// chunks, for frames the device lost; they count as silence, not capture.
    private func fillGap(frames: Int64, from start: Int64) {
        counters.audioSilenceFrames.add(Int(frames))
        var remaining = frames
        var time = start
        while remaining > 0 {
            let count = Int(min(remaining, Int64(periodFrames)))
            let buffer = pool.acquire()
            if let address = Self.address(of: buffer) {
                address.initializeMemory(as: UInt8.self, repeating: 0, count: count * format.bytesPerFrame)
            }
            emit(buffer, frames: count, captureTime: time, isGapFill: true)
            time += timeline.nanoseconds(frames: Int64(count))
            remaining -= Int64(count)
        }
    }

    /// Handles a negative code from alsa-lib. Overruns and suspends are
    /// recovered (`snd_pcm_recover`, then the stream restarts) and the gap is
    /// filled at the next read; interrupted calls are retried. Anything else (a
    /// device that disappeared: `-ENODEV`, `-EBADFD`, `-EIO`, ...) is reported
    /// through `onEvent` and ends capture. Returns whether to go on.
    private func recover(_ code: Int32, _ operation: StaticString, onEvent: @Sendable (PCMCaptureEvent) -> Void) -> Bool {
        switch code {
        case -EINTR, -EAGAIN:
            return true
        case -EPIPE, -ESTRPIPE:
            if code == -EPIPE { counters.audioOverruns.add() }
            var status = snd_pcm_recover(handle.pcm, code, 1)
            // Recovery prepares the stream (or resumes it, after a suspend);
            // a prepared capture stream must be started again.
            if status >= 0 && snd_pcm_state(handle.pcm) == SND_PCM_STATE_PREPARED {
                status = snd_pcm_start(handle.pcm)
            }
            if status < 0 {
                onEvent(.failed(handle.error(status, "snd_pcm_recover", .capture)))
                return false
            }
            timeline.overrunRecovered()
            // A re-prepared device may take a while to deliver again.
            lastDelivery = clock.now()
            return true
        default:
            onEvent(.failed(handle.error(code, operation, .capture)))
            return false
        }
    }

    /// The buffer's memory, without taking the buffer out of its optional.
    @inline(__always)
    private static func address(of buffer: borrowing PooledBuffer?) -> UnsafeMutableRawPointer? {
        switch buffer {
        case .some(let buffer): buffer.baseAddress
        case .none: nil
        }
    }
}
