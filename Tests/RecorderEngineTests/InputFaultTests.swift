import AVProbe
import Foundation
import MediaCore
import RecorderEngine
import Synchronization
import Testing
import TestSupport

/// A recording survives its inputs' faults (issue 11, parts 1 and 2), on the
/// bench: a black region with a flash and a beep at known instants (the
/// probe), a private sound server the test freezes, kills and restarts, a
/// private X server it kills. Each test checks what the file holds.
@Suite(.serialized, .tags(.bench)) struct InputFaultTests {
    /// What one probed recording gave.
    struct Probed {
        var result: RecordingResult
        var probe: FlashBeepProbe.Report
        var warnings: [RecordingWarning]
        var analysis: FlashBeepAnalysis
        var video: Double
        var audio: Double
        /// Clock times (ns) just before and just after each fault ran, in
        /// order: when it took effect lies between (on a loaded host the
        /// thread may be preempted between reading the clock and the fault).
        var faultTimes: [(before: Int64, after: Int64)]
    }

    /// Records `seconds` of a 320x240 black region of the bench's display at
    /// 30 fps with sound from `server` (captured at 44.1 kHz, AAC 44.1 kHz),
    /// flashing and beeping at `events` (seconds after the session starts),
    /// running each fault at its time.
    ///
    /// The probe's beeps go through the sound server the faults hit, so now
    /// and then its stream cannot place a beep after a fault (seen once in
    /// four quiet runs: the first beep after a freeze). Such a run did not
    /// get its input and judges nothing; it is recorded once more, and what
    /// the second run delivers is checked like any other.
    private func record(_ bench: TestBench, server: TestSoundServer, seconds: Double, events: [Double],
                        faults: [(at: Double, run: @Sendable () -> Void)], name: String) async throws -> Probed {
        let first = try await recordOnce(bench, server: server, seconds: seconds, events: events, faults: faults, name: name)
        let delivered = first.probe.beeps.count == events.count && first.probe.flashes.count == events.count
            && first.probe.beepErrors.count == events.count
        let probed = delivered ? first
            : try await recordOnce(bench, server: server, seconds: seconds, events: events, faults: faults, name: name + "-again")
        if !delivered {
            print("\(name): the probe placed beeps \(first.probe.beeps.map(\.event)) and drew flashes "
                  + "\(first.probe.flashes) of \(events.count): recorded once more")
        }
        let placed = probed.probe
        #expect(placed.beeps.count == events.count, "beeps placed: \(placed.beeps.map(\.event))")
        #expect(placed.flashes.count == events.count, "flashes drawn: \(placed.flashes)")
        #expect(placed.beepErrors.count == events.count, "beeps heard: \(placed.beepErrors)")
        return probed
    }

    private func recordOnce(_ bench: TestBench, server: TestSoundServer, seconds: Double, events: [Double],
                            faults: [(at: Double, run: @Sendable () -> Void)], name: String) async throws -> Probed {
        let output = "\(try bench.scratchDirectory(name))/\(name).mp4"
        var configuration = try SessionFixture.configuration(bench, output: output, seconds: seconds)
        configuration.audio = PCMCaptureConfiguration(device: server.capturePCM, sampleRate: 44_100)
        let session = try RecordingSession(configuration: configuration)
        let clock = MonotonicClock()
        // The probe's beep stream needs half a second to place beeps to the
        // sample; the session starts a second after it.
        let start = clock.now() + 1_000_000_000
        let probe = try FlashBeepProbe(display: bench.display, width: 320, height: 240, playbackPCM: server.playbackPCM,
                                       capturePCM: server.capturePCM, instants: events.map { start + Int64($0 * 1e9) })
        probe.start()
        let warnings = Mutex<[RecordingWarning]>([])
        let stream = session.events
        let listener = Task {
            for await event in stream {
                if case let .warning(warning) = event { warnings.withLock { $0.append(warning) } }
            }
        }
        let faultTimes = Mutex<[(before: Int64, after: Int64)]>([])
        let faulting = Task.detached {
            for fault in faults {
                let due = start + Int64(fault.at * 1e9)
                while clock.now() < due { try? await Task.sleep(for: .milliseconds(5)) }
                let before = clock.now()
                fault.run()
                let after = clock.now()
                faultTimes.withLock { $0.append((before, after)) }
            }
        }
        clock.sleep(until: start)
        let result = try await session.record()
        await faulting.value
        await listener.value
        let placed = probe.stop()
        let streams = try MediaProbe(path: output, countFrames: false)
        return Probed(result: result, probe: placed, warnings: warnings.withLock { $0 }, analysis: try FlashBeepAnalysis(path: output, run: Subprocess.runBinary),
                      video: streams.video?.duration ?? 0, audio: streams.audio?.duration ?? 0,
                      faultTimes: faultTimes.withLock { $0 })
    }

    /// Each beep less its flash in the file, net of the probe, seconds.
    ///
    /// - The flash: a picture is grabbed at its frame's deadline, so the
    ///   first white one came up to a frame interval after the flash; the
    ///   middle of that interval is taken (±16.7 ms at 30 fps).
    /// - The beep: the sound server placed it where the probe's plain
    ///   capture heard it, not always at its instant; that error is taken
    ///   out (see `FlashBeepProbe`).
    private func offsets(_ probed: Probed) -> [(flash: Double, offset: Double)] {
        let analysis = probed.analysis, drawn = probed.probe.flashes
        guard analysis.pairs.count == drawn.count else { return [] }
        return zip(analysis.pairs, drawn).compactMap { pair, event in
            probed.probe.beepErrors[event].map { (pair.flash, pair.offset + 0.5 / 30 - $0) }
        }
    }

    /// Issue 11, part 1. The sound server is frozen (SIGSTOP) from 5 to 8 s
    /// of a 25 s recording; flash + beep at 2, 12, 18 and 24 s. Before the
    /// fix every beep after the freeze came 475-489 ms before its flash and
    /// the audio track was 0.4 s short.
    @Test func aFrozenSoundServerKeepsEveryBeepOnItsFlash() async throws {
        let bench = try TestBench.current()
        let server = try TestSoundServer(bench: bench)
        let probed = try await server.whileSelected {
            try await record(bench, server: server, seconds: 25, events: [2, 12, 18, 24], faults: [
                (5, { server.hang() }), (8, { server.resume() }),
            ], name: "frozen")
        }
        let result = probed.result, analysis = probed.analysis
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.stopReason == .durationReached)
        // Every beep within 40 ms of its flash, before the freeze and after.
        #expect(analysis.pairs.count == 4, "flashes \(analysis.flashes), beeps \(analysis.beeps)")
        let offsets = offsets(probed)
        #expect(offsets.count == 4, "\(probed.probe)")
        for pair in offsets {
            #expect(abs(pair.offset) <= 0.040, "the beep at \(pair.flash) s is \(pair.offset * 1000) ms off its flash")
        }
        // The freeze is silence, counted: about 132,300 frames at 44.1 kHz
        // for 3 s, measured against the freeze as it ran (the faults' clock
        // times). No less than the freeze (within 50 ms); up to 100 ms more,
        // as the time the resumed server takes to deliver in real time again
        // is silence too (the first period on time is placed where measured:
        // 50-57 ms over the freeze in quiet runs, every beep still on its flash).
        let silence = result.statistics.audioSilenceFrames
        let times = probed.faultTimes
        // The freeze as it ran: at least from the stop's return to the
        // resume's start, at most from the stop's start to the resume's return.
        let shortest = times.count == 2 ? Double(times[1].before - times[0].after) / 1e9 : 0
        let longest = times.count == 2 ? Double(times[1].after - times[0].before) / 1e9 : 0
        let frozen = (shortest + longest) / 2
        let frozenFrames = Int((frozen * 44_100).rounded())
        #expect(abs(frozen - 3) < 0.1, "the freeze lasted \(frozen) s")
        #expect(silence >= Int((shortest * 44_100).rounded()) - 2_205 && silence <= Int((longest * 44_100).rounded()) + 4_410,
                "\(silence) frames of silence for a freeze of \(Int((shortest * 44_100).rounded()))-\(Int((longest * 44_100).rounded())) frames")
        #expect(analysis.silentFraction(from: 5.3, to: 7.7) > 0.95, "the freeze is not silent")
        // Audio and video last as long as each other.
        #expect(abs(probed.audio - probed.video) <= 0.050, "audio \(probed.audio) s, video \(probed.video) s")
        #expect(abs(probed.video - 25) <= 0.05, "video \(probed.video) s")
        print("frozen sound server (\(shortest)-\(longest) s): offsets \(offsets.map { String(format: "%.1f", $0.offset * 1000) }) ms "
              + "(in the file \(analysis.pairs.map { String(format: "%.1f", $0.offset * 1000) }), the probe's beeps "
              + "\(probed.probe.beepErrors.sorted { $0.key < $1.key }.map { String(format: "%.1f", $0.value * 1000) })), "
              + "silence \(silence) frames, dropped \(result.statistics.audioFramesDropped), audio \(probed.audio) s, video \(probed.video) s")
    }

    /// Issue 11, part 2. The sound server is killed at 5 s and started again
    /// on the same socket at 10 s of a 20 s recording; flash + beep at 2,
    /// 14, 16.5 and 19 s. Before the fix the recording ended at 5.1 s with
    /// an error. Now video goes on, the sound is silence while the server is
    /// gone, the loss and the return are warnings, and the beeps after the
    /// return are on their flashes.
    @Test func aKilledSoundServerIsReopenedAndItsSoundComesBackInSync() async throws {
        let bench = try TestBench.current()
        let server = try TestSoundServer(bench: bench)
        let probed = try await server.whileSelected {
            try await record(bench, server: server, seconds: 20, events: [2, 14, 16.5, 19], faults: [
                (5, { server.kill() }), (10, { try? server.restart() }),
            ], name: "killed")
        }
        let result = probed.result, analysis = probed.analysis
        #expect(result.error == nil, "\(String(describing: result.error))")
        #expect(result.stopReason == .durationReached)
        #expect(result.statistics.framesEncoded == 600)
        // One loss, one return, typed.
        let losses = probed.warnings.compactMap { if case let .audioDeviceLost(error) = $0 { error } else { nil } }
        let returns = probed.warnings.compactMap { if case let .audioDeviceRestored(device, after) = $0 { (device, after) } else { nil } }
        #expect(losses.count == 1 && returns.count == 1, "\(probed.warnings)")
        #expect(losses.first?.context == .capture && losses.first?.device == server.capturePCM)
        if let back = returns.first {
            #expect(back.0 == server.capturePCM)
            #expect(back.1 > .seconds(5) && back.1 < .seconds(9), "back after \(back.1)")
        }
        // Every beep on its flash: before the loss and after the return.
        #expect(analysis.pairs.count == 4, "flashes \(analysis.flashes), beeps \(analysis.beeps)")
        let offsets = offsets(probed)
        #expect(offsets.count == 4, "\(probed.probe)")
        for pair in offsets {
            #expect(abs(pair.offset) <= 0.040, "the beep at \(pair.flash) s is \(pair.offset * 1000) ms off its flash")
        }
        // Silence while the server was gone, counted; the tracks as long as each other.
        #expect(analysis.silentFraction(from: 5.5, to: 9.8) > 0.95, "no silence while the server was gone")
        let silence = Double(result.statistics.audioSilenceFrames) / 44_100
        #expect(silence > 5 && silence < 9, "\(silence) s of silence")
        #expect(abs(probed.audio - probed.video) <= 0.050, "audio \(probed.audio) s, video \(probed.video) s")
        print("killed sound server: offsets \(offsets.map { String(format: "%.1f", $0.offset * 1000) }) ms "
              + "(in the file \(analysis.pairs.map { String(format: "%.1f", $0.offset * 1000) }), the probe's beeps "
              + "\(probed.probe.beepErrors.sorted { $0.key < $1.key }.map { String(format: "%.1f", $0.value * 1000) })), "
              + "silence \(silence) s, warnings \(probed.warnings)")
    }

    /// Issue 11, part 2, the display's side: an X server that goes away ends
    /// the recording (nothing left to capture), with the file finished and
    /// the sound up to that moment in it.
    @Test func anXServerThatGoesAwayEndsTheRecordingFinishedWithItsSound() async throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer(width: 640, height: 480)
        let tone = try ChildProcess.tone(pcm: bench.playbackPCM, seconds: 30)
        defer { tone.send(SIGTERM); tone.wait() }
        let output = "\(try bench.scratchDirectory("xgone"))/xgone.mp4"
        let configuration = try SessionFixture.configuration(bench, display: server.display, output: output, seconds: 30)
        let session = try RecordingSession(configuration: configuration)
        let killer = Task.detached {
            // Once 5 s are recorded, the X server dies.
            while session.statistics.framesEncoded < 150 { try? await Task.sleep(for: .milliseconds(20)) }
            server.process.send(SIGKILL)
        }
        let result = try await session.record()
        await killer.value
        guard case let .display(error)? = result.error else {
            Issue.record("expected a display error, got \(String(describing: result.error))")
            return
        }
        #expect(error.description.contains(server.display), "\(error)")
        #expect(result.stopReason == .failed)
        #expect(result.output == output)
        // Finished: a regular MP4 that decodes without an error.
        let boxes = try MediaProbe.topLevelBoxes(output)
        #expect(boxes.contains("moov") && !boxes.contains("moof"), "\(boxes)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
        let video = try MediaProbe.decodableSeconds(output, stream: "v:0")
        let audio = try MediaProbe.decodableSeconds(output, stream: "a:0")
        #expect(video >= 4.5 && video < 7, "video \(video) s")
        // The sound up to the end of the picture, and the tone in it to the end.
        #expect(audio >= video - 0.1, "audio \(audio) s, video \(video) s")
        let samples = try MediaProbe.decodeAudio(output, start: video - 0.6, seconds: 0.5)
        #expect(ToneAnalysis.rms(samples) > 0.1, "no tone before the end")
        print("X server gone: video \(video) s, audio \(audio) s, error: \(error)")
    }
}
