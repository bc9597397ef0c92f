/// Keeps the audio sample count on the session clock.
///
/// Audio pts follow the sample count: that gives gapless, jitter-free audio.
/// The count starts at the video anchor (output time 0): the first captured
/// period is placed by its capture time, with silence before it when audio
/// started late or its head trimmed when it started early. After that the
/// device's rate and the clock drift apart slowly (a 0.1 % fast device gains
/// 3.6 s an hour); this measures the gap between "samples delivered" and
/// "time elapsed" and asks the resampler to absorb it gradually, never by a jump.
struct AudioTimeline {
    /// What to do with the head of the first chunk(s).
    enum Alignment: Equatable {
        /// Insert this many frames of silence (input rate) before the first chunk.
        case padSilence(frames: Int)
        /// Drop this many frames (input rate) from the start.
        case trim(frames: Int)
    }

    /// Input (device) rate.
    let inputRate: Int
    /// Output (encoder) rate.
    let outputRate: Int
    /// Seconds over which a measured offset is corrected.
    let correctionWindow: Double
    /// The largest rate change the correction may ask for (0.5 %: inaudible).
    let maximumRatioChange: Double

    private(set) var anchor: Int64?
    /// Input frames placed on the timeline so far (silence added, trimmed frames
    /// excluded): the timeline position of the next input frame.
    private(set) var placedFrames: Int64 = 0
    /// Output samples added (or removed) by every compensation requested so far.
    private(set) var compensatedSamples = 0
    private var errorSum: Double = 0
    private var errorCount = 0
    private var windowStart: Int64?
    /// The offset measured in the last window, in seconds (positive: audio ahead).
    private(set) var lastMeasuredOffset: Double = 0

    init(inputRate: Int, outputRate: Int, correctionWindow: Double = 1.0, maximumRatioChange: Double = 0.005) {
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.correctionWindow = correctionWindow
        self.maximumRatioChange = maximumRatioChange
    }

    /// Places the first chunk, captured at `captureTime`, against the anchor.
    mutating func align(anchor: Int64, firstCaptureTime: Int64) -> Alignment {
        self.anchor = anchor
        let offsetFrames = Int((Double(firstCaptureTime - anchor) * Double(inputRate) / 1e9).rounded())
        return offsetFrames >= 0 ? .padSilence(frames: offsetFrames) : .trim(frames: -offsetFrames)
    }

    /// Records that `frames` input frames were placed on the timeline.
    mutating func advance(by frames: Int) { placedFrames += Int64(frames) }

    /// Measures a chunk about to be placed: its first frame was captured at
    /// `captureTime`. When a correction window completes, returns the compensation
    /// to apply: extra output samples (negative: fewer) spread over `distance`
    /// output samples.
    ///
    /// The error is taken on the output side: samples the resampler has been
    /// asked to produce (placed input converted to the output rate, plus every
    /// compensation already requested) against the samples the clock says should
    /// exist by now.
    mutating func measure(captureTime: Int64) -> (sampleDelta: Int, distance: Int)? {
        guard let anchor else { return nil }
        let expected = Double(captureTime - anchor) * Double(outputRate) / 1e9
        let produced = Double(placedFrames) * Double(outputRate) / Double(inputRate) + Double(compensatedSamples)
        errorSum += produced - expected
        errorCount += 1
        if windowStart == nil { windowStart = captureTime }
        guard let start = windowStart, Double(captureTime - start) >= correctionWindow * 1e9 else { return nil }
        // Mean over the window: single stamps jitter by milliseconds.
        let meanError = errorSum / Double(errorCount)
        errorSum = 0
        errorCount = 0
        windowStart = captureTime
        lastMeasuredOffset = meanError / Double(outputRate)
        let distance = Int(correctionWindow * Double(outputRate))
        let limit = Double(distance) * maximumRatioChange
        let delta = Int(max(-limit, min(limit, -meanError)).rounded())
        compensatedSamples += delta
        return (delta, distance)
    }
}
