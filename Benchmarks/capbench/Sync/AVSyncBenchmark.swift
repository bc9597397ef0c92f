import ArgumentParser
import AVProbe
import Foundation
import HostProcesses
import MediaCore
import RecorderEngine

/// A/V sync, proven on the bench: a probe ramps a region of the screen from
/// black to white and starts a beep into the loopback at the same instant,
/// about once a second; our engine (`RecordingSession`) and Jibri's ffmpeg
/// command record it in turn; each file is decoded and every ramp paired with
/// its beep. Reported per recorder: the offset's mean, its standard deviation
/// and its drift, as found in the file and net of the probe's own error for
/// each event, and the spread split into its video and audio sides.
///
/// The picture's onset is measured to a fraction of a frame: every picture
/// taken during the ramp shows how far the ramp had got, so says when it
/// started (`RampSighting`); the beep's onset is found to the sample.
///
/// The probe's own error is measured in the same run, independently of the
/// recorders:
/// - every step of every ramp is stamped (fill request, `XSync` returned);
/// - a pure audio capture (raw ALSA reads, stamped, running beside the
///   recorders) stamps every beep of the run;
/// - a pure video capture (the engine's grabber alone, stamped, no encoding)
///   before the recordings measures its grab stamps against the ramps' steps
///   and gives, with those beeps, the offset a recorder stamping at capture
///   and adding nothing would show;
/// - a file whose ramps and beeps start together by construction gives the
///   analysis's own bias.
struct AVSyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avsync", abstract: "A/V offset, spread and drift of a ramp+beep probe: ours against ffmpeg (Jibri).")

    @Option(help: "Seconds each recording lasts.") var seconds = 60.0
    @Option(help: "Recorded size WxH from the top-left corner.") var size = "1920x1080"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Rounds; each records with ours, then with ffmpeg.") var rounds = 1
    @Option(help: "Seconds of pure video capture of the probe before the recordings.") var calibrationSeconds = 10.0
    @OptionGroup var bench: ProbeBench
    @Option(help: "Also write every event as CSV: the probe's own error for it, and what each recording found in it.")
    var eventsCsv: String?
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let (display, capturePCM, playbackPCM) = try bench.resolved()
        let frame = try FrameSize(parsing: size)
        guard seconds >= 3, calibrationSeconds >= 3, rounds > 0 else {
            throw ValidationError("--seconds and --calibration-seconds must be at least 3, --rounds positive")
        }
        let scratch = try ScratchDirectory("avsync")

        // The analysis's own bias, on a file aligned by construction.
        let reference = scratch.file("aligned-reference.mp4")
        try RecordingAnalysis.writeAlignedReference(to: reference, seconds: 6)
        let referenceAnalysis = try RecordingAnalysis(path: reference)
        guard let analyzer = SyncStatistics(referenceAnalysis.pairs) else {
            throw BenchFailure("the analysis found no ramp/beep pairs in its aligned reference \(reference)")
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
        let grabs = try ProbeCalibration.grabRamps(display: display, width: frame.width, height: frame.height,
                                                   fps: fps, seconds: calibrationSeconds)

        var ours: [Recorded] = [], peer: [Recorded] = []
        var engineNotes: [String] = []
        for round in 0..<rounds {
            log("round \(round + 1): recording \(seconds) s with the engine")
            var start = Self.clockSeconds()
            let (analysis, note) = try await recordOurs(display: display, frame: frame, capturePCM: capturePCM,
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
        let calibration = ProbeCalibration(schedule: probe.schedule, ramps: probeRun.ramps, beeps: heard.beepTimes,
                                           grabs: grabs)
        ours = ours.map { $0.naming(with: calibration) }
        peer = peer.map { $0.naming(with: calibration) }

        var report = BenchReport(benchmark: "avsync", settings: [
            "seconds": "\(seconds)", "size": frame.description, "fps": "\(fps)", "rounds": "\(rounds)",
            "calibration seconds": "\(calibrationSeconds)",
            "offset": "sound minus picture, ms (positive: the beep comes after the flash)",
            "flash onset": String(format: "each picture whose ramp-patch level is 10 to 90 percent of the way from the black "
                + "before the ramp to the white after it says when the ramp began (its PTS less the time the ramp took to "
                + "reach that level); the mean over the ramp's pictures (%.0f ms ramp: 3 to 4 pictures at 30 fps)",
                ProbeRamp.seconds * 1000),
            "net of the probe": "the ramp's start taken from the ramp as drawn (every step stamped), the beep less its lateness "
                + "as the pure audio capture stamped it: what the recorder itself put between sound and picture (0 is perfect); "
                + "a picture whose level the ramp took more than 8 ms to pass (+-3 levels: the X server or the probe stalled) "
                + "is left out, the probe cannot time it",
            "drift": "least-squares line through the offsets, its change from the first event to the last",
            "video side, audio side": "net offset = audio side - video side, per event: the beep in the file less its stamp by "
                + "the pure audio capture, the ramp's start in the file less its instant; each one's sd about its own line",
            "probe": String(format: "1 kHz beep (80 ms) and a grey ramp from black to white over %.0f ms, redrawn every %.0f ms, "
                + "in the middle ninth of the region (lit %.0f ms), starting at the same instant, 0.6 to 1.4 s apart "
                + "(pseudo-random)", ProbeRamp.seconds * 1000, Double(ProbeRamp.stepNanoseconds) / 1e6,
                ProbeRamp.litSeconds * 1000),
            "probe threads real-time (SCHED_FIFO)": probe.realTime.load(ordering: .relaxed) ? "yes" : "no",
            "engine": engineNotes.joined(separator: "; "),
            "peer": "Jibri's ffmpeg command (x11grab + alsa, aresample=async=1, libx264 ultrafast crf 25, aac 128k)"])
        try addRecorderFigures(&report, ours: ours, peer: peer, calibration: calibration)
        addProbeFigures(&report, probe: probeRun, heard: heard, calibration: calibration,
                        reference: referenceAnalysis, analyzer: analyzer)
        report.printTable()
        try report.write(json: common.json)
        if let eventsCsv {
            try writeEvents(calibration, schedule: probe.schedule, recordings: [("engine", ours), ("ffmpeg", peer)],
                            to: eventsCsv)
        }
    }

    /// One line per event the probe showed (source `probe`: its beep's and
    /// ramp's errors, the pure video capture's start error), then one per
    /// event each recording named (source `engine-1`, `ffmpeg-1`, ...: its
    /// offsets, its audio and video sides as deviations from the recording's
    /// mean, its pictures), ms; empty where a field does not apply.
    private func writeEvents(_ calibration: ProbeCalibration, schedule: ProbeSchedule,
                             recordings: [(name: String, list: [Recorded])], to path: String) throws {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.3f", $0 * 1000) } ?? "" }
        let starts = recordings.flatMap { recording in
            recording.list.enumerated().map { "\(recording.name)-\($0.offset + 1) " + String(format: "%.3f", $0.element.start) }
        }
        var lines = [
            "# recordings started at (clock s): " + starts.joined(separator: ", "),
            "# probe rows: beep_error = beep as the pure audio capture stamped it less its instant; ramp_mid_departure = when "
                + "the drawn ramp reached half-way less when the nominal one does; ramp_step_max = longest fill-to-XSync; "
                + "pure_video_error = ramp start as the pure video capture's stamped grabs say, less its instant",
            "# recording rows: offset = beep - flash in the file (nominal ramp); net = offset less the probe's error; "
                + "audio_dev, video_dev = the event's audio side (beep in the file less its stamp) and video side (ramp start "
                + "in the file less its instant), less their mean over the recording (net = audio - video + a constant); "
                + "pictures = those timed, untimed = those left out (the probe's redraws stalled > 8 ms at their level), "
                + "picture_sd = spread of what the timed pictures each say about the start",
            "source,event,instant_s,beep_error_ms,ramp_mid_departure_ms,ramp_steps,ramp_step_max_ms,pure_video_error_ms,"
                + "file_time_s,offset_ms,net_ms,audio_dev_ms,video_dev_ms,pictures,repeats,untimed,picture_sd_ms",
        ]
        for event in Set(calibration.ramps.keys).union(calibration.beepErrors.keys).sorted() {
            let ramp = calibration.ramps[event]
            let departure = ramp?.seconds(toReach: 0.5).map { $0 - ProbeRamp.nominalSeconds(toReach: 0.5) }
            let stepMax = ramp?.steps.map { Double($0.drawn - $0.requested) / 1e9 }.max()
            lines.append("probe,\(event)," + String(format: "%.6f,", Double(schedule.time(of: event)) / 1e9)
                         + [ms(calibration.beepErrors[event]), ms(departure), ramp.map { "\($0.steps.count)" } ?? "",
                            ms(stepMax), ms(calibration.pureVideoErrors[event]), "", "", "", "", "", "", "", "", ""]
                            .joined(separator: ","))
        }
        for recording in recordings {
            for (round, recorded) in recording.list.enumerated() {
                let named = recorded.named
                guard !named.isEmpty else { continue }
                let audioMean = named.map(\.audio).reduce(0, +) / Double(named.count)
                let videoMean = named.map(\.video).reduce(0, +) / Double(named.count)
                for event in named {
                    let spread = SyncStatistics.meanAndDeviation(event.pictureResiduals)?.deviation
                    lines.append("\(recording.name)-\(round + 1),\(event.event),"
                                 + String(format: "%.6f", Double(schedule.time(of: event.event)) / 1e9) + ",,,,,,"
                                 + [String(format: "%.4f", event.time), ms(event.offset), ms(event.net),
                                    ms(event.audio - audioMean), ms(event.video - videoMean), "\(event.pictures)",
                                    "\(event.repeats)", "\(event.untimed)", ms(spread)].joined(separator: ","))
                }
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A recording's analysis, the clock time (s) just before it started,
    /// and its events as the pure capture named them (set once the run is over).
    struct Recorded {
        var analysis: RecordingAnalysis
        var start: Double
        var named: [ProbeCalibration.NamedEvent] = []

        func naming(with calibration: ProbeCalibration) -> Recorded {
            var copy = self
            copy.named = calibration.name(analysis.events, recordingStart: start)
            return copy
        }
    }

    static func clockSeconds() -> Double { Double(MonotonicClock().now()) / 1e9 }

    private func recordOurs(display: String, frame: FrameSize, capturePCM: String,
                            output: String) async throws -> (RecordingAnalysis, String) {
        var configuration = RecordingConfiguration(
            capture: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: frame.width, height: frame.height),
                                                 framesPerSecond: fps),
            audio: PCMCaptureConfiguration(device: capturePCM),
            audioEncoding: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
            video: VideoEncodingOptions(), output: FileOutput(path: output, overwrite: true))
        configuration.duration = .seconds(seconds)
        let result = try await RecordingSession(configuration: configuration).record()
        if let error = result.error { throw BenchFailure("the engine's recording failed: \(error)") }
        let statistics = result.statistics
        let note = "\(statistics.framesEncoded) frames, \(statistics.framesDropped) dropped, "
            + "\(statistics.framesDuplicated) duplicated; its own A/V estimate "
            + String(format: "%+.1f ms", statistics.audioVideoOffset.seconds * 1000)
        return (try RecordingAnalysis(path: output), note)
    }

    private func recordFFmpeg(display: String, frame: FrameSize, capturePCM: String, output: String) throws -> RecordingAnalysis {
        let arguments = JibriFFmpeg.recording(display: display, width: frame.width, height: frame.height,
                                              audioDevice: capturePCM, seconds: seconds, output: output, fps: fps)
        let child = try ChildProcess(arguments, standardError: .file(output + ".log"))
        guard let outcome = child.wait(timeout: seconds + 60), outcome.status == 0 else {
            child.stop()
            throw BenchFailure("ffmpeg's recording failed (see \(output).log)")
        }
        return try RecordingAnalysis(path: output)
    }

    private func addRecorderFigures(_ report: inout BenchReport, ours: [Recorded], peer: [Recorded],
                                    calibration: ProbeCalibration) throws {
        func statistics(_ recordings: [Recorded], _ who: String,
                        _ series: (Recorded) -> [(time: Double, offset: Double)]) throws -> [SyncStatistics] {
            try recordings.map { recorded in
                let analysis = recorded.analysis
                guard let statistics = SyncStatistics(series(recorded)), statistics.count >= 2 else {
                    throw BenchFailure("\(who): fewer than two ramp/beep pairs in \(analysis.path) (\(analysis.ramps.count) ramps, "
                                       + "\(analysis.beeps.count) beeps, \(analysis.events.count) pairs, "
                                       + "\(recorded.named.count) named by the pure capture)")
                }
                return statistics
            }
        }
        func average(_ list: [SyncStatistics], _ value: (SyncStatistics) -> Double) -> Double {
            list.map(value).reduce(0, +) / Double(list.count)
        }
        let peerName = "ffmpeg (Jibri)"
        func add(_ name: String, _ unit: String, _ mine: [SyncStatistics], _ theirs: [SyncStatistics], comparable: Bool = true,
                 _ value: (SyncStatistics) -> Double) {
            report.add(Figure(name, unit: unit, ours: average(mine, value), peer: average(theirs, value), peerName: peerName,
                              comparable: comparable))
        }
        for net in [false, true] {
            let series: (Recorded) -> [(time: Double, offset: Double)] = { recorded in
                net ? recorded.named.map { ($0.time, $0.net) } : recorded.analysis.pairs
            }
            let mine = try statistics(ours, "engine", series), theirs = try statistics(peer, "ffmpeg", series)
            let suffix = net ? ", net of the probe" : ""
            add("A/V offset\(suffix), mean", "ms", mine, theirs, comparable: false) { $0.mean * 1000 }
            add("A/V offset\(suffix), standard deviation", "ms", mine, theirs) { $0.standardDeviation * 1000 }
            add("A/V drift\(suffix), first to last event", "ms", mine, theirs, comparable: false) { $0.drift * 1000 }
            add("A/V drift\(suffix), standard error", "ms", mine, theirs) { $0.driftError * 1000 }
            add(net ? "events named by the pure capture" : "events paired", "count", mine, theirs) { Double($0.count) }
            if !net { add("span of the paired events", "s", mine, theirs) { $0.span } }
        }
        // Where the spread comes from: net = audio side - video side, event by event.
        let video = try statistics(ours, "engine") { $0.named.map { ($0.time, $0.video) } }
        let peerVideo = try statistics(peer, "ffmpeg") { $0.named.map { ($0.time, $0.video) } }
        add("video side: ramp start in the file less its instant, sd about its line", "ms", video, peerVideo) {
            $0.residualDeviation * 1000
        }
        let audio = try statistics(ours, "engine") { $0.named.map { ($0.time, $0.audio) } }
        let peerAudio = try statistics(peer, "ffmpeg") { $0.named.map { ($0.time, $0.audio) } }
        add("audio side: beep in the file less its pure-capture stamp, sd about its line", "ms", audio, peerAudio) {
            $0.residualDeviation * 1000
        }
        add("video side: drift, first to last event", "ms", video, peerVideo, comparable: false) { $0.drift * 1000 }
        add("audio side: drift, first to last event", "ms", audio, peerAudio, comparable: false) { $0.drift * 1000 }
        func pictures(_ recordings: [Recorded]) -> (perRamp: Double, spread: Double, repeats: Double, untimed: Double) {
            let named = recordings.flatMap(\.named)
            let residuals = named.flatMap(\.pictureResiduals)
            let freedom = named.reduce(0) { $0 + max(0, $1.pictures - 1) }
            let pooled = freedom > 0 ? (residuals.reduce(0) { $0 + $1 * $1 } / Double(freedom)).squareRoot() : 0
            return (Double(residuals.count) / Double(max(1, named.count)), pooled, Double(named.reduce(0) { $0 + $1.repeats }),
                    Double(named.reduce(0) { $0 + $1.untimed }))
        }
        let (mine, theirs) = (pictures(ours), pictures(peer))
        report.add(Figure("pictures on each ramp, mean", unit: "count", ours: mine.perRamp, peer: theirs.perRamp,
                          peerName: peerName))
        report.add(Figure("pictures on a ramp: each one's start less their mean, sd (pooled)", unit: "ms",
                          ours: mine.spread * 1000, peer: theirs.spread * 1000, peerName: peerName))
        report.add(Figure("pictures on a ramp skipped as repeats", unit: "count", ours: mine.repeats, peer: theirs.repeats,
                          peerName: peerName))
        report.add(Figure("pictures on a ramp the probe could not time (its redraws stalled there)", unit: "count",
                          ours: mine.untimed, peer: theirs.untimed, peerName: peerName))
    }

    private func addProbeFigures(_ report: inout BenchReport,
                                 probe: (ramps: [ProbeRamp], beeps: [BeepPlayer.Beep], underruns: Int, error: String?),
                                 heard: RawPCMCapture.Recording, calibration: ProbeCalibration,
                                 reference: RecordingAnalysis, analyzer: SyncStatistics) {
        let steps = probe.ramps.flatMap(\.steps)
        if let draw = SyncStatistics.meanAndDeviation(steps.map { Double($0.drawn - $0.requested) / 1e9 }) {
            report.add(Figure("probe: ramp step, fill request to XSync returned, mean", unit: "ms", ours: draw.mean * 1000))
            report.add(Figure("probe: ramp step, fill request to XSync returned, max", unit: "ms", ours: draw.maximum * 1000))
        }
        let departures = probe.ramps.flatMap(\.departures)
        if let departure = SyncStatistics.meanAndDeviation(departures) {
            report.add(Figure("probe: ramp step on screen less the nominal ramp's time for its level, mean", unit: "ms",
                              ours: departure.mean * 1000, comparable: false))
            report.add(Figure("probe: ramp step on screen less the nominal ramp's time for its level, max |.|", unit: "ms",
                              ours: departures.map(abs).max()! * 1000))
        }
        let middles = probe.ramps.compactMap { $0.seconds(toReach: 0.5).map { $0 - ProbeRamp.nominalSeconds(toReach: 0.5) } }
        if let middle = SyncStatistics.meanAndDeviation(middles) {
            report.settings["probe: ramps"] = String(
                format: "%d drawn, %.1f steps each; half-way reached %.3f ms (sd %.3f) after the nominal ramp", probe.ramps.count,
                Double(steps.count) / Double(max(1, probe.ramps.count)), middle.mean * 1000, middle.deviation * 1000)
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
        let lags = calibration.grabLags
        if let lag = SyncStatistics.meanAndDeviation(lags.map(\.estimate)) {
            let count = Double(lags.count)
            report.add(Figure("pure capture: picture taken after its grab stamp, mean", unit: "ms", ours: lag.mean * 1000,
                              comparable: false))
            report.add(Figure("pure capture: picture taken after its grab stamp, sd", unit: "ms", ours: lag.deviation * 1000))
            report.settings["pure capture: picture taken after its grab stamp, hard bounds"] = String(
                format: "mean between %.3f and %.3f ms (the level it shows was drawn, the next was not), over %d pictures",
                lags.reduce(0) { $0 + $1.low } / count * 1000, lags.reduce(0) { $0 + $1.high } / count * 1000, lags.count)
        }
        if let late = SyncStatistics.meanAndDeviation(calibration.grabLateness) {
            report.add(Figure("pure capture: grab stamp after its deadline, beyond the least, mean", unit: "ms",
                              ours: late.mean * 1000))
            report.add(Figure("pure capture: grab stamp after its deadline, beyond the least, sd", unit: "ms",
                              ours: late.deviation * 1000))
            report.settings["pure capture: grab stamps after their deadlines, beyond the least"] = String(
                format: "max %.2f ms, first grab %.2f ms, over %d grabs", late.maximum * 1000,
                (calibration.firstGrabLateness ?? 0) * 1000, calibration.grabLateness.count)
        }
        if let video = SyncStatistics.meanAndDeviation(Array(calibration.pureVideoErrors.values)) {
            report.add(Figure("pure capture: ramp start from stamped grabs less its instant, mean", unit: "ms",
                              ours: video.mean * 1000, comparable: false))
            report.add(Figure("pure capture: ramp start from stamped grabs less its instant, sd", unit: "ms",
                              ours: video.deviation * 1000))
        }
        if let pure = SyncStatistics(calibration.pairs) {
            report.add(Figure("pure capture: A/V offset, mean (a recorder stamping at capture, adding nothing)", unit: "ms",
                              ours: pure.mean * 1000, comparable: false))
            report.add(Figure("pure capture: A/V offset, sd", unit: "ms", ours: pure.standardDeviation * 1000))
        }
        report.add(Figure("analysis check: offset in a file aligned by construction, mean", unit: "ms",
                          ours: analyzer.mean * 1000, comparable: false))
        report.add(Figure("analysis check: offset in a file aligned by construction, sd", unit: "ms",
                          ours: analyzer.standardDeviation * 1000))
        report.settings["analysis check"] = "\(analyzer.count) events in a 6 s lavfi file (ramps starting 0 to 28.5 ms into a "
            + "frame), \(reference.ramps.count) ramps found"
        report.settings["pure capture"] = "\(calibration.pureVideoErrors.count) ramps grabbed, "
            + "\(calibration.pairs.count) paired with their beeps; \(calibration.beepErrors.count) beeps stamped over the run"
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench avsync: \(message)\n".utf8))
    }
}
