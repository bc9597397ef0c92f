/// Keeps the audio sample count on the session clock.
///
/// Audio pts follow the sample count: that gives gapless, jitter-free audio.
/// The count starts at the video anchor (output time 0): the first captured
/// period is placed by its capture time, with silence before it when audio
/// started late or its head trimmed when it started early. After that every
/// chunk goes where its frame index says (the capture's index counts every
/// frame since its start, the silence it filled for a stalled or lost device
/// included): frames the capture had to drop because its queue was full left
/// a hole in the index, and the hole is silence here, so later audio is never
/// pulled forward. And the device's rate and the clock drift apart slowly (a
/// 0.1 % fast device gains 3.6 s an hour); this measures the gap between
/// "samples delivered" and "time elapsed" and asks the resampler to absorb it
/// gradually, never by a jump.
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
    /// The largest rate change the correction may ask for: 1 %, twice the
    /// largest device clock error the engine is tested with (0.5 %, for
    /// hours). A limit equal to the drift could only hold the offset where
    /// it got to, never bring it back (measured in the four-hour simulation:
    /// at 0.5 % the offset grew 3 ms a minute, 0.04 % of residue from
    /// windows a little over a second long). 1 % shifts pitch by 17 cents,
    /// for the seconds a correction lasts; a device off by 0.1 % needs 0.1 %.
    /// Only an offset beyond `gentleOffset` is taken back this fast.
    let maximumRatioChange: Double
    /// An offset up to this many seconds is taken back at most
    /// `gentleRatioChange`: 10 ms, about what the stamps' noise moves the
    /// sample count's origin by on a loaded host (the first measurement of
    /// a stream up to 15 ms late, a run of late deliveries letting it creep
    /// up 1 % of the time it lasts); a third of a video frame at 30 fps.
    let gentleOffset: Double
    /// The largest rate change for an offset within `gentleOffset`: 0.1 %
    /// (1.7 cents; 0.44 Hz at 440 Hz), ten times a crystal's 100 ppm, so a
    /// real device's drift is followed at this rate without ever reaching
    /// the gentle offset. The whole 1 % applied to every offset measured
    /// turned the stamps' noise into pitch: a 440 Hz tone recorded at
    /// 442-444.4 Hz for seconds at the start of a recording on a loaded bench.
    let gentleRatioChange: Double

    private(set) var anchor: Int64?
    /// Input frames placed on the timeline so far (silence added, trimmed frames
    /// excluded): the timeline position of the next input frame.
    private(set) var placedFrames: Int64 = 0
    /// The input frame index the next chunk should start at; nil before the first.
    private(set) var nextFrameIndex: Int64?
    /// Input frames still to trim from the start (audio that began before the anchor).
    private var trimRemaining: Int64 = 0
    /// Output samples (encoder rate) the track is to hold in all, or nil:
    /// the lesser of the duration's limit and the end a stop fixed. Kept on
    /// the output side: a compensation changes how many input frames make
    /// that many samples (after an overrun's silence the count runs ahead of
    /// the clock and the resampler gives back what it gained, so a limit in
    /// input frames would end the track short by as much).
    var outputLimit: Int64? {
        switch (durationLimit, endLimit) {
        case let (duration?, end?): min(duration, end)
        case let (limit?, nil), let (nil, limit?): limit
        case (nil, nil): nil
        }
    }
    /// The duration's limit in output samples (moved on by pauses), or nil.
    private var durationLimit: Int64?
    /// Where a graceful stop ends the track (the video's end), or nil.
    private var endLimit: Int64?
    /// Input frames to place in all, at the compensations requested so far,
    /// or nil without a limit. Set, it is the duration's limit in input
    /// frames at the nominal rate (the encode thread moves it on by the
    /// frames a pause leaves out), kept as output samples like the one the
    /// initializer takes; an end a stop fixed still applies.
    var frameLimit: Int64? {
        get {
            outputLimit.map { limit in
                let net = limit - Int64(compensatedSamples)
                return max(0, (net * Int64(inputRate) + Int64(outputRate) - 1) / Int64(outputRate))
            }
        }
        set {
            durationLimit = newValue.map {
                ($0 * Int64(outputRate) + Int64(inputRate) / 2) / Int64(inputRate)
            }
        }
    }
    /// Output samples added (or removed) by every compensation requested so far.
    private(set) var compensatedSamples = 0
    private var errorSum: Double = 0
    private var errorCount = 0
    private var windowStart: Int64?
    /// The offset measured in the last window, in seconds (positive: audio ahead).
    private(set) var lastMeasuredOffset: Double = 0

    init(inputRate: Int, outputRate: Int, correctionWindow: Double = 1.0, maximumRatioChange: Double = 0.01,
         gentleOffset: Double = 0.010, gentleRatioChange: Double = 0.001, frameLimit: Int64? = nil) {
        durationLimit = frameLimit.map { ($0 * Int64(outputRate) + Int64(inputRate) / 2) / Int64(inputRate) }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.correctionWindow = correctionWindow
        self.maximumRatioChange = maximumRatioChange
        self.gentleOffset = gentleOffset
        self.gentleRatioChange = gentleRatioChange
    }

    /// What to do with one captured chunk, in this order: encode `silence`
    /// frames of silence, ask the resampler for `correction` if there is one,
    /// then encode the chunk's frames `skip ..< skip + count` (`count` may be
    /// 0). All in input frames.
    struct ChunkPlacement: Equatable {
        var silence: Int
        var skip: Int
        var count: Int
        var correction: Correction?
    }

    /// A gradual change of the resampler's output: `sampleDelta` more output
    /// samples (fewer when negative) spread over `distance` output samples.
    struct Correction: Equatable {
        var sampleDelta: Int
        var distance: Int
    }

    /// Places the chunk whose first frame has index `firstFrameIndex` and was
    /// captured at `captureTime`: the first one against `anchor` (the video's
    /// output time 0), later ones by their index; records what it places.
    mutating func place(captureTime: Int64, firstFrameIndex: Int64, frameCount: Int, anchor: Int64) -> ChunkPlacement {
        var silence: Int64 = 0
        if let expected = nextFrameIndex {
            // A hole in the index: frames the capture dropped (its queue was
            // full). Their time passed; it becomes silence.
            silence = max(0, firstFrameIndex - expected)
        } else {
            switch align(anchor: anchor, firstCaptureTime: captureTime) {
            case let .padSilence(frames): silence = Int64(frames)
            case let .trim(frames): trimRemaining = Int64(frames)
            }
        }
        nextFrameIndex = firstFrameIndex + Int64(frameCount)
        // Audio from before the anchor is trimmed, silence first.
        let trimmedSilence = min(silence, trimRemaining)
        silence -= trimmedSilence
        trimRemaining -= trimmedSilence
        let skip = min(Int64(frameCount), trimRemaining)
        trimRemaining -= skip
        var count = Int64(frameCount) - skip
        if let frameLimit {
            silence = min(silence, max(0, frameLimit - placedFrames))
            count = min(count, max(0, frameLimit - placedFrames - silence))
        }
        placedFrames += silence
        var correction: Correction?
        if count > 0 {
            let firstPlaced = captureTime + skip * 1_000_000_000 / Int64(inputRate)
            correction = measure(captureTime: firstPlaced).map { Correction(sampleDelta: $0.sampleDelta, distance: $0.distance) }
            placedFrames += count
        }
        return ChunkPlacement(silence: Int(silence), skip: Int(skip), count: Int(count), correction: correction)
    }

    /// True once `frameLimit` frames are placed.
    var isComplete: Bool { frameLimit.map { placedFrames >= $0 } ?? false }

    /// Ends the track at `samples` output samples from the anchor (or where
    /// the duration ends it, if sooner): the video's end, as a stop estimates
    /// it and then as the video encoder fixed it. Replaces an earlier end.
    mutating func limit(toOutputSamples samples: Int64) {
        endLimit = max(0, samples)
    }

    /// Input frames of silence that bring the track to its limit (0 when it
    /// is there or past it, or has none).
    var framesShortOfLimit: Int { frameLimit.map { Int(max(0, $0 - placedFrames)) } ?? 0 }

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
        // What is beyond the gentle offset is taken back at up to the full
        // rate, what is within it (all of it, for a small offset) gently.
        let gentle = gentleOffset * Double(outputRate)
        let beyond = max(0, abs(meanError) - gentle), within = abs(meanError) - beyond
        let size = min(beyond + min(within, Double(distance) * gentleRatioChange),
                       Double(distance) * maximumRatioChange)
        let delta = Int((meanError > 0 ? -size : size).rounded())
        compensatedSamples += delta
        return (delta, distance)
    }
}
