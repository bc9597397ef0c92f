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
                         precise: Bool = true, caughtUp: Bool = true) -> (placement: SampleTimeline.Placement, captureTime: Int64, index: Int64) {
        let placement = timeline.place(frames: 480, measured: measured, bufferFull: bufferFull, precise: precise,
                                       caughtUp: caughtUp)
        var time = placement.gapStart
        var remaining = placement.gapFrames
        while remaining > 0 {
            let frames = Int(min(remaining, 480))
            _ = timeline.advance(frames: frames, stampedAt: time)
            time += timeline.nanoseconds(frames: Int64(frames))
            remaining -= Int64(frames)
        }
        // A period dropped whole is not queued (as the capture loop does).
        guard placement.dropFrames < 480 else { return (placement, placement.captureTime, timeline.nextFrameIndex) }
        let (captureTime, index) = timeline.advance(frames: 480 - placement.dropFrames, stampedAt: placement.captureTime)
        return (placement, captureTime, index)
    }

    /// Queues what `idle(at:)` asks for; the frames filled.
    @discardableResult
    private func idle(_ timeline: inout SampleTimeline, at now: Int64) -> SampleTimeline.Fill? {
        guard let fill = timeline.idle(at: now) else { return nil }
        var time = fill.start
        var remaining = fill.frames
        while remaining > 0 {
            let frames = Int(min(remaining, 480))
            _ = timeline.advance(frames: frames, stampedAt: time)
            time += timeline.nanoseconds(frames: Int64(frames))
            remaining -= Int64(frames)
        }
        return fill
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

    /// The start is placed by the first five periods' measurements, the
    /// lowest of them (each is only an upper bound): a first period
    /// measured 15 ms late, as a stream's first often is on a loaded bench,
    /// no longer places the recording's start 15 ms late (the encoder then
    /// took it back at up to 1 % pitch). The four held periods are stamped
    /// by the sample count from there; a timeline that places its start on
    /// the first period alone stamps it late.
    @Test func theStartIsTheLowestOfTheFirstPeriodsMeasurements() {
        var timeline = SampleTimeline(sampleRate: 48000, periodFrames: 480, startPeriods: 5)
        let late: Int64 = 15_000_000
        for n in 0..<4 {
            let placement = timeline.place(frames: 480, measured: start + Int64(n) * period + (n == 0 ? late : 0),
                                           bufferFull: false, caughtUp: n > 0)
            #expect(placement.held && placement.gapFrames == 0 && placement.dropFrames == 0)
            #expect(timeline.countTime == nil)
        }
        let fifth = timeline.place(frames: 480, measured: start + 4 * period + 300_000, bufferFull: false)
        #expect(!fifth.held)
        #expect(timeline.countTime == start, "the first frame at \(String(describing: timeline.countTime)), expected \(start)")
        for n in 0..<4 {
            let (stamp, index) = timeline.advance(frames: 480, stampedAt: timeline.countTime!)
            #expect(stamp == start + Int64(n) * period && index == Int64(n) * 480)
        }
        #expect(fifth.captureTime == start + 4 * period)
        let (stamp, index) = timeline.advance(frames: 480, stampedAt: fifth.captureTime)
        #expect(stamp == start + 4 * period && index == 1920)

        var alone = makeTimeline()
        let first = capture(&alone, measured: start + late)
        #expect(first.captureTime == start + late)
        // A device error before the start forgets what was held.
        var broken = SampleTimeline(sampleRate: 48000, periodFrames: 480, startPeriods: 5)
        _ = broken.place(frames: 480, measured: start, bufferFull: false)
        broken.abandonStart()
        _ = broken.place(frames: 480, measured: start + 500_000_000, bufferFull: false)
        for _ in 0..<3 { _ = broken.place(frames: 480, measured: start + 600_000_000, bufferFull: false) }
        let placed = broken.place(frames: 480, measured: start + 600_000_000, bufferFull: false)
        #expect(!placed.held && broken.countTime == start + 500_000_000)
    }

    @Test func aLateDeliveryDoesNotMoveItsStampAnEarlyMeasurementDoes() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        // Delivered 10 ms late: stamped where the sample count says, give or
        // take the 1 % creep (0.1 ms of a 10 ms period).
        let late = capture(&timeline, measured: start + 10 * period + period)
        #expect(abs(late.captureTime - (start + 10 * period)) <= period / 100)
        #expect(late.placement.gapFrames == 0)
        // Measured 1 ms earlier than the timeline: taken at once.
        let early = capture(&timeline, measured: start + 11 * period - 1_000_000)
        #expect(early.captureTime == start + 11 * period - 1_000_000)
        let next = capture(&timeline, measured: start + 12 * period)
        #expect(abs(next.captureTime - (start + 12 * period - 1_000_000)) <= period / 100)
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
        #expect(abs(result.captureTime - (start + 11 * period)) <= period / 100)
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

    // MARK: The device delivers less than the clock says

    /// A frozen sound server: nothing for 3 s, then (PulseAudio's null sink
    /// renders the frozen interval at once) 3 s of backlog in a burst behind
    /// a full buffer, then real time again. The silence follows the clock as
    /// it passes, the burst is dropped, and the timeline ends where the clock
    /// is.
    @Test func aStallIsFilledByTheClockAndTheLateBurstAfterItDropped() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        let frozen = start + 10 * period  // the count's position when it froze
        // 100 ms with nothing: the server's delivery jitter, not a stall yet.
        #expect(timeline.idle(at: frozen + 100_000_000) == nil)
        // Past the 200 ms threshold: silence up to a period before now.
        let first = idle(&timeline, at: frozen + 250_000_000)
        #expect(first == SampleTimeline.Fill(frames: 48000 * 240 / 1000, start: frozen, startsStall: true))
        // Then at every look, however short the lag, to a period before it.
        for look: Int64 in 3...29 {
            let fill = idle(&timeline, at: frozen + look * 100_000_000 + 50_000_000)
            #expect(fill?.startsStall == false)
        }
        #expect(timeline.nextFrameIndex == 10 * 480 + 48 * 2940)
        // The burst: 3 s of frames read within a few ms, read one after the
        // other (not caught up), the buffer full or looking short as the
        // plugin refills it; each measurement, an upper bound, is behind the
        // count: none of it can be placed.
        let resumed = frozen + 3_000_000_000
        var dropped = 0
        for n in 0..<300 {
            let waiting: Int64 = n % 20 == 19 ? 0 : 200_000_000 - Int64(n % 20) * 10_000_000
            let result = capture(&timeline, measured: resumed + Int64(n) * 10_000 - waiting - period,
                                 bufferFull: waiting >= 190_000_000, caughtUp: false)
            dropped += result.placement.dropFrames
            #expect(result.placement.gapFrames == 0)
        }
        #expect(dropped == 300 * 480)
        #expect(timeline.nextFrameIndex == 10 * 480 + 48 * 2940)
        #expect(timeline.recovering)
        // Real time again: the period is placed where it was measured, the
        // 65 ms between the last silence and it filled.
        let live = capture(&timeline, measured: resumed + 5_000_000)
        #expect(live.placement.dropFrames == 0)
        #expect(live.placement.gapFrames == 48 * 65)
        #expect(live.captureTime == resumed + 5_000_000)
        #expect(!timeline.recovering)
        let next = capture(&timeline, measured: resumed + 15_000_000)
        #expect(next.captureTime == resumed + 15_000_000)
    }

    /// The same burst, but one of its periods comes after the thread waited
    /// a little for it (the plugin refilling from the server), with a short
    /// buffer: it looks delivered in real time and ends the recovery. The
    /// burst's next periods, measured far behind the count, start a recovery
    /// again: they are dropped, and the next period in real time places the
    /// timeline where the clock is (seen on the bench: without this, the
    /// rest of the burst was placed and every later beep came 430 ms late).
    @Test func aBurstPeriodThatLooksOnTimeDoesNotLetTheRestOfTheBurstIn() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        let frozen = start + 10 * period
        for look: Int64 in 2...29 { idle(&timeline, at: frozen + look * 100_000_000 + 50_000_000) }
        let filled = timeline.nextFrameIndex
        let resumed = frozen + 3_000_000_000
        var dropped = 0, placed = 0
        for n in 0..<300 {
            let waiting: Int64 = n % 20 == 19 ? 0 : 200_000_000 - Int64(n % 20) * 10_000_000
            let result = capture(&timeline, measured: resumed + Int64(n) * 10_000 - waiting - period,
                                 bufferFull: waiting >= 190_000_000, caughtUp: n == 119)
            dropped += result.placement.dropFrames
            placed += 480 - result.placement.dropFrames
        }
        // The period that looked on time was placed (its lag silence); one
        // more before the count was far enough ahead to tell; nothing after.
        #expect(placed <= 2 * 480, "\(placed) frames of the burst placed")
        #expect(dropped >= 298 * 480)
        #expect(timeline.recovering)
        let live = capture(&timeline, measured: resumed + 25_000_000)
        #expect(live.placement.dropFrames < 480)
        #expect(!timeline.recovering)
        // The timeline is where the clock is: within a period of the
        // measurement, not the burst's 2.9 s behind it.
        let next = capture(&timeline, measured: resumed + 35_000_000)
        #expect(abs(next.captureTime - (resumed + 35_000_000)) <= period, "\(next.captureTime - resumed - 35_000_000) ns off")
        // From the silence's end (a period before the last look, 2.94 s in)
        // to the end of the second live period (3.045 s): 105 ms, not the
        // burst's 3 s.
        #expect(timeline.nextFrameIndex - filled <= 48 * 110, "the count ran \(timeline.nextFrameIndex - filled) frames past the silence")
    }

    /// A device that loses what it could not deliver (a suspended `hw:`
    /// device, a server that discards): after the stall's silence, its first
    /// period is placed where it was measured, the lag before it silence.
    @Test func aDeviceThatResumesWithoutABurstIsPlacedWhereMeasured() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        let frozen = start + 10 * period
        idle(&timeline, at: frozen + 300_000_000)
        idle(&timeline, at: frozen + 400_000_000)
        // Back 80 ms after the last look: 90 ms of lag.
        let result = capture(&timeline, measured: frozen + 480_000_000)
        #expect(result.placement.gapFrames == 48 * 90)
        #expect(result.captureTime == frozen + 480_000_000)
        #expect(result.placement.dropFrames == 0)
    }

    /// Without any stall seen (the capture thread itself was not woken, or
    /// the lag grew under 100 ms at a time), a trusted measurement later
    /// than the count by more than the stall threshold is a loss too.
    @Test func lateByMoreThanTheStallThresholdIsALossWithoutAFullBuffer() {
        var timeline = makeTimeline()
        for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
        let near = capture(&timeline, measured: start + 10 * period + 150_000_000)
        #expect(near.placement.gapFrames == 0)
        // Read at once after another: maybe a backlog, not a loss.
        let burst = capture(&timeline, measured: start + 11 * period + 250_000_000, caughtUp: false)
        #expect(burst.placement.gapFrames == 0)
        // Waited for: 250 ms late (less the 0.1 ms the origin crept).
        let far = capture(&timeline, measured: start + 12 * period + 250_000_000)
        #expect(far.placement.isSilentLoss)
        #expect(abs(far.placement.gapFrames - 48 * 250) <= 10, "\(far.placement.gapFrames)")
        #expect(abs(far.captureTime - (start + 12 * period + 250_000_000)) < 21_000)
    }

    /// A reopened device's first period is placed by its measurement, ahead
    /// of the silence (drop) or behind it (fill).
    @Test func aReopenedDeviceIsPlacedByItsFirstMeasurement() {
        for offset: Int64 in [-30_000_000, 70_000_000] {
            var timeline = makeTimeline()
            for n in 0..<10 { _ = capture(&timeline, measured: start + Int64(n) * period) }
            let lost = start + 10 * period
            for step: Int64 in 1...20 { idle(&timeline, at: lost + 200_000_000 + step * 100_000_000) }
            timeline.deviceReopened()
            let count = start + timeline.nanoseconds(frames: timeline.nextFrameIndex)
            if offset < 0 {
                // 30 ms ahead: three periods' worth cannot be placed.
                var dropped = 0
                for n: Int64 in 0..<3 {
                    let result = capture(&timeline, measured: count + offset + n * period, bufferFull: true)
                    dropped += result.placement.dropFrames
                }
                #expect(dropped == 48 * 30)
                let placed = capture(&timeline, measured: count + offset + 3 * period, bufferFull: true)
                #expect(placed.placement.dropFrames == 0 && placed.placement.gapFrames == 0)
                #expect(placed.captureTime == count)
            } else {
                let result = capture(&timeline, measured: count + offset, bufferFull: true)
                #expect(result.placement.gapFrames == 48 * 70)
                #expect(result.captureTime == count + offset)
            }
            #expect(!timeline.recovering)
        }
    }

    /// Lost before it ever delivered: silence follows the clock from the loss.
    @Test func aDeviceLostBeforeItsFirstPeriodStillGetsSilence() throws {
        var timeline = makeTimeline()
        #expect(timeline.idle(at: start) == nil)
        timeline.startWithoutDevice(at: start)
        let fill = try #require(idle(&timeline, at: start + 500_000_000))
        #expect(fill.frames == Int64(48 * 490))
        #expect(fill.start == start)
    }

    @Test func aDeviceClockHalfAPercentSlowIsFollowed() {
        // 0.5 % slow: each frame comes 5 ms per second later than the
        // nominal rate says; the 1 % creep follows it.
        var timeline = makeTimeline()
        var last: Int64 = 0
        for n in 0..<6000 {
            let measured = start + Int64(Double(n) * Double(period) * 1.005)
            let result = capture(&timeline, measured: measured)
            last = result.captureTime - measured
            #expect(result.placement.gapFrames == 0)
        }
        #expect(abs(last) < 100_000, "a minute in, stamps are \(Double(last) / 1e6) ms off the measurements")
    }

    @Test func samplesOfAnotherFormatAreConverted() {
        let s16: [Int16] = [0, 16384, -32768, 32767]
        var s32 = [Int32](repeating: 0, count: 4), float = [Float](repeating: 0, count: 4), back = [Int16](repeating: 0, count: 4)
        s16.withUnsafeBytes { source in
            s32.withUnsafeMutableBytes { SampleConversion.convert(4, from: .s16, source.baseAddress!, to: .s32, $0.baseAddress!) }
            float.withUnsafeMutableBytes { SampleConversion.convert(4, from: .s16, source.baseAddress!, to: .float32, $0.baseAddress!) }
        }
        #expect(s32 == [0, 1 << 30, Int32.min, 32767 << 16])
        #expect(float == [0, 0.5, -1, Float(32767) / 32768])
        float.withUnsafeBytes { source in
            back.withUnsafeMutableBytes { SampleConversion.convert(4, from: .float32, source.baseAddress!, to: .s16, $0.baseAddress!) }
        }
        #expect(back == s16)
        s32.withUnsafeBytes { source in
            back.withUnsafeMutableBytes { SampleConversion.convert(4, from: .s32, source.baseAddress!, to: .s16, $0.baseAddress!) }
        }
        #expect(back == s16)
        let loud: [Float] = [1.5, -1.5]
        var clamped = [Int16](repeating: 0, count: 2)
        loud.withUnsafeBytes { source in
            clamped.withUnsafeMutableBytes { SampleConversion.convert(2, from: .float32, source.baseAddress!, to: .s16, $0.baseAddress!) }
        }
        #expect(clamped == [32767, -32768])
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
