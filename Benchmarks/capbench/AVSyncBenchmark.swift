import ArgumentParser
import Foundation
import MediaCore
import RecorderEngine

/// A/V sync, proven on the bench: a probe flashes the screen and beeps into
/// the loopback at the same instant, about once a second; our engine
/// (`RecordingSession`) and Jibri's ffmpeg command record it in turn; each
/// file is decoded and every flash paired with its beep. Reported per
/// recorder: the offset's mean, its standard deviation and its drift, as
/// found in the file and net of the probe's own error for each event.
///
/// The probe's own error is measured in the same run, independently of the
/// recorders:
/// - each flash is on screen between the fill request and `XSync`'s return
///   (both stamped per flash);
/// - a pure audio capture (raw ALSA reads, stamped, running beside the
///   recorders) stamps every beep of the run;
/// - a pure video capture (grabs at the recording's rate, stamped, no
///   encoding) before the recordings gives, with those beeps, the offset a
///   recorder adding nothing would show;
/// - a file whose flashes and beeps coincide by construction gives the
///   analysis's own bias.
struct AVSyncBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avsync", abstract: "A/V offset, spread and drift of a flash+beep probe: ours against ffmpeg (Jibri).")

    @Option(help: "Seconds each recording lasts.") var seconds = 60.0
    @Option(help: "Recorded size WxH from the top-left corner.") var size = "1920x1080"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Rounds; each records with ours, then with ffmpeg.") var rounds = 1
    @Option(help: "Seconds of pure video capture of the probe before the recordings.") var calibrationSeconds = 10.0
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: "ALSA PCM the recorders capture (default $BENCH_CAPTURE_PCM).") var capturePcm: String?
    @Option(help: "ALSA PCM the probe plays into (default $BENCH_PLAYBACK_PCM).") var playbackPcm: String?
    @Option(help: "Also write the probe's own error per event as CSV (event, instant, flash error, beep error).")
    var eventsCsv: String?
    @OptionGroup var common: CommonOptions

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let display = display ?? environment["DISPLAY"],
              let capturePCM = capturePcm ?? environment["BENCH_CAPTURE_PCM"],
              let playbackPCM = playbackPcm ?? environment["BENCH_PLAYBACK_PCM"] else {
            throw ValidationError("needs a display and both loopback PCMs: run inside scripts/testbench, or pass "
                                  + "--display, --capture-pcm and --playback-pcm")
        }
        let frame = try FrameSize(parsing: size)
        guard seconds >= 3, calibrationSeconds >= 3, rounds > 0 else {
            throw ValidationError("--seconds and --calibration-seconds must be at least 3, --rounds positive")
        }
        RecordingSession.quietLibraryLogs()
        let scratch = try ScratchDirectory("avsync")

        // The analysis's own bias, on a file aligned by construction.
        let reference = scratch.file("aligned-reference.mp4")
        try RecordingAnalysis.writeAlignedReference(to: reference, seconds: 6)
        let referenceAnalysis = try RecordingAnalysis(path: reference)
        guard let analyzer = SyncStatistics(referenceAnalysis.pairs) else {
            throw BenchFailure("the analysis found no flash/beep pairs in its aligned reference \(reference)")
        }

        let probe = try SyncProbe(display: display, width: frame.width, height: frame.height, playbackPCM: playbackPCM)
        let audio = try RawPCMCapture(device: capturePCM)
        probe.start()
        audio.start()
        var stopped = false
        defer { if !stopped { _ = probe.stop(); _ = try? audio.stop() } }
        // Let the beep stream settle and the first event come.
        MonotonicClock().sleep(until: probe.schedule.time(of: 0) - 500_000_000)
        log("recording the probe with a pure video capture for \(calibrationSeconds) s")
        let flashGrabs = try ProbeCalibration.grabFlashes(display: display, width: frame.width, height: frame.height,
                                                          fps: fps, seconds: calibrationSeconds)

        var ours: [Recorded] = [], peer: [Recorded] = []
        var engineNotes: [String] = []
        for round in 0..<rounds {
            log("round \(round + 1): recording \(seconds) s with the engine")
            var start = Self.clockSeconds()
            let (analysis, note) = try recordOurs(display: display, frame: frame, capturePCM: capturePCM,
                                                  output: scratch.file("ours-\(round).mp4"))
            ours.append(Recorded(analysis: analysis, start: start))
            engineNotes.append(note)
            log("round \(round + 1): recording \(seconds) s with ffmpeg")
            start = Self.clockSeconds()
            peer.append(Recorded(analysis: try recordFFmpeg(display: display, frame: frame, capturePCM: capturePCM,
                                                            output: scratch.file("ffmpeg-\(round).mp4")), start: start))
        }
        let probeRun = probe.stop()
        let heard = try audio.stop()
        stopped = true
        if let error = probeRun.error { throw BenchFailure("the probe's beep stream failed: \(error)") }
        let calibration = ProbeCalibration(schedule: probe.schedule, flashes: probeRun.flashes, beeps: heard.beepTimes,
                                           flashGrabs: flashGrabs)

        var report = BenchReport(benchmark: "avsync", settings: [
            "seconds": "\(seconds)", "size": frame.description, "fps": "\(fps)", "rounds": "\(rounds)",
            "calibration seconds": "\(calibrationSeconds)",
            "offset": "sound minus picture, ms (positive: the beep comes after the flash)",
            "net of the probe": "each event's offset less the probe's own error for it (beep as a pure capture stamped it, "
                + "less the flash's time on screen); a recorder adding nothing shows about -\(String(format: "%.1f", 500.0 / Double(fps))) ms "
                + "there (half a frame: a flash shows on the first frame grabbed after it)",
            "drift": "least-squares line through the offsets, its change from the first event to the last",
            "probe": "1 kHz beep (80 ms) and full-region white flash (300 ms) at the same instant, 0.6 to 1.4 s apart (pseudo-random)",
            "probe threads real-time (SCHED_FIFO)": probe.realTime.load(ordering: .relaxed) ? "yes" : "no",
            "engine": engineNotes.joined(separator: "; "),
            "peer": "Jibri's ffmpeg command (x11grab + alsa, aresample=async=1, libx264 ultrafast crf 25, aac 128k)"])
        try addRecorderFigures(&report, ours: ours, peer: peer, calibration: calibration)
        addProbeFigures(&report, probe: probeRun, heard: heard, calibration: calibration, analyzer: analyzer)
        report.printTable()
        try report.write(json: common.json)
        if let eventsCsv { try writeEvents(calibration, schedule: probe.schedule, starts: (ours + peer).map(\.start), to: eventsCsv) }
    }

    /// One line per event the probe showed: when, and its flash's and beep's
    /// errors (ms; empty when that side was not seen), with the clock times
    /// at which recordings started, to see how the probe's error moves.
    private func writeEvents(_ calibration: ProbeCalibration, schedule: ProbeSchedule, starts: [Double],
                             to path: String) throws {
        var lines = ["# recordings started at (clock s): " + starts.map { String(format: "%.3f", $0) }.joined(separator: " "),
                     "event,instant_s,flash_error_ms,beep_error_ms"]
        for event in Set(calibration.flashErrors.keys).union(calibration.beepErrors.keys).sorted() {
            let flash = calibration.flashErrors[event].map { String(format: "%.3f", $0 * 1000) } ?? ""
            let beep = calibration.beepErrors[event].map { String(format: "%.3f", $0 * 1000) } ?? ""
            lines.append(String(format: "%d,%.6f,", event, Double(schedule.time(of: event)) / 1e9) + "\(flash),\(beep)")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A recording's analysis and the clock time (s) just before it started.
    struct Recorded {
        var analysis: RecordingAnalysis
        var start: Double
    }

    static func clockSeconds() -> Double { Double(MonotonicClock().now()) / 1e9 }

    private func recordOurs(display: String, frame: FrameSize, capturePCM: String,
                            output: String) throws -> (RecordingAnalysis, String) {
        var configuration = RecordingConfiguration(
            capture: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: frame.width, height: frame.height),
                                                 framesPerSecond: fps),
            audio: PCMCaptureConfiguration(device: capturePCM),
            audioEncoding: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
            video: VideoEncodingOptions(), output: FileOutput(path: output, overwrite: true))
        configuration.duration = seconds
        let session = try RecordingSession(configuration: configuration)
        try session.start()
        let result = session.waitUntilStopped()
        if let error = result.error { throw BenchFailure("the engine's recording failed: \(error)") }
        let statistics = result.statistics
        let note = String(format: "%d frames, %d dropped, %d duplicated; its own A/V estimate %+.1f ms",
                          statistics.framesEncoded, statistics.framesDropped, statistics.framesDuplicated,
                          statistics.audioVideoOffset * 1000)
        return (try RecordingAnalysis(path: output), note)
    }

    private func recordFFmpeg(display: String, frame: FrameSize, capturePCM: String, output: String) throws -> RecordingAnalysis {
        let arguments = JibriFFmpeg.recording(display: display, width: frame.width, height: frame.height,
                                              audioDevice: capturePCM, seconds: seconds, output: output, fps: fps)
        let child = try BenchChild(arguments, standardError: output + ".log")
        guard let outcome = child.wait(timeout: seconds + 60), outcome.status == 0 else {
            child.stop()
            throw BenchFailure("ffmpeg's recording failed (see \(output).log)")
        }
        return try RecordingAnalysis(path: output)
    }

    private func addRecorderFigures(_ report: inout BenchReport, ours: [Recorded], peer: [Recorded],
                                    calibration: ProbeCalibration) throws {
        func statistics(_ recordings: [Recorded], _ who: String, net: Bool) throws -> [SyncStatistics] {
            try recordings.map { recorded in
                let analysis = recorded.analysis
                let pairs = net ? calibration.netOfProbe(analysis.pairs, recordingStart: recorded.start) : analysis.pairs
                guard let statistics = SyncStatistics(pairs), statistics.count >= 2 else {
                    throw BenchFailure("\(who): fewer than two flash/beep pairs\(net ? " named by the pure capture" : "") in "
                                       + "\(analysis.path) (\(analysis.flashes.count) flashes, \(analysis.beeps.count) beeps, "
                                       + "\(analysis.pairs.count) pairs)")
                }
                return statistics
            }
        }
        func average(_ list: [SyncStatistics], _ value: (SyncStatistics) -> Double) -> Double {
            list.map(value).reduce(0, +) / Double(list.count)
        }
        let peerName = "ffmpeg (Jibri)"
        for net in [false, true] {
            let mine = try statistics(ours, "engine", net: net), theirs = try statistics(peer, "ffmpeg", net: net)
            let suffix = net ? ", net of the probe" : ""
            report.add(Figure("A/V offset\(suffix), mean", unit: "ms", ours: average(mine) { $0.mean } * 1000,
                              peer: average(theirs) { $0.mean } * 1000, peerName: peerName, comparable: false))
            report.add(Figure("A/V offset\(suffix), standard deviation", unit: "ms",
                              ours: average(mine) { $0.standardDeviation } * 1000,
                              peer: average(theirs) { $0.standardDeviation } * 1000, peerName: peerName))
            report.add(Figure("A/V drift\(suffix), first to last event", unit: "ms", ours: average(mine) { $0.drift } * 1000,
                              peer: average(theirs) { $0.drift } * 1000, peerName: peerName, comparable: false))
            report.add(Figure("A/V drift\(suffix), standard error", unit: "ms", ours: average(mine) { $0.driftError } * 1000,
                              peer: average(theirs) { $0.driftError } * 1000, peerName: peerName))
            report.add(Figure(net ? "events named by the pure capture" : "events paired", unit: "count",
                              ours: Double(mine.map(\.count).reduce(0, +)), peer: Double(theirs.map(\.count).reduce(0, +)),
                              peerName: peerName))
            if !net {
                report.add(Figure("span of the paired events", unit: "s", ours: average(mine) { $0.span },
                                  peer: average(theirs) { $0.span }, peerName: peerName))
            }
        }
    }

    private func addProbeFigures(_ report: inout BenchReport,
                                 probe: (flashes: [SyncProbe.Flash], beeps: [BeepPlayer.Beep], underruns: Int, error: String?),
                                 heard: RawPCMCapture.Recording, calibration: ProbeCalibration, analyzer: SyncStatistics) {
        if let drawn = SyncStatistics.meanAndDeviation(probe.flashes.map { Double($0.drawn - $0.scheduled) / 1e9 }) {
            report.add(Figure("probe: flash drawn (XSync returned) after its instant, mean", unit: "ms", ours: drawn.mean * 1000))
            report.add(Figure("probe: flash drawn (XSync returned) after its instant, max", unit: "ms", ours: drawn.maximum * 1000))
        }
        if let beep = SyncStatistics.meanAndDeviation(Array(calibration.beepErrors.values)) {
            let values = calibration.beepErrors.values
            report.add(Figure("probe: beep as a pure capture stamped it, after its instant, mean", unit: "ms",
                              ours: beep.mean * 1000, comparable: false))
            report.add(Figure("probe: beep as a pure capture stamped it, after its instant, sd", unit: "ms",
                              ours: beep.deviation * 1000))
            report.settings["probe: beep stamped after its instant, range"] = String(
                format: "%.2f to %.2f ms over %d beeps (the whole run)", values.min()! * 1000, values.max()! * 1000, values.count)
        }
        let origins = probe.beeps.filter { !$0.late }.map { Double($0.streamOrigin) / 1e6 }
        if !origins.isEmpty {
            report.settings["probe: beep stream"] = String(
                format: "%d beeps placed, origin estimate moved %.2f ms (min..max), %d late, %d underruns; pure capture: %d overruns",
                probe.beeps.count, origins.max()! - origins.min()!, probe.beeps.count(where: \.late), probe.underruns,
                heard.overruns)
        }
        if let grab = SyncStatistics.meanAndDeviation(calibration.flashGrabLatencies) {
            report.add(Figure("pure capture: flash grabbed after its instant, mean", unit: "ms", ours: grab.mean * 1000))
            report.add(Figure("pure capture: flash grabbed after its instant, sd", unit: "ms", ours: grab.deviation * 1000))
        }
        if let reference = SyncStatistics(calibration.pairs) {
            report.add(Figure("pure capture: A/V offset, mean (a recorder adding nothing)", unit: "ms",
                              ours: reference.mean * 1000, comparable: false))
            report.add(Figure("pure capture: A/V offset, sd", unit: "ms", ours: reference.standardDeviation * 1000))
        }
        report.add(Figure("analysis check: offset in a file aligned by construction", unit: "ms", ours: analyzer.mean * 1000,
                          comparable: false))
        report.settings["pure capture"] = "\(calibration.flashGrabLatencies.count) flashes grabbed, "
            + "\(calibration.pairs.count) paired with their beeps; \(calibration.beepErrors.count) beeps stamped over the run"
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench avsync: \(message)\n".utf8))
    }
}
