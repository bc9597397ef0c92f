import CALSA
import MediaCore
import Synchronization

/// The capture thread's work: read a period, stamp it, queue it, repeat; and
/// when the device stops delivering, keep the timeline on the clock with
/// silence, and when it fails, reopen it (states: docs/ARCHITECTURE.md, "The
/// sound device's life").
///
/// Kept apart from `PCMCapture` so that the thread's closure holds this object,
/// not the public one: a `PCMCapture` nobody references any more can still run
/// its `deinit`, which stops and joins the thread.
///
/// Per period it allocates nothing, takes no lock and creates no closure,
/// array or string (the pool, the ring and the scratch period are made at
/// start); only the error path builds an `ALSAError`, and only a reopen
/// allocates.
final class CaptureLoop<Clock: MediaClock>: @unchecked Sendable {
    let clock: Clock
    let counters: MediaCounters
    /// What every chunk carries, fixed for the capture's life.
    let format: AudioFormat
    /// Frames in a full chunk; a reopened device's period may differ, reads
    /// never take more than this.
    let periodFrames: Int
    /// Buffers for chunks, sized to the queue; never grows.
    let pool: BufferPool
    /// Chunks toward the consumer. Capacity at least the pool's size, so a
    /// full queue shows up as an empty pool.
    let ring: SPSCRing<AudioChunk>
    /// Notified after each chunk is queued.
    let chunksReady = WakeSignal()
    /// What the device was opened with, to open it again after a loss.
    private let configuration: PCMCaptureConfiguration
    /// Where a period is read when the pool is empty (the device must still
    /// be drained or it would overrun, and the frames are counted as
    /// dropped), or when the device's sample format differs from `format`
    /// and the samples are converted from here. Room for a period of the
    /// widest format.
    private let scratch: UnsafeMutableRawPointer
    private let stopRequested = Atomic<Bool>(false)
    /// Wakes the thread from a wait between reopen attempts when a stop is asked.
    private let stopWake = WakeSignal()
    /// Nanoseconds the thread should sleep once before its next read, and
    /// whether it should then take the overrun path (tests only; see `stallOnce`).
    private let pendingStall = Atomic<Int64>(0)
    private let pendingOverrun = Atomic<Bool>(false)
    /// Nanoseconds the device may deliver nothing before it is reported lost.
    private let deviceTimeout: Int64
    /// The longest wait between two reopen attempts, nanoseconds.
    private let reopenMaximumInterval: Int64

    /// How long one `snd_pcm_wait` may block: the bound on how late the thread
    /// notices `stop()` when a device stalls without reporting an error, and
    /// how often silence is filled while it does.
    private static var waitMilliseconds: Int32 { 100 }
    /// How long `snd_pcm_wait` must have blocked for the period after it to
    /// count as delivered in real time: a tenth of a 10 ms period. A wait
    /// that returns at once found a period already there.
    private static var caughtUpNanoseconds: Int64 { 1_000_000 }
    /// The first reopen attempt comes this long after a loss; each failed one
    /// doubles the wait, up to `reopenMaximumInterval`. A sound server that
    /// restarts (a crash, a `systemctl restart`) takes a second or so.
    static var firstReopenDelay: Int64 { 250_000_000 }
    /// How many periods' measurements place the start (`SampleTimeline`),
    /// the first four held meanwhile: a measurement is only an upper bound,
    /// and the first stamp is where the encoder puts the sound against the
    /// clock. Measured on the bench under load: a stream's first period up
    /// to 23 ms late (over 4 ms in 5 of 20 recordings, waited for or not),
    /// the next ones mostly within 0.2 ms of the lowest; with the first
    /// alone the encoder took that back at up to 1 % pitch for the first
    /// seconds (a 440 Hz tone at 442-444 Hz).
    static var startPeriods: Int { 5 }

    init(handle: PCMHandle, clock: Clock, counters: MediaCounters, parameters: NegotiatedParameters,
         configuration: PCMCaptureConfiguration) {
        self.handle = handle
        self.configuration = configuration
        deviceTimeout = Int64(configuration.deviceTimeoutSeconds * 1e9)
        reopenMaximumInterval = Int64(configuration.reopenMaximumIntervalSeconds * 1e9)
        self.clock = clock
        self.counters = counters
        format = parameters.format
        deviceFormat = parameters.format.sampleFormat
        periodFrames = parameters.periodFrames
        fullBufferFrames = parameters.bufferFrames - parameters.periodFrames
        // The stall threshold is the device buffer's length (see `SampleTimeline`).
        let rate = Int64(parameters.format.sampleRate)
        timeline = SampleTimeline(sampleRate: parameters.format.sampleRate, periodFrames: parameters.periodFrames,
                                  stallNanoseconds: Int64(parameters.bufferFrames) * .nanosecondsPerSecond / rate,
                                  startPeriods: Self.startPeriods)
        held = .allocate(capacity: Self.startPeriods - 1)
        heldFrames = .allocate(capacity: Self.startPeriods - 1)
        let periodBytes = periodFrames * format.bytesPerFrame
        // The queue in periods, plus one being filled by this thread and one in
        // the consumer's hands, so `queueSeconds` really are queued.
        let queuedPeriods = Int((configuration.queueSeconds * Double(format.sampleRate) / Double(periodFrames)).rounded(.up))
        pool = BufferPool(count: queuedPeriods + 2, byteCount: periodBytes)
        ring = SPSCRing(minimumCapacity: queuedPeriods + 2)
        scratch = .allocate(byteCount: periodFrames * format.channels * 4, alignment: 64)
    }

    deinit {
        dropHeld()
        held.deallocate()
        heldFrames.deallocate()
        scratch.deallocate()
    }

    /// Asks the loop to return after the period it is reading.
    func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        stopWake.notify()
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

    /// The open PCM; nil while the device is lost. Touched only by the capture
    /// thread (and released with this object, after the thread was joined).
    private var handle: PCMHandle?
    /// The sample format the open device delivers (differs from `format`'s
    /// only after a reopen negotiated another one).
    private var deviceFormat: SampleFormat
    /// Frames waiting in the device buffer from which a measurement is not
    /// trusted (the buffer is full but for less than a period).
    private var fullBufferFrames: Int
    /// Frame indices and stamps.
    private var timeline: SampleTimeline
    /// Periods read before the start (`startPeriods`), queued once it is
    /// placed: `heldCount` of them, initialized, with their frame counts.
    private let held: UnsafeMutablePointer<PooledBuffer?>
    private let heldFrames: UnsafeMutablePointer<Int>
    private var heldCount = 0
    /// When the device last delivered (or capture started, or recovered).
    private var lastDelivery: Int64 = 0
    /// Set once a loss was reported, until the device delivers again; the
    /// clock time of the last frames delivered before it.
    private var lostSince: Int64?
    /// When the next reopen is tried, and the wait after that one fails.
    private var nextReopen: Int64 = 0
    private var reopenDelay: Int64 = 0

    /// Runs until `requestStop()`. Device trouble is reported through
    /// `onEvent` (`.deviceLost`, `.deviceRestored`) and never ends the loop.
    func run(onEvent: @Sendable (PCMCaptureEvent) -> Void) {
        lastDelivery = clock.now()
        if let pcm = handle?.pcm {
            let status = Int32(snd_pcm_start(pcm))
            if status < 0 { _ = recover(status, "snd_pcm_start", onEvent: onEvent) }
        }
        while !stopRequested.load(ordering: .relaxed) {
            guard let pcm = handle?.pcm else {
                waitForDevice(onEvent: onEvent)
                continue
            }
            if pendingStall.load(ordering: .relaxed) != 0 {
                let stall = pendingStall.exchange(0, ordering: .acquiring)
                clock.sleep(until: clock.now() + stall)
                if pendingOverrun.exchange(false, ordering: .relaxed) {
                    _ = recover(-EPIPE, "snd_pcm_readi", onEvent: onEvent)
                    continue
                }
            }
            // Wait with a timeout rather than block in the read for ever, so a
            // device that stalls without an error still lets `stop()` return,
            // and the timeline still follows the clock.
            let waitStart = clock.now()
            let status = snd_pcm_wait(pcm, Self.waitMilliseconds)
            // Whether the device still had to produce the period: the wait
            // blocked (see `SampleTimeline.place`'s `caughtUp`).
            let caughtUp = clock.now() - waitStart >= Self.caughtUpNanoseconds
            if status == 0 {
                let now = clock.now()
                fillByClock(now: now)
                // Reported once: the device stays open (see the type's description).
                if lostSince == nil && now - lastDelivery > deviceTimeout {
                    lostSince = lastDelivery
                    dropHeld()
                    // Never delivered at all: silence from now on.
                    timeline.startWithoutDevice(at: now)
                    let quiet = now - lastDelivery
                    onEvent(.deviceLost(error(-ETIMEDOUT, "snd_pcm_wait", .noData(milliseconds: Int(quiet / 1_000_000)))))
                }
                continue
            }
            if status < 0 {
                _ = recover(status, "snd_pcm_wait", onEvent: onEvent)
                continue
            }

            let buffer = pool.acquire()
            let converting = deviceFormat != format.sampleFormat
            let target = converting ? scratch : (Self.address(of: buffer) ?? scratch)
            let read = snd_pcm_readi(pcm, target, snd_pcm_uframes_t(periodFrames))
            if read < 0 {
                _ = consume buffer
                _ = recover(Int32(read), "snd_pcm_readi", onEvent: onEvent)
                continue
            }
            if read == 0 { continue }
            var frames = Int(read)
            lastDelivery = clock.now()
            if let lost = lostSince {
                lostSince = nil
                reopenDelay = 0
                onEvent(.deviceRestored(afterNanoseconds: lastDelivery - lost))
            }
            let measurement = measure(pcm, framesJustRead: frames)
            let placement = timeline.place(frames: frames, measured: measurement.captureTime,
                                           bufferFull: measurement.bufferFull, precise: measurement.precise,
                                           caughtUp: caughtUp)
            if placement.gapFrames > 0 {
                if placement.isSilentLoss { counters.audioOverruns.add() }
                fillGap(frames: placement.gapFrames, from: placement.gapStart)
            }
            counters.audioPeriodsCaptured.add()
            counters.audioFramesCaptured.add(frames)
            let dropped = placement.dropFrames
            if dropped > 0 {
                counters.audioFramesDropped.add(dropped)
                frames -= dropped
            }
            if let address = Self.address(of: buffer) {
                let bytes = format.bytesPerFrame
                if converting {
                    SampleConversion.convert(frames * format.channels, from: deviceFormat,
                                             UnsafeRawPointer(scratch + dropped * format.channels * deviceFormat.bytesPerSample),
                                             to: format.sampleFormat, address)
                } else if dropped > 0 && frames > 0 {
                    address.copyMemory(from: UnsafeRawPointer(address + dropped * bytes), byteCount: frames * bytes)
                }
            }
            if placement.held {
                (held + heldCount).initialize(to: buffer)
                heldFrames[heldCount] = frames
                heldCount += 1
                continue
            }
            releaseHeld()
            if frames > 0 {
                // A period cannot end after it was read: the count may run a
                // few µs ahead of the clock while its creep is corrected.
                let latest = lastDelivery - timeline.nanoseconds(frames: Int64(frames))
                emit(buffer, frames: frames, captureTime: min(placement.captureTime, latest), isGapFill: false)
            } else {
                _ = consume buffer
            }
        }
        dropHeld()
    }

    /// Queues the periods held before the start, now that it is placed, each
    /// where the sample count puts it.
    private func releaseHeld() {
        for slot in 0..<heldCount {
            let time = timeline.countTime ?? clock.now()
            emit((held + slot).move(), frames: heldFrames[slot], captureTime: time, isGapFill: false)
        }
        heldCount = 0
    }

    /// Drops the periods held before the start (a device error broke their
    /// run, or the capture stopped first), counted as dropped.
    private func dropHeld() {
        for slot in 0..<heldCount {
            counters.audioFramesDropped.add(heldFrames[slot])
            _ = (held + slot).move()
        }
        heldCount = 0
        timeline.abandonStart()
    }

    /// Queues the silence the clock asks for while the device delivers
    /// nothing (see `SampleTimeline.idle(at:)`).
    private func fillByClock(now: Int64) {
        guard let fill = timeline.idle(at: now) else { return }
        if fill.startsStall { counters.audioOverruns.add() }
        fillGap(frames: fill.frames, from: fill.start)
    }

    /// While the device is lost: fills silence by the clock and tries to open
    /// it again when the backoff says; returns when it is open, when a stop
    /// was asked, or after at most `waitMilliseconds`.
    private func waitForDevice(onEvent: @Sendable (PCMCaptureEvent) -> Void) {
        var now = clock.now()
        fillByClock(now: now)
        if now >= nextReopen {
            if reopen() {
                timeline.deviceReopened()
                lastDelivery = clock.now()
                if let pcm = handle?.pcm {
                    let status = Int32(snd_pcm_start(pcm))
                    if status < 0 { _ = recover(status, "snd_pcm_start", onEvent: onEvent) }
                }
                return
            }
            reopenDelay = min(max(Self.firstReopenDelay, reopenDelay * 2), reopenMaximumInterval)
            now = clock.now()
            nextReopen = now + reopenDelay
        }
        let ticket = stopWake.prepareToWait()
        if stopRequested.load(ordering: .relaxed) {
            stopWake.cancelWait()
            return
        }
        let wait = min(nextReopen, now + Int64(Self.waitMilliseconds) * 1_000_000) - now
        _ = stopWake.wait(ticket, timeout: max(1, wait))
    }

    /// Opens the device again with the values it was first opened with, the
    /// sample format it had then preferred (so chunks need no conversion
    /// when it agrees). True when it is open and configured.
    private func reopen() -> Bool {
        var configuration = configuration
        configuration.formats = [format.sampleFormat] + configuration.formats.filter { $0 != format.sampleFormat }
        guard let reopened = try? PCMHandle(captureDevice: configuration.device),
              let parameters = try? PCMCapture<Clock>.negotiate(reopened, configuration),
              parameters.format.sampleRate == format.sampleRate, parameters.format.channels == format.channels
        else { return false }
        handle = reopened
        deviceFormat = parameters.format.sampleFormat
        fullBufferFrames = parameters.bufferFrames - min(parameters.periodFrames, periodFrames)
        return true
    }

    /// The device failed: reports it (once per loss) and closes it; the loop
    /// goes on without it.
    private func lose(_ failure: ALSAError, onEvent: @Sendable (PCMCaptureEvent) -> Void) {
        // Closing a PCM whose server has gone returns at once; the handle is
        // the only owner, so this closes it.
        handle = nil
        dropHeld()
        let now = clock.now()
        // Lost before its first period: silence follows the clock from here.
        timeline.startWithoutDevice(at: now)
        nextReopen = now + Self.firstReopenDelay
        reopenDelay = Self.firstReopenDelay
        if lostSince == nil {
            lostSince = lastDelivery
            onEvent(.deviceLost(failure))
        }
    }

    /// An error for a failed call on the device.
    @inline(never)
    private func error(_ code: Int32, _ operation: StaticString, _ context: ALSAError.Context) -> ALSAError {
        ALSAError(code: code, operation: operation, device: configuration.device, context: context)
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
    private func measure(_ pcm: OpaquePointer, framesJustRead frames: Int) -> (captureTime: Int64, bufferFull: Bool, precise: Bool) {
        let before = clock.now()
        let available = snd_pcm_avail(pcm)
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
    /// measured at the next read; interrupted calls are retried. Anything else
    /// (a device that disappeared: `-ENODEV`, `-EBADFD`, `-EIO`, a recovery
    /// that failed...) loses the device: it is reported through `onEvent`,
    /// closed, and opened again later. Returns whether the device is still open.
    private func recover(_ code: Int32, _ operation: StaticString, onEvent: @Sendable (PCMCaptureEvent) -> Void) -> Bool {
        guard let pcm = handle?.pcm else { return false }
        switch code {
        case -EINTR, -EAGAIN:
            return true
        case -EPIPE, -ESTRPIPE:
            if code == -EPIPE { counters.audioOverruns.add() }
            var status = snd_pcm_recover(pcm, code, 1)
            // Recovery prepares the stream (or resumes it, after a suspend);
            // a prepared capture stream must be started again.
            if status >= 0 && snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED {
                status = snd_pcm_start(pcm)
            }
            if status < 0 {
                lose(error(status, "snd_pcm_recover", .capture), onEvent: onEvent)
                return false
            }
            dropHeld()
            timeline.overrunRecovered()
            // A re-prepared device may take a while to deliver again.
            lastDelivery = clock.now()
            return true
        default:
            lose(error(code, operation, .capture), onEvent: onEvent)
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
