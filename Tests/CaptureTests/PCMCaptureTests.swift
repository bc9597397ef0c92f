@testable import CaptureALSA
import Foundation
import MediaCore
import Synchronization
import Testing
import TestSupport

/// PCM capture on the real bench: PulseAudio's null sink played into through
/// one ALSA PCM and captured through another, in real time. Needs
/// `scripts/testbench` (TestBench.current() fails loudly without it).
@Suite(.serialized, .tags(.bench)) struct PCMCaptureTests {
    let clock = MonotonicClock()

    // MARK: Sound and time

    @Test(arguments: [(44100, SampleFormat.s16), (48000, .float32)])
    func capturesA440HzToneStampedOnTheClock(sampleRate: Int, format: SampleFormat) async throws {
        let bench = try TestBench.current()
        let player = try TonePlayer(bench: bench, sampleRate: sampleRate, seconds: 5)
        defer { player.stop() }
        try await Task.sleep(for: .milliseconds(400))  // the tone is flowing before capture starts

        let counters = MediaCounters()
        let capture = try PCMCapture(
            configuration: PCMCaptureConfiguration(device: bench.capturePCM, sampleRate: sampleRate, formats: [format]),
            clock: clock, counters: counters)
        #expect(capture.format == AudioFormat(sampleFormat: format, sampleRate: sampleRate, channels: 2))
        let periodNanoseconds = Int64(capture.framesPerPeriod) * 1_000_000_000 / Int64(sampleRate)
        #expect((16_000_000...24_000_000).contains(periodNanoseconds), "period \(capture.framesPerPeriod) frames")
        #expect(capture.deviceBufferFrames >= sampleRate / 5, "device buffer \(capture.deviceBufferFrames) frames")

        let events = EventLog()
        let started = clock.now()
        capture.start(onEvent: events.handler)
        let collector = ChunkCollector()
        await collector.run(capture, seconds: 3.1)
        capture.stop()
        collector.drain(capture)
        let stopped = clock.now()

        let records = collector.records
        try #require(records.count > 100, "only \(records.count) chunks in 3.1 s")
        #expect(events.count == 0, "\(events.all)")

        // The tone comes back at its frequency (the first 0.3 s skipped).
        let samples = Array(collector.channel0.dropFirst(Int(0.3 * Double(sampleRate))))
        #expect(ToneAnalysis.rms(samples) > 0.2, "no tone captured (rms \(ToneAnalysis.rms(samples)))")
        let frequency = try #require(ToneAnalysis.medianFrequency(of: samples, sampleRate: Double(sampleRate)))
        #expect(abs(frequency - 440) < 1, "tone captured at \(frequency) Hz")

        // The sample count keeps pace with the clock: against the stamps
        // within 0.5 %, and against the consumer's own clock readings within
        // 1 % (pops lag by the sound server's delivery jitter, up to ~10 ms,
        // which over 2 s is 0.5 % by itself).
        let first = records[0], last = records[records.count - 1]
        let frames = Double(last.firstFrameIndex - first.firstFrameIndex)
        let popped = Double(last.popTime - first.popTime) / 1e9
        #expect(popped >= 3, "only \(popped) s between first and last pops")
        let popRatio = try #require(records.paceAgainstPops(sampleRate: sampleRate))
        #expect(abs(popRatio - 1) < 0.01, "frames per second of the consumer's clock: \(popRatio) × \(sampleRate)")
        let elapsed = Double(last.captureTime - first.captureTime) / 1e9
        let ratio = frames / Double(sampleRate) / elapsed
        #expect(abs(ratio - 1) < 0.005, "\(Int(frames)) frames in \(elapsed) s of stamps: ratio \(ratio)")

        // Each chunk was popped after its last frame was captured, and soon
        // after (the consumer polls every 5 ms; the sound server hands the
        // plugin a period at a time): stamps are neither in the future nor
        // stale by more than two periods and the poll.
        let latencies = records.popLatencies(sampleRate: sampleRate).sorted()
        #expect(latencies.first! > 0, "a chunk was popped \(Double(-latencies.first!) / 1e6) ms before its stamp says it ended")
        let typicalLatency = latencies[latencies.count * 95 / 100]
        #expect(typicalLatency < 2 * periodNanoseconds + 10_000_000,
                "95 % of chunks popped within \(Double(typicalLatency) / 1e6) ms of their end")

        // Stamps strictly increase, follow the frame index (all within 5 ms,
        // 95 % within 1 ms), and lie in the run: the first frame was captured
        // after start and before it was popped, the last before stop.
        let increasing = zip(records, records.dropFirst()).allSatisfy { $0.captureTime < $1.captureTime }
        #expect(increasing)
        let deviation = records.largestTimelineDeviation(sampleRate: sampleRate)
        #expect(deviation < 5_000_000, "a stamp is \(Double(deviation) / 1e6) ms off the sample timeline; \(records.worstStampContext(sampleRate: sampleRate))")
        let typical = records.timelineDeviation(sampleRate: sampleRate, percentile: 95)
        #expect(typical < 1_000_000, "95 % of stamps within \(Double(typical) / 1e6) ms of the sample timeline")
        let firstPop = try #require(collector.firstPopTime)
        #expect(first.captureTime > started - 20_000_000 && first.captureTime < firstPop,
                "first stamp \(Double(first.captureTime - started) / 1e6) ms after start, popped at \(Double(firstPop - started) / 1e6) ms")
        #expect(last.captureTime < stopped)
        #expect(records.timelineBreaks.isEmpty, "frame index jumps at \(records.timelineBreaks)")
        #expect(first.firstFrameIndex == 0)

        let statistics = counters.snapshot()
        #expect(statistics.audioFramesCaptured == records.reduce(0) { $0 + $1.frameCount })
        #expect(statistics.audioPeriodsCaptured == records.count)
        #expect(statistics.audioFramesDropped == 0)
        #expect(statistics.audioOverruns == 0)
        print("PCMCapture \(sampleRate) \(format): \(records.count) chunks, \(frequency) Hz, ratio \(ratio) / \(popRatio), deviation \(Double(deviation) / 1e6) ms, pop latency min \(Double(latencies.first!) / 1e6) p50 \(Double(latencies[latencies.count / 2]) / 1e6) p95 \(Double(typicalLatency) / 1e6) max \(Double(latencies.last!) / 1e6) ms")
    }

    // MARK: A slow consumer, a full queue, an overrun

    @Test func aConsumerStalledForTwoSecondsLosesNothing() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let capture = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM),
                                     clock: clock, counters: counters)
        let periodsInTwoSeconds = 2 * capture.format.sampleRate / capture.framesPerPeriod
        #expect(capture.queueCapacity > periodsInTwoSeconds, "queue of \(capture.queueCapacity) periods")
        let events = EventLog()
        capture.start(onEvent: events.handler)
        let collector = ChunkCollector()
        await collector.run(capture, seconds: 3, stallAfter: 0.4, stallSeconds: 2)
        capture.stop()
        collector.drain(capture)

        let records = collector.records
        let statistics = counters.snapshot()
        #expect(statistics.audioFramesDropped == 0)
        #expect(events.count == 0, "\(events.all)")
        // The queue really held the two seconds, and every chunk came through
        // in order, with no hole in the sample timeline.
        #expect(collector.maximumQueued >= periodsInTwoSeconds * 9 / 10, "at most \(collector.maximumQueued) chunks were queued")
        #expect(records.count == statistics.audioPeriodsCaptured)
        #expect(records.timelineBreaks.isEmpty, "frame index jumps at \(records.timelineBreaks)")
        #expect(records.first?.firstFrameIndex == 0)
        let frames = records.reduce(0) { $0 + $1.frameCount }
        #expect(frames >= capture.format.sampleRate * 29 / 10, "only \(frames) frames in 3 s")
        // Memory stayed flat: the pool is what `init` made, and every buffer
        // came back to it.
        #expect(capture.freeBufferCount == capture.queueCapacity)
    }

    @Test func aFullQueueDropsPeriodsCountsThemAndNeverBlocksCapture() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let capture = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM, queueSeconds: 0.2),
                                     clock: clock, counters: counters)
        capture.start()
        let collector = ChunkCollector()
        await collector.run(capture, seconds: 1.8, stallAfter: 0.3, stallSeconds: 1)
        capture.stop()
        collector.drain(capture)

        let records = collector.records
        let statistics = counters.snapshot()
        let rate = capture.format.sampleRate
        // About 0.8 s lost (a 1 s stall less the 0.2 s queue), every frame of
        // it counted, and exactly that hole in the sample timeline.
        #expect(statistics.audioFramesDropped > rate / 2 && statistics.audioFramesDropped < rate,
                "\(statistics.audioFramesDropped) frames dropped")
        #expect(records.skippedFrames == Int64(statistics.audioFramesDropped))
        #expect(statistics.audioFramesCaptured == records.reduce(0) { $0 + $1.frameCount } + statistics.audioFramesDropped)
        #expect(statistics.audioOverruns == 0, "capture waited for the consumer")
        // Capture kept reading in real time through the stall: stamps still
        // follow the frame index, dropped frames included.
        let deviation = records.largestTimelineDeviation(sampleRate: rate)
        #expect(deviation < 5_000_000, "a stamp is \(Double(deviation) / 1e6) ms off the sample timeline; \(records.worstStampContext(sampleRate: rate))")
        #expect(capture.freeBufferCount == capture.queueCapacity)
    }

    @Test func aCaptureThreadStalledBeyondTheDeviceBufferKeepsTheTimeline() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let capture = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM),
                                     clock: clock, counters: counters)
        let stall = 3 * capture.deviceBufferFrames * 1_000_000_000 / capture.format.sampleRate
        capture.start()
        let collector = ChunkCollector()
        await collector.run(capture, seconds: 2, actionAfter: 0.4) {
            capture.stallCaptureThreadOnce(nanoseconds: Int64(stall))
        }
        capture.stop()
        collector.drain(capture)

        // Whatever the device does with what it could not deliver (the bench's
        // pulse plugin keeps it in the sound server; a `hw:` device overruns
        // and capture fills the gap), the sample count and the stamps agree
        // through the stall, and the count keeps pace with the clock.
        let records = collector.records
        let rate = capture.format.sampleRate
        #expect(records.timelineBreaks.isEmpty, "frame index jumps at \(records.timelineBreaks)")
        let deviation = records.largestTimelineDeviation(sampleRate: rate)
        #expect(deviation < 5_000_000, "a stamp is \(Double(deviation) / 1e6) ms off the sample timeline; \(records.worstStampContext(sampleRate: rate))")
        let first = try #require(records.first), last = try #require(records.last)
        let ratio = Double(last.firstFrameIndex - first.firstFrameIndex) / Double(rate)
            / (Double(last.captureTime - first.captureTime) / 1e9)
        #expect(abs(ratio - 1) < 0.005, "sample count against clock: \(ratio)")
        let statistics = counters.snapshot()
        #expect(statistics.audioFramesDropped == 0)
        #expect((statistics.audioOverruns == 0) == (statistics.audioSilenceFrames == 0), "\(statistics)")
    }

    @Test func anOverrunIsRecoveredAndFilledWithSilenceOfTheLostLength() async throws {
        let bench = try TestBench.current()
        let player = try TonePlayer(bench: bench, sampleRate: 48000, seconds: 6)
        defer { player.stop() }
        let counters = MediaCounters()
        let capture = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM),
                                     clock: clock, counters: counters)
        let events = EventLog()
        capture.start(onEvent: events.handler)
        let collector = ChunkCollector()
        // The bench's pulse plugin never reports an overrun (the sound server
        // buffers), so the capture thread is made to stall 300 ms and then take
        // the -EPIPE path; recovery really re-prepares the device, which drops
        // what it held and takes a while to deliver again.
        await collector.run(capture, seconds: 3.5, actionAfter: 0.3) {
            capture.stallCaptureThreadOnce(nanoseconds: 300_000_000, thenOverrun: true)
        }
        capture.stop()
        collector.drain(capture)

        let records = collector.records
        let statistics = counters.snapshot()
        let rate = capture.format.sampleRate
        #expect(events.count == 0, "\(events.all)")
        #expect(statistics.audioOverruns == 1)
        #expect(statistics.audioFramesDropped == 0)
        // The silence covers the stall, and is all marked as such. It runs
        // from the frame after the last one read before the stall (captured
        // up to a period before the stall began) to the first one captured
        // after the restart, as measured: at least the stall less a period.
        let silence = statistics.audioSilenceFrames
        #expect(silence > rate * 3 / 10 - capture.framesPerPeriod && silence < rate * 3, "\(silence) frames of silence")
        let gapFill = records.filter(\.isGapFill)
        #expect(gapFill.reduce(0) { $0 + $1.frameCount } == silence)
        let firstGap = try #require(records.firstIndex { $0.isGapFill })
        let afterGap = try #require(records[firstGap...].firstIndex(where: { !$0.isGapFill }))
        #expect(records.count - afterGap > 20, "only \(records.count - afterGap) chunks after the gap")
        #expect(records[afterGap...].allSatisfy { !$0.isGapFill }, "more than one gap")
        // Gap fill is digital silence; the chunks around it carry the tone.
        let offsets = records.sampleOffsets
        for index in firstGap..<afterGap {
            let samples = collector.channel0[offsets[index]..<offsets[index] + records[index].frameCount]
            #expect(samples.allSatisfy { $0 == 0 }, "gap fill chunk \(index) is not silent")
        }
        for index in [firstGap - 1, afterGap + 5] where index >= 0 {
            let samples = Array(collector.channel0[offsets[index]..<offsets[index] + records[index].frameCount])
            #expect(ToneAnalysis.rms(samples) > 0.2, "chunk \(index) next to the gap has no tone")
        }
        // One continuous timeline through the gap, and stamps that still follow
        // it: the silence had the right length.
        #expect(records.timelineBreaks.isEmpty, "frame index jumps at \(records.timelineBreaks)")
        let increasing = zip(records, records.dropFirst()).allSatisfy { $0.captureTime < $1.captureTime }
        #expect(increasing)
        let deviation = records.largestTimelineDeviation(sampleRate: rate)
        #expect(deviation < 5_000_000, "a stamp is \(Double(deviation) / 1e6) ms off the sample timeline; \(records.worstStampContext(sampleRate: rate))")
        #expect(statistics.audioFramesCaptured == records.filter { !$0.isGapFill }.reduce(0) { $0 + $1.frameCount })
    }

    // MARK: A sound server that freezes, dies, comes back

    /// The first fault at the capture: the sound server behind the
    /// PCM freezes (SIGSTOP) for 3 s while a tone plays. Capture fills the
    /// 3 s with silence as the clock passes (the consumer keeps getting
    /// audio), reports the device quiet after its 2.5 s timeout and back when
    /// it delivers; what the server sends in a burst when it resumes (it
    /// renders the frozen interval at once) is dropped, since its time is
    /// already silence; the timeline never leaves the clock.
    @Test func aFrozenSoundServerBecomesSilenceByTheClockAndItsLateBurstIsDropped() async throws {
        let bench = try TestBench.current()
        let server = try TestSoundServer(bench: bench)
        let player = try TonePlayer(bench: bench, server: server, sampleRate: 48000, seconds: 12)
        defer { player.stop() }
        try await server.whileSelected {
            let counters = MediaCounters()
            let capture = try PCMCapture(
                configuration: PCMCaptureConfiguration(device: server.capturePCM, deviceTimeoutSeconds: 2.5),
                clock: clock, counters: counters)
            let events = EventLog()
            capture.start(onEvent: events.handler)
            let collector = ChunkCollector()
            let times = Mutex<(hung: Int64, resumed: Int64)>((0, 0))
            await collector.run(capture, seconds: 7.5, actions: [
                (1.5, { times.withLock { $0.hung = MonotonicClock().now() }; server.hang() }),
                (4.5, { server.resume(); times.withLock { $0.resumed = MonotonicClock().now() } }),
            ])
            let stopping = clock.now()
            capture.stop()
            #expect(clock.now() - stopping < 300_000_000, "stop took \(Double(clock.now() - stopping) / 1e6) ms")
            collector.drain(capture)
            let (hung, resumed) = times.withLock { $0 }
            let rate = capture.format.sampleRate
            let records = collector.records
            let statistics = counters.snapshot()

            // Reported quiet after the timeout, back once it delivers.
            let loss = try #require(events.losses.first, "\(events.all)")
            #expect(events.losses.count == 1 && events.restorations.count == 1, "\(events.all)")
            #expect(loss.code == .timedOut)
            let lossTime = try #require(events.all.first?.time)
            #expect(lossTime - hung >= 2_400_000_000 && lossTime - hung < 3_000_000_000,
                    "reported \(Double(lossTime - hung) / 1e6) ms after the freeze")
            let quiet = try #require(events.restorations.first)
            #expect(quiet > 2_800_000_000 && quiet < 3_600_000_000, "restored after \(Double(quiet) / 1e6) ms")

            // About 3 s of silence, filled while the server was frozen: the
            // consumer got audio throughout (no pop was a second late).
            let silence = Double(statistics.audioSilenceFrames) / Double(rate)
            #expect(silence > 2.8 && silence < 3.3, "\(silence) s of silence")
            let filledDuringFreeze = records.filter { $0.isGapFill && $0.popTime > hung && $0.popTime < resumed }
                .reduce(0) { $0 + $1.frameCount }
            #expect(Double(filledDuringFreeze) / Double(rate) > 2.3, "only \(filledDuringFreeze) frames reached the consumer while frozen")
            // The burst after it was dropped, not placed after the silence.
            let dropped = Double(statistics.audioFramesDropped) / Double(rate)
            #expect(dropped > 2, "\(dropped) s dropped")
            #expect(statistics.audioOverruns >= 1)

            // One timeline on the clock throughout: no hole in the index, the
            // count keeps pace with the consumer's clock, stamps follow it.
            #expect(records.timelineBreaks.isEmpty, "frame index jumps at \(records.timelineBreaks)")
            let pace = try #require(records.paceAgainstPops(sampleRate: rate))
            #expect(abs(pace - 1) < 0.01, "frames per second of the clock: \(pace) × \(rate)")
            let deviation = records.largestTimelineDeviation(sampleRate: rate)
            #expect(deviation < 10_000_000, "a stamp is \(Double(deviation) / 1e6) ms off the sample timeline; \(records.worstStampContext(sampleRate: rate))")
            // The tone goes on after the freeze, in chunks stamped after it.
            let offsets = records.sampleOffsets
            let after = records.indices.filter { !records[$0].isGapFill && records[$0].captureTime > resumed + 500_000_000 }
            try #require(after.count > 50, "only \(after.count) chunks after the freeze")
            let samples = after.flatMap { collector.channel0[offsets[$0]..<offsets[$0] + records[$0].frameCount] }
            #expect(ToneAnalysis.rms(samples) > 0.2, "no tone after the freeze")
            print("frozen server: \(silence) s silence, \(dropped) s dropped, restored after \(Double(quiet) / 1e6) ms, deviation \(Double(deviation) / 1e6) ms, pace \(pace)")
        }
    }

    /// The second fault at the capture: the sound server dies (a
    /// crash) and is started again 3 s later on the same socket. Capture
    /// reports the loss at once, goes on with silence that follows the
    /// clock, opens the device again with backoff, reports it back, and the
    /// tone played after the restart is captured on the same timeline.
    @Test func aSoundServerThatDiesIsReopenedAndTheTimelineFollowsTheClockMeanwhile() async throws {
        let bench = try TestBench.current()
        let server = try TestSoundServer(bench: bench)
        let restartedPlayer = Mutex<TonePlayer?>(nil)
        defer { restartedPlayer.withLock { $0?.stop() } }
        try await server.whileSelected {
            let counters = MediaCounters()
            let capture = try PCMCapture(
                configuration: PCMCaptureConfiguration(device: server.capturePCM, reopenMaximumIntervalSeconds: 1),
                clock: clock, counters: counters)
            let events = EventLog()
            capture.start(onEvent: events.handler)
            let collector = ChunkCollector()
            let times = Mutex<(killed: Int64, restarted: Int64)>((0, 0))
            await collector.run(capture, seconds: 9, actions: [
                (1, { times.withLock { $0.killed = MonotonicClock().now() }; server.kill() }),
                (4, {
                    try? server.restart()
                    times.withLock { $0.restarted = MonotonicClock().now() }
                    let player = try? TonePlayer(bench: bench, server: server, sampleRate: 48000, seconds: 8)
                    restartedPlayer.withLock { $0 = player }
                }),
            ])
            capture.stop()
            collector.drain(capture)
            let (killed, restarted) = times.withLock { $0 }
            let rate = capture.format.sampleRate
            let records = collector.records
            let statistics = counters.snapshot()

            let loss = try #require(events.losses.first, "\(events.all)")
            #expect(events.losses.count == 1 && events.restorations.count == 1, "\(events.all)")
            #expect(loss.context == .capture && loss.device == server.capturePCM, "\(loss)")
            #expect(loss.description.hasPrefix("audio device '\(server.capturePCM)': capture failed: "), "\(loss)")
            #expect(!loss.description.contains("\n"))
            let lossTime = try #require(events.all.first?.time)
            #expect(lossTime - killed < 1_000_000_000, "noticed after \(Double(lossTime - killed) / 1e6) ms")
            let restoredTime = try #require(events.all.last?.time)
            // Reopened within the backoff (1 s at most) and PulseAudio's own
            // start (up to 2 s) of the restart.
            #expect(restoredTime > restarted && restoredTime - restarted < 3_500_000_000,
                    "restored \(Double(restoredTime - restarted) / 1e6) ms after the restart")

            // Silence for the whole loss, delivered as the clock passed.
            let silence = Double(statistics.audioSilenceFrames) / Double(rate)
            let lost = Double(restoredTime - killed) / 1e9
            #expect(silence > lost - 0.3 && silence < lost + 0.3, "\(silence) s of silence for \(lost) s lost")
            let filledWhileDead = records.filter { $0.isGapFill && $0.popTime > killed && $0.popTime < restarted }
                .reduce(0) { $0 + $1.frameCount }
            #expect(Double(filledWhileDead) / Double(rate) > 2.3, "only \(filledWhileDead) frames reached the consumer while dead")
            #expect(records.timelineBreaks.isEmpty, "frame index jumps at \(records.timelineBreaks)")
            let pace = try #require(records.paceAgainstPops(sampleRate: rate))
            #expect(abs(pace - 1) < 0.01, "frames per second of the clock: \(pace) × \(rate)")
            let deviation = records.largestTimelineDeviation(sampleRate: rate)
            #expect(deviation < 10_000_000, "a stamp is \(Double(deviation) / 1e6) ms off the sample timeline; \(records.worstStampContext(sampleRate: rate))")

            // The tone played after the restart is there.
            let offsets = records.sampleOffsets
            let after = records.indices.filter { !records[$0].isGapFill && records[$0].captureTime > restoredTime + 500_000_000 }
            try #require(after.count > 50, "only \(after.count) chunks after the restart")
            let samples = after.flatMap { collector.channel0[offsets[$0]..<offsets[$0] + records[$0].frameCount] }
            #expect(ToneAnalysis.rms(samples) > 0.2, "no tone after the restart")
            let frequency = try #require(ToneAnalysis.medianFrequency(of: samples, sampleRate: Double(rate)))
            #expect(abs(frequency - 440) < 1, "tone at \(frequency) Hz")
            print("killed server: lost \(lost) s, \(silence) s silence, deviation \(Double(deviation) / 1e6) ms, pace \(pace)")
        }
    }

    // MARK: Start and stop

    @Test func stopIsPromptIdempotentAndLeavesQueuedChunks() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        let capture = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM),
                                     clock: clock, counters: counters)
        capture.start()
        let flowing = try await waitUntil(seconds: 5) { capture.chunks.approximateCount >= 5 }
        try #require(flowing, "no chunks within 5 s")
        let before = clock.now()
        capture.stop()
        let took = clock.now() - before
        #expect(took < 150_000_000, "stop took \(Double(took) / 1e6) ms")
        capture.stop()
        let periods = counters.audioPeriodsCaptured.load()
        try await Task.sleep(for: .milliseconds(60))
        #expect(counters.audioPeriodsCaptured.load() == periods, "capture went on after stop()")
        // What was captured before stop is still there to pop.
        var popped = 0
        while let chunk = capture.chunks.pop() {
            popped += 1
            _ = consume chunk
        }
        #expect(popped == periods)
    }

    @Test func releasingARunningCaptureStopsIt() async throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        do {
            let capture = try PCMCapture(configuration: PCMCaptureConfiguration(device: bench.capturePCM),
                                         clock: clock, counters: counters)
            capture.start()
            let flowing = try await waitUntil(seconds: 5) { counters.audioPeriodsCaptured.load() >= 3 }
            try #require(flowing, "no chunks within 5 s")
        }
        // `deinit` stopped and joined the thread and closed the PCM.
        let periods = counters.audioPeriodsCaptured.load()
        try await Task.sleep(for: .milliseconds(60))
        #expect(counters.audioPeriodsCaptured.load() == periods, "capture went on after its owner was released")
    }

    // MARK: Negotiation and bad input

    @Test func formatsAreTakenInTheConfiguredOrder() throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        func negotiated(_ device: String, _ formats: [SampleFormat], channels: Int = 2) throws -> SampleFormat {
            try PCMCapture(configuration: PCMCaptureConfiguration(device: device, channels: channels, formats: formats),
                           clock: clock, counters: counters).format.sampleFormat
        }
        // The bench PCM takes all three: the first preference wins.
        #expect(try negotiated(bench.capturePCM, [.float32, .s16]) == .float32)
        #expect(try negotiated(bench.capturePCM, [.s32, .float32]) == .s32)
        // ALSA's rate plugin takes no float: the next preference wins.
        let rateConverted = "lavrate:SLAVE=\"plug:\(bench.capturePCM)\""
        #expect(try negotiated(rateConverted, [.float32, .s32, .s16]) == .s32)
        // The speex plugin takes only S16 mono.
        let speex = "speex:SLAVE=\"plug:\(bench.capturePCM)\""
        #expect(try negotiated(speex, [.float32, .s32, .s16], channels: 1) == .s16)
    }

    @Test func aPCMThatDoesNotExistIsNamed() throws {
        _ = try TestBench.current()
        for device in ["nosuch", "hw:Loopback,1,0"] {
            let error = #expect(throws: ALSAError.self) {
                try PCMCapture(configuration: PCMCaptureConfiguration(device: device), clock: clock, counters: MediaCounters())
            }
            #expect(error?.context == .open)
            #expect(error?.device == device)
            let description = error?.description ?? ""
            #expect(description.hasPrefix("audio device '\(device)': cannot open: "), "\(description)")
            #expect(!description.contains("\n"))
        }
        let error = try #require(throws: ALSAError.self) {
            try PCMCapture(configuration: PCMCaptureConfiguration(device: "nosuch"), clock: clock, counters: MediaCounters())
        }
        #expect(error.code == .noSuchFileOrDirectory)
        #expect(error.description == "audio device 'nosuch': cannot open: No such file or directory (snd_pcm_open)")
    }

    @Test func valuesTheDeviceRefusesAreNamed() throws {
        let bench = try TestBench.current()
        let counters = MediaCounters()
        func refusal(_ configuration: PCMCaptureConfiguration) throws -> ALSAError {
            try #require(throws: ALSAError.self) { try PCMCapture(configuration: configuration, clock: clock, counters: counters) }
        }
        let device = bench.capturePCM
        // The pulse plugin offers 1 to 32 channels and 1 Hz to 384 kHz.
        let channels = try refusal(PCMCaptureConfiguration(device: device, channels: 64))
        #expect(channels.code == .invalidArgument)
        #expect(channels.context == .channels(64))
        #expect(channels.description.hasPrefix("audio device '\(device)': refuses 64 channels: Invalid argument"), "\(channels)")

        let rate = try refusal(PCMCaptureConfiguration(device: device, sampleRate: 500_000))
        #expect(rate.context == .sampleRate(500_000))
        #expect(rate.description.hasPrefix("audio device '\(device)': refuses sample rate 500000 Hz: "), "\(rate)")

        let speex = "speex:SLAVE=\"plug:\(device)\""
        let formats = try refusal(PCMCaptureConfiguration(device: speex, channels: 1, formats: [.s32, .float32]))
        #expect(formats.context == .sampleFormats([.s32, .float32]))
        #expect(formats.description.hasPrefix("audio device '\(speex)': refuses sample formats s32, float32: "), "\(formats)")

        for error in [channels, rate, formats] {
            #expect(!error.description.contains("\n"))
        }
    }

    @Test(arguments: [
        (PCMCaptureConfiguration(device: "nosuch", sampleRate: 0), SettingKey.audioCaptureRate, "0"),
        (PCMCaptureConfiguration(device: "nosuch", sampleRate: -44100), .audioCaptureRate, "-44100"),
        (PCMCaptureConfiguration(device: "nosuch", channels: 0), .audioCaptureChannels, "0"),
        (PCMCaptureConfiguration(device: "nosuch", formats: []), .audioSampleFormats, ""),
        (PCMCaptureConfiguration(device: "nosuch", periodNanoseconds: 0), .audioPeriod, "0 ns"),
        (PCMCaptureConfiguration(device: "nosuch", queueSeconds: .nan), .audioQueue, "nan s"),
        (PCMCaptureConfiguration(device: ""), .audioDevice, ""),
    ])
    func obviouslyBadValuesAreRefusedBeforeOpening(configuration: PCMCaptureConfiguration, key: SettingKey, value: String) throws {
        // "nosuch" does not exist: an `ALSAError` would mean it was opened first.
        let error = try #require(throws: InvalidSetting.self) {
            try PCMCapture(configuration: configuration, clock: clock, counters: MediaCounters())
        }
        #expect(error.key == key)
        #expect(error.value == value)
        #expect(error.description.hasPrefix("invalid \(key) '\(value)': "))
        #expect(!error.description.contains("\n"))
    }
}
