import MediaCore
@testable import RecorderEngine
import Testing

@Suite struct VideoTimelineTests {
    private let interval = Int64(1_000_000_000 / 30)

    @Test func jitteredGrabsKeepOneIndexEach() {
        var timeline = VideoTimeline(framesPerSecond: 30)
        let start: Int64 = 5_000_000_000
        for n in 0..<300 {
            let jitter = Int64((n * 7919) % 21) * 500_000 - 5_000_000  // -5 ms ... +5 ms
            let placement = timeline.place(captureTime: start + Int64(n) * interval + (n == 0 ? 0 : jitter))
            #expect(placement == .encode(index: Int64(n), repeats: 0))
        }
    }

    @Test func placingByGrabSequenceIgnoresGrabJitter() {
        var timeline = VideoTimeline(framesPerSecond: 30)
        #expect(timeline.place(sequence: 7, captureTime: 1_000) == .encode(index: 0, repeats: 0))
        // Grab 8 ran 20 ms late (past the slot's midpoint): still slot 1.
        #expect(timeline.place(sequence: 8, captureTime: 1_000 + interval + 20_000_000) == .encode(index: 1, repeats: 0))
        #expect(timeline.place(sequence: 9, captureTime: 1_000 + 2 * interval) == .encode(index: 2, repeats: 0))
        // Deadlines 10 and 11 skipped by the grabber: repeated.
        #expect(timeline.place(sequence: 12, captureTime: 1_000 + 5 * interval) == .encode(index: 5, repeats: 2))
        #expect(timeline.anchor == 1_000)
    }

    @Test func aGapRepeatsThePreviousPictureAndExcessDrops() {
        var timeline = VideoTimeline(framesPerSecond: 30)
        #expect(timeline.place(captureTime: 0) == .encode(index: 0, repeats: 0))
        #expect(timeline.place(captureTime: interval) == .encode(index: 1, repeats: 0))
        // 100 ms late: indices 2 and 3 were missed.
        #expect(timeline.place(captureTime: 4 * interval + 1_000_000) == .encode(index: 4, repeats: 2))
        // A second grab for the same slot is excess.
        #expect(timeline.place(captureTime: 4 * interval + 10_000_000) == .drop)
        #expect(timeline.place(captureTime: 5 * interval) == .encode(index: 5, repeats: 0))
    }
}

@Suite struct AudioTimelineTests {
    @Test func lateAudioIsPaddedAndEarlyAudioTrimmed() {
        var late = AudioTimeline(inputRate: 48000, outputRate: 44100)
        #expect(late.align(anchor: 1_000_000_000, firstCaptureTime: 1_020_000_000) == .padSilence(frames: 960))
        var early = AudioTimeline(inputRate: 48000, outputRate: 44100)
        #expect(early.align(anchor: 1_000_000_000, firstCaptureTime: 990_000_000) == .trim(frames: 480))
    }

    /// Chunks go where their index says: frames the capture dropped (its
    /// queue was full) leave a hole that becomes silence, so the audio after
    /// it keeps its time; audio from before the anchor is trimmed; a
    /// duration's worth is placed and no more.
    @Test func aHoleInTheIndexIsSilenceNotAudioPulledForward() {
        var timeline = AudioTimeline(inputRate: 48000, outputRate: 44100, frameLimit: 48000)
        // Captured 5 ms before the anchor: 240 frames trimmed.
        let first = timeline.place(captureTime: 995_000_000, firstFrameIndex: 0, frameCount: 480, anchor: 1_000_000_000)
        #expect(first == AudioTimeline.ChunkPlacement(silence: 0, skip: 240, count: 240, correction: nil))
        let next = timeline.place(captureTime: 1_005_000_000, firstFrameIndex: 480, frameCount: 480, anchor: 1_000_000_000)
        #expect(next.silence == 0 && next.skip == 0 && next.count == 480)
        // 0.5 s of periods dropped: 24,000 frames of silence, then the chunk.
        let afterHole = timeline.place(captureTime: 1_515_000_000, firstFrameIndex: 960 + 24_000, frameCount: 480,
                                       anchor: 1_000_000_000)
        #expect(afterHole.silence == 24_000 && afterHole.count == 480)
        #expect(timeline.placedFrames == 240 + 480 + 24_000 + 480)
        // The limit: silence and audio stop at 48,000 frames placed.
        let big = timeline.place(captureTime: 2_000_000_000, firstFrameIndex: 960 + 24_000 + 480 + 23_000, frameCount: 480,
                                 anchor: 1_000_000_000)
        #expect(big.silence == 22_800 && big.count == 0)
        #expect(timeline.isComplete)
    }

    /// A count that ran ahead of the clock (an overrun's silence placed
    /// before the device's late periods): the correction takes output
    /// samples back, and the duration's limit still ends the track at the
    /// duration's output samples, not short by what was taken back (the
    /// limit used to count input frames: 0.24 s short after such an overrun).
    @Test func aDurationEndsAtItsOutputSamplesWhateverTheCorrectionTookBack() {
        var timeline = AudioTimeline(inputRate: 44_100, outputRate: 44_100, frameLimit: 441_000)
        let anchor: Int64 = 1_000_000_000
        var index: Int64 = 0
        var output: Int64 = 0
        while !timeline.isComplete {
            // After the first second, every period measured 100 ms earlier
            // than its index says (the count ran ahead).
            let captureTime = anchor + index * 1_000_000_000 / 44_100 - (index >= 44_100 ? 100_000_000 : 0)
            let placement = timeline.place(captureTime: captureTime, firstFrameIndex: index, frameCount: 441, anchor: anchor)
            output += Int64(placement.silence + placement.count)
            index += 441
        }
        #expect(timeline.compensatedSamples < -2_000, "no correction: \(timeline.compensatedSamples)")
        // Within the last window's correction (1 % of a second).
        #expect(abs(output + Int64(timeline.compensatedSamples) - 441_000) <= 441,
                "output \(output + Int64(timeline.compensatedSamples)) samples for 441,000")
        // The video's end, set at a stop, ends it sooner; what is missing of
        // it is counted as silence to add.
        var stopped = AudioTimeline(inputRate: 48_000, outputRate: 44_100, frameLimit: 480_000)
        _ = stopped.place(captureTime: anchor, firstFrameIndex: 0, frameCount: 4_800, anchor: anchor)
        stopped.limit(toOutputSamples: 44_100)
        #expect(stopped.framesShortOfLimit == 48_000 - 4_800)
        #expect(!stopped.isComplete)
    }

    /// An offset within 10 ms (what the stamps' noise moves the count by on
    /// a loaded host) is taken back at 0.1 % at most (0.44 Hz at 440 Hz);
    /// what is beyond it at up to 1 % as before, then the rest gently. The
    /// whole 1 % on every offset made a 440 Hz tone 442-444 Hz for seconds.
    @Test func aSmallOffsetIsTakenBackGentlyALargeOneQuickly() {
        for offsetSamples in [220, 2_205] {  // 5 ms, 50 ms at 44.1 kHz
            var timeline = AudioTimeline(inputRate: 44_100, outputRate: 44_100)
            _ = timeline.align(anchor: 0, firstCaptureTime: 0)
            var index: Int64 = 0
            var deltas: [Int] = []
            while index < 44_100 * 30 {
                // From the second chunk on, the count is ahead of the clock by the offset.
                let captureTime = (index - (index > 0 ? Int64(offsetSamples) : 0)) * 1_000_000_000 / 44_100
                if let correction = timeline.measure(captureTime: captureTime) { deltas.append(correction.sampleDelta) }
                timeline.advance(by: 441)
                index += 441
            }
            let fast = deltas.filter { abs($0) > 44 }
            #expect(abs(deltas.reduce(0, +) + offsetSamples) <= 10, "\(offsetSamples): took back \(deltas)")
            #expect(deltas.allSatisfy { abs($0) <= 441 }, "\(deltas)")
            if offsetSamples == 220 {
                #expect(fast.isEmpty, "a 5 ms offset taken back faster than 0.1 %: \(deltas)")
            } else {
                // 40 ms beyond the gentle 10 ms: four windows at 1 %.
                #expect(deltas.first == -441 && fast.count <= 5, "\(deltas)")
            }
        }
    }

    /// A device 0.1 % fast, stamped with millisecond jitter, for one simulated
    /// hour: the corrected output stays within one video frame (33 ms) of the
    /// clock throughout, where uncorrected it would be 3.6 s ahead at the end.
    /// The resampler is modelled: each compensation is realised evenly over its
    /// distance, as swr_set_compensation does.
    @Test func driftIsAbsorbedGraduallyOverAnHour() {
        let inputRate = 48000, outputRate = 44100
        var timeline = AudioTimeline(inputRate: inputRate, outputRate: outputRate)
        let period = 480  // 10 ms chunks
        let trueRate = Double(inputRate) * 1.001
        _ = timeline.align(anchor: 0, firstCaptureTime: 0)
        var produced = 0.0  // output samples the modelled resampler made
        var pending: (perSample: Double, remaining: Int) = (0, 0)
        var worst = 0.0, largestStep = 0
        var frames = 0
        for chunk in 0..<(3600 * 100) {
            let exact = Double(frames) / trueRate * 1e9
            let jitter = Double((chunk * 104_729) % 7 - 3) * 1e6  // ±3 ms
            let stamp = Int64(exact + (chunk == 0 ? 0 : jitter))
            if let correction = timeline.measure(captureTime: stamp) {
                largestStep = max(largestStep, abs(correction.sampleDelta))
                pending = (Double(correction.sampleDelta) / Double(correction.distance), correction.distance)
            }
            // Resample this chunk, with whatever compensation is in force.
            var out = Double(period) * Double(outputRate) / Double(inputRate)
            let compensated = min(Int(out.rounded()), pending.remaining)
            out += pending.perSample * Double(compensated)
            pending.remaining -= compensated
            timeline.advance(by: period)
            frames += period
            produced += out
            if chunk > 200 {
                let now = Double(frames) / trueRate
                worst = max(worst, abs(produced / Double(outputRate) - now))
            }
        }
        #expect(worst < 1.0 / 30, "audio strayed \(worst * 1000) ms from the clock")
        #expect(largestStep <= Int(0.005 * Double(outputRate)), "a correction step was a jump: \(largestStep) samples")
    }
}
