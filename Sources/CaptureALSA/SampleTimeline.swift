import MediaCore

/// Places captured periods on one timeline: a frame index that counts every
/// frame since start (silence for lost frames included) and a clock time for
/// each period's first frame. Pure arithmetic, no device, so that each rule can
/// be checked with numbers.
///
/// Invariants: stamps strictly increase; the start is the lowest time the
/// first `startPeriods` measurements allow; a stamp follows the sample count from
/// an `origin` (the clock time of frame 0, ns) that the measurements move, by
/// at most 1 % of the time passed upward; whenever the device delivers fewer
/// frames than the clock says have passed (a stall longer than
/// `stallNanoseconds`, an overrun, a reopen, a loss it did not report), the
/// timeline follows the clock with silence and drops what then arrives late
/// in a burst, so later audio is never pulled forward.
///
/// The rules and the measurements behind them: docs/ARCHITECTURE.md, "The
/// sound timeline's rules".
struct SampleTimeline {
    /// Frames per second.
    let sampleRate: Int64
    /// Frames in a period.
    let periodFrames: Int
    /// How far the clock may run past the sample count, with no delivery,
    /// before the device is taken as stalled (see the type's description).
    let stallNanoseconds: Int64
    /// How many periods' measurements place the start: the first
    /// `startPeriods - 1` are held (`Placement.held`) and stamped once the
    /// last of them is placed. 1: the first period places it alone.
    let startPeriods: Int

    /// The index the next frame gets.
    private(set) var nextFrameIndex: Int64 = 0
    /// Clock time of frame 0 on the current estimate; nil before the first period.
    private(set) var origin: Int64?
    private var lastCaptureTime = Int64.min
    /// The count was moved by something other than delivered frames; the
    /// next measurements place the timeline again.
    private(set) var recovering = false
    /// The next period re-bases the timeline on its measurement even if the
    /// buffer looked full (after a reported overrun or a reopen, the device
    /// buffer was just emptied).
    private var rebaseOnNextPeriod = false
    /// The buffer was seen full since the last period delivered in real time.
    private var bufferWasFull = false
    /// Periods held before the start, and the frames in them.
    private var heldPeriods = 0
    private var heldFrames: Int64 = 0
    /// The earliest time the held periods' measurements allow for the frame
    /// after them; nil when none is held.
    private var startBound: Int64?

    /// How late, in periods, the first measurement after a full buffer must be
    /// to count as frames lost without an error. Delivery is late by a period
    /// now and then (seen on the bench); a smaller loss is followed by the
    /// origin's creep and the encoder's drift correction instead.
    static var silentLossPeriods: Int64 { 5 }

    /// The most a later measurement moves the origin up, as a fraction of the
    /// time passed: 1 %, twice the largest device clock error the engine is
    /// tested with (0.5 %).
    static var creepDivisor: Int64 { 100 }

    init(sampleRate: Int, periodFrames: Int, stallNanoseconds: Int64 = 200_000_000, startPeriods: Int = 1) {
        self.sampleRate = Int64(sampleRate)
        self.periodFrames = periodFrames
        self.stallNanoseconds = stallNanoseconds
        self.startPeriods = max(1, startPeriods)
    }

    /// What to do with a period just read.
    struct Placement: Equatable {
        /// The clock time to stamp the period's first placed frame with
        /// (before the monotonic clamp that `advance` applies).
        var captureTime: Int64
        /// Frames of silence to queue before the period, from `gapStart` on.
        var gapFrames: Int64
        /// Clock time of the first silent frame.
        var gapStart: Int64
        /// True when the gap was found by the clock, with no error from the device.
        var isSilentLoss: Bool
        /// Frames at the start of the period that cannot be placed (the
        /// sample count is already past them) and are dropped; the rest
        /// (`frames - dropFrames`, maybe none) is placed.
        var dropFrames: Int = 0
        /// The period comes before the start: hold it, not advanced, and
        /// queue it, stamped by `countTime`, once a period is placed.
        var held = false
    }

    /// Silence to queue because the device delivered nothing (`idle(at:)`).
    struct Fill: Equatable {
        var frames: Int64
        /// Clock time of the first silent frame.
        var start: Int64
        /// True for the first fill of a stall (the moment it was found).
        var startsStall: Bool
    }

    /// Notes an overrun the device reported; the next period measures the gap.
    mutating func overrunRecovered() {
        recovering = true
        rebaseOnNextPeriod = true
    }

    /// Notes that the device was closed and opened again: the new stream's
    /// first period places the timeline (its frames continue the index).
    mutating func deviceReopened() {
        recovering = true
        rebaseOnNextPeriod = true
        bufferWasFull = false
    }

    /// The clock says `now` and the device has nothing: when the sample count
    /// lags the clock by more than `stallNanoseconds` (or a stall is already
    /// being filled), the silence to queue to bring it to a period before
    /// `now`. Nil before the first period (the consumer aligns the start) and
    /// while the lag is the device's normal delivery delay.
    mutating func idle(at now: Int64) -> Fill? {
        guard let origin else { return nil }
        let countTime = origin + nanoseconds(frames: nextFrameIndex)
        let lag = now - countTime
        guard recovering || lag > stallNanoseconds else { return nil }
        let frames = self.frames(nanoseconds: lag) - Int64(periodFrames)
        guard frames > 0 else { return nil }
        let startsStall = !recovering
        recovering = true
        return Fill(frames: frames, start: countTime, startsStall: startsStall)
    }

    /// Where a period of `frames` goes whose first frame the clock measured at
    /// `measured`. `bufferFull` says the device buffer was (within a period
    /// of) full, so the measurement could not see everything waiting and is
    /// only an upper bound; `precise` is false when the measurement itself was
    /// disturbed (the thread was preempted while taking it): then it is not
    /// used at all. `caughtUp` says the thread had to wait for this period
    /// (the device had nothing more when it looked): a period read at once
    /// after another may come from a backlog the device hides behind a
    /// buffer that merely looks short (the pulse plugin refills what ALSA
    /// shows from the sound server's queue as it is read: measured on the
    /// bench, the 3 s a resumed server sends come out as `avail` falling
    /// from 9,586 to 0 and jumping back to 9,599, twenty times over, all
    /// within 5 ms). Only a caught-up period ends a recovery or reveals a
    /// loss.
    mutating func place(frames: Int, measured: Int64, bufferFull: Bool, precise: Bool = true,
                        caughtUp: Bool = true) -> Placement {
        let trusted = precise && !bufferFull
        // Only a period the device was still producing when the thread
        // started waiting for it shows the device delivering in real time.
        let settled = trusted && caughtUp
        // Whether the buffer was full since the last settled period.
        defer { bufferWasFull = bufferFull || (bufferWasFull && !settled) }
        guard let origin else {
            // The start: this period's first frame no later than any
            // measurement so far allows (each is an upper bound).
            var bound = startBound ?? measured
            if precise { bound = min(bound, measured) }
            if heldPeriods + 1 < startPeriods {
                heldPeriods += 1
                heldFrames += Int64(frames)
                startBound = bound + nanoseconds(frames: Int64(frames))
                return Placement(captureTime: bound, gapFrames: 0, gapStart: bound, isSilentLoss: false, held: true)
            }
            self.origin = bound - nanoseconds(frames: nextFrameIndex + heldFrames)
            abandonStart()
            recovering = false
            rebaseOnNextPeriod = false
            return Placement(captureTime: bound, gapFrames: 0, gapStart: bound, isSilentLoss: false)
        }
        let expected = origin + nanoseconds(frames: nextFrameIndex)
        let late = self.frames(nanoseconds: measured - expected)

        if recovering {
            guard settled || rebaseOnNextPeriod else {
                // Read in a burst after a stall, or behind a full buffer:
                // what the device held back while the clock's silence stood
                // in for it. Its time is taken; it cannot be placed.
                return Placement(captureTime: expected, gapFrames: 0, gapStart: expected, isSilentLoss: false,
                                 dropFrames: frames)
            }
            if precise && late < 0 {
                // The count is past this period's first frame, even by the
                // upper bound: what it is ahead by cannot be placed; the
                // rest is placed, and the timeline with it.
                let drop = Int(min(Int64(frames), -late))
                if drop < frames {
                    recovering = false
                    rebaseOnNextPeriod = false
                }
                return Placement(captureTime: expected, gapFrames: 0, gapStart: expected, isSilentLoss: false,
                                 dropFrames: drop)
            }
            // Placed where it was measured: the lag is silence. Filling
            // exactly `late` frames leaves the origin where it was.
            recovering = false
            rebaseOnNextPeriod = false
            let gap = max(0, late)
            return Placement(captureTime: expected + nanoseconds(frames: gap), gapFrames: gap, gapStart: expected,
                             isSilentLoss: false)
        }

        if precise && -late > Self.silentLossPeriods * Int64(periodFrames) {
            // The count is ahead of even an upper bound of this period's
            // time by more than a delivery's jitter: the device is handing
            // over frames faster than real time. That is a burst a recovery
            // ended on too early (one of its periods the thread happened to
            // wait for, the plugin refilling from the server): recover
            // again, so the rest of it is dropped and the next period in
            // real time places the timeline, instead of the burst pushing
            // every later frame late.
            recovering = true
            return Placement(captureTime: expected, gapFrames: 0, gapStart: expected, isSilentLoss: false,
                             dropFrames: frames)
        }
        let lossThreshold = bufferWasFull ? Self.silentLossPeriods * Int64(periodFrames)
                                          : self.frames(nanoseconds: stallNanoseconds)
        if settled && late > lossThreshold {
            // Frames lost without an error: the time they stood for is silence.
            return Placement(captureTime: expected + nanoseconds(frames: late), gapFrames: late, gapStart: expected,
                             isSilentLoss: true)
        }
        var newOrigin = origin
        if trusted {
            let creep = nanoseconds(frames: Int64(frames)) / Self.creepDivisor
            newOrigin = min(measured - nanoseconds(frames: nextFrameIndex), origin + creep)
        }
        self.origin = newOrigin
        return Placement(captureTime: newOrigin + nanoseconds(frames: nextFrameIndex), gapFrames: 0,
                         gapStart: expected, isSilentLoss: false)
    }

    /// Forgets the periods held before the start: once it is placed, or
    /// when a device error broke the run they measured (the owner drops them).
    mutating func abandonStart() {
        heldPeriods = 0
        heldFrames = 0
        startBound = nil
    }

    /// The clock time of the next frame by the sample count: where a period
    /// held before the start goes once the start is placed. Nil before it.
    var countTime: Int64? { origin.map { $0 + nanoseconds(frames: nextFrameIndex) } }

    /// Moves the timeline past `frames` stamped at `time` (a period or a piece
    /// of silence); returns the stamp and index they get. Stamps strictly
    /// increase: a stamp is at least a nanosecond after the previous one.
    mutating func advance(frames: Int, stampedAt time: Int64) -> (captureTime: Int64, firstFrameIndex: Int64) {
        let captureTime = max(time, lastCaptureTime &+ 1)
        let index = nextFrameIndex
        nextFrameIndex += Int64(frames)
        lastCaptureTime = captureTime
        return (captureTime, index)
    }

    /// Sets the origin when the device never delivered a period (it was lost
    /// before its first): frame 0 stands for `time`, so silence can follow
    /// the clock from there.
    mutating func startWithoutDevice(at time: Int64) {
        guard origin == nil else { return }
        origin = time
        recovering = true
        rebaseOnNextPeriod = true
    }

    /// Duration of `frames`, exact and without overflow for any recording length.
    func nanoseconds(frames: Int64) -> Int64 {
        frames / sampleRate * .nanosecondsPerSecond + frames % sampleRate * .nanosecondsPerSecond / sampleRate
    }

    /// Frames in `nanoseconds`, rounded to nearest (negative for negative spans).
    func frames(nanoseconds: Int64) -> Int64 {
        let seconds = nanoseconds / .nanosecondsPerSecond
        let rest = nanoseconds % .nanosecondsPerSecond
        let half = rest >= 0 ? Int64.nanosecondsPerSecond / 2 : -Int64.nanosecondsPerSecond / 2
        return seconds * sampleRate + (rest * sampleRate + half) / .nanosecondsPerSecond
    }
}
