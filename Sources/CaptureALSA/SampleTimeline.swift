import MediaCore

/// Places captured periods on one timeline: a frame index that counts every
/// frame since start (silence for lost frames included) and a clock time for
/// each period's first frame. Pure arithmetic, no device, so that each rule can
/// be checked with numbers.
///
/// The stamps follow the sample count from an `origin` (the clock time of
/// frame 0), which the measurements move:
/// - A measurement can only be late, never early: a frame is seen some time
///   after it was captured (the sound server delivered a fragment late, the
///   device's pointer lagged). So the origin follows the lower envelope of
///   the measured origins: an earlier one is taken at once, a later one moves
///   it up by at most 200 ppm of the time passed. A period delivered 10 ms
///   late (seen on the bench about once every 3 s) does not move its stamp,
///   and a device clock up to 200 ppm slower than the system's is followed
///   (crystals are within 100 ppm; the loopback runs on the system clock).
/// - After an overrun the device reported (`-EPIPE`), the frames lost are the
///   time from where the sample count has got to, to the first frame read
///   after recovery; they become silence, and the sample count keeps pace
///   with the clock.
/// - While the device's buffer is full, a measurement cannot see how much more
///   waits behind it (the pulse plugin keeps up to seconds in the sound server
///   and shows a full ALSA buffer meanwhile), so it is not used.
/// - When the buffer drains again, a first measurement later than the sample
///   count by more than five periods means frames were lost without an error
///   (a plugin that drops silently); that gap is filled like an overrun.
/// - Stamps strictly increase.
struct SampleTimeline {
    /// Frames per second.
    let sampleRate: Int64
    /// Frames in a period.
    let periodFrames: Int

    /// The index the next frame gets.
    private(set) var nextFrameIndex: Int64 = 0
    /// Clock time of frame 0 on the current estimate; nil before the first period.
    private(set) var origin: Int64?
    private var lastCaptureTime = Int64.min
    private var overrunPending = false
    private var bufferWasFull = false

    /// How late, in periods, the first measurement after a full buffer must be
    /// to count as frames lost without an error. Delivery is late by a period
    /// now and then (seen on the bench); a smaller loss is followed by the
    /// origin's creep and the encoder's drift correction instead.
    static var silentLossPeriods: Int64 { 5 }

    init(sampleRate: Int, periodFrames: Int) {
        self.sampleRate = Int64(sampleRate)
        self.periodFrames = periodFrames
    }

    /// What to do with a period just read.
    struct Placement: Equatable {
        /// The clock time to stamp the period with (before the monotonic clamp
        /// that `advance` applies).
        var captureTime: Int64
        /// Frames of silence to queue before the period, from `gapStart` on.
        var gapFrames: Int64
        /// Clock time of the first silent frame.
        var gapStart: Int64
        /// True when the gap was found by the clock, with no error from the device.
        var isSilentLoss: Bool
    }

    /// Notes an overrun the device reported; the next period measures the gap.
    mutating func overrunRecovered() {
        overrunPending = true
    }

    /// Where a period of `frames` goes whose first frame the clock measured at
    /// `measured`. `bufferFull` says the device buffer was (within a period
    /// of) full, so the measurement could not see everything waiting;
    /// `precise` is false when the measurement itself was disturbed (the
    /// thread was preempted while taking it). Either way it is not used.
    mutating func place(frames: Int, measured: Int64, bufferFull: Bool, precise: Bool = true) -> Placement {
        defer {
            overrunPending = false
            bufferWasFull = bufferFull
        }
        let trusted = precise && !bufferFull
        guard let origin else {
            self.origin = measured - nanoseconds(frames: nextFrameIndex)
            return Placement(captureTime: measured, gapFrames: 0, gapStart: measured, isSilentLoss: false)
        }
        let expected = origin + nanoseconds(frames: nextFrameIndex)
        let late = self.frames(nanoseconds: measured - expected)
        if overrunPending || (trusted && bufferWasFull && late > Self.silentLossPeriods * Int64(periodFrames)) {
            let gap = max(0, late)
            // The gap was measured from this period's stamp: start afresh from it.
            self.origin = measured - nanoseconds(frames: nextFrameIndex + gap)
            return Placement(captureTime: measured, gapFrames: gap, gapStart: expected, isSilentLoss: !overrunPending)
        }
        var newOrigin = origin
        if trusted {
            let creep = nanoseconds(frames: Int64(frames)) / 5000  // 200 ppm
            newOrigin = min(measured - nanoseconds(frames: nextFrameIndex), origin + creep)
        }
        self.origin = newOrigin
        return Placement(captureTime: newOrigin + nanoseconds(frames: nextFrameIndex), gapFrames: 0,
                         gapStart: expected, isSilentLoss: false)
    }

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
