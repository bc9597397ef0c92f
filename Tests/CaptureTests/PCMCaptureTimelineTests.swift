@testable import CaptureALSA
import Testing

/// The timeline rules of `SampleTimeline`, with numbers: what real devices do
/// (deliver late, overrun, fill their buffer, drift) replayed exactly.
@Suite struct PCMCaptureTimelineTests {
    /// 48 kHz, 10 ms periods: 480 frames, 10_000_000 ns each.
    private func makeTimeline() -> SampleTimeline { SampleTimeline(sampleRate: 48000, periodFrames: 480) }
    private let period: Int64 = 10_000_000
    private let start: Int64 = 5_000_000_000

    /// Places and advances one period; returns its stamp and index.
    private func capture(_ timeline: inout SampleTimeline, measured: Int64, bufferFull: Bool = false,
                         precise: Bool = true) -> (placement: SampleTimeline.Placement, captureTime: Int64, index: Int64) {
        let placement = timeline.place(frames: 480, measured: measured, bufferFull: bufferFull, precise: precise)
        var time = placement.gapStart
        var remaining = placement.gapFrames
        while remaining > 0 {
            let frames = Int(min(remaining, 480))
            _ = timeline.advance(frames: frames, stampedAt: time)
            time += timeline.nanoseconds(frames: Int64(frames))
            remaining -= Int64(frames)
        }
        let (captureTime, index) = timeline.advance(frames: 480, stampedAt: placement.captureTime)
        return (placement, captureTime, index)
    }

    @Test func steadyPeriodsAreStampedAsMeasured() {
        var timeline = makeTimeline()
        for n in 0..<100 {
            let result = capture(&timeline, measured: start + Int64(n) * period)
            #expect(result.captureTime == start + Int64(n) * period)
            #expect(result.index == Int64(n) * 480)
            #expect(result.placement.gapFrames == 0)
        }
    }

    @Test func aLateDeliveryDoesNotMoveItsStampAnEarlyMeasurementDoes() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        // Delivered 10 ms late: stamped where the sample count says, give or
        // take the 200 ppm creep.
        let late = capture(&timeline, measured: start + 10 * period + period)
        #expect(abs(late.captureTime - (start + 10 * period)) < 10_000)
        #expect(late.placement.gapFrames == 0)
        // Measured 1 ms earlier than the timeline: taken at once.
        let early = capture(&timeline, measured: start + 11 * period - 1_000_000)
        #expect(early.captureTime == start + 11 * period - 1_000_000)
        let next = capture(&timeline, measured: start + 12 * period)
        #expect(abs(next.captureTime - (start + 12 * period - 1_000_000)) < 10_000)
    }

    @Test func aSlowDeviceClockIsFollowed() {
        // The device runs 150 ppm slow against the system clock: its frames
        // come ever later than the nominal rate says.
        var timeline = makeTimeline()
        var last: Int64 = 0
        for n in 0..<6000 {
            let measured = start + Int64(Double(n) * Double(period) * 1.000150)
            last = capture(&timeline, measured: measured).captureTime - measured
        }
        #expect(abs(last) < 100_000, "a minute in, stamps are \(Double(last) / 1e6) ms off the measurements")
    }

    @Test func aReportedOverrunIsFilledWithTheLostFrames() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        timeline.overrunRecovered()
        // The next frame read after recovery was captured 500 ms after the
        // end of the last period: 24_000 frames were lost.
        let resumed = start + 10 * period + 500_000_000
        let result = capture(&timeline, measured: resumed)
        #expect(result.placement.gapFrames == 24_000)
        #expect(result.placement.gapStart == start + 10 * period)
        #expect(!result.placement.isSilentLoss)
        #expect(result.captureTime == resumed)
        #expect(result.index == 10 * 480 + 24_000)
        // And the timeline goes on from there.
        let next = capture(&timeline, measured: resumed + period)
        #expect(next.captureTime == resumed + period)
        #expect(next.placement.gapFrames == 0)
    }

    @Test func aFullBufferIsStampedByTheSampleCountAndASilentLossIsFilled() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        // The buffer is full: measurements see only part of what waits and
        // come out late; the stamps follow the sample count instead.
        for n in 10..<20 {
            let result = capture(&timeline, measured: start + Int64(n) * period + 300_000_000, bufferFull: true)
            #expect(result.captureTime == start + Int64(n) * period)
        }
        // Drained: the first full measurement is 100 ms late, so 100 ms were
        // lost without an error, and become silence.
        let resumed = start + 20 * period + 100_000_000
        let result = capture(&timeline, measured: resumed)
        #expect(result.placement.isSilentLoss)
        #expect(result.placement.gapFrames == 4800)
        #expect(result.captureTime == resumed)
    }

    @Test func lessThanFivePeriodsLateAfterAFullBufferIsNotALoss() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        _ = capture(&timeline, measured: start + 10 * period + 50_000_000, bufferFull: true)
        let result = capture(&timeline, measured: start + 11 * period + 30_000_000)
        #expect(result.placement.gapFrames == 0)
        #expect(abs(result.captureTime - (start + 11 * period)) < 10_000)
    }

    @Test func aDisturbedMeasurementIsNotUsed() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        let result = capture(&timeline, measured: start + 10 * period - 5_000_000, precise: false)
        #expect(result.captureTime == start + 10 * period)
    }

    @Test func stampsStrictlyIncreaseEvenWhenMeasurementsJumpBack() {
        var timeline = makeTimeline()
        let first = capture(&timeline, measured: start)
        let second = capture(&timeline, measured: start - 50_000_000)
        #expect(second.captureTime > first.captureTime)
    }

    @Test func conversionsAreExactForLongRecordings() {
        let timeline = SampleTimeline(sampleRate: 44100, periodFrames: 441)
        let day: Int64 = 86_400 * 44100
        #expect(timeline.nanoseconds(frames: day * 365) == 86_400 * 365 * 1_000_000_000)
        #expect(timeline.nanoseconds(frames: 441) == 10_000_000)
        #expect(timeline.frames(nanoseconds: 10_000_000) == 441)
        #expect(timeline.frames(nanoseconds: 86_400 * 365 * 1_000_000_000) == day * 365)
        #expect(timeline.frames(nanoseconds: 11_338) == 1)   // 0.5 frame rounds up
        #expect(timeline.frames(nanoseconds: -11_338) == -1)
        #expect(timeline.frames(nanoseconds: 11_000) == 0)
    }
}
