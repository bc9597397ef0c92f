import ArgumentParser
import Foundation
import MediaCore
import RecorderEngine

/// A/V sync, proven on the bench: a probe flashes the screen and beeps into
/// the loopback at the same instant once a second; our engine
/// (`RecordingSession`) and Jibri's ffmpeg command record it in turn; each
/// file is decoded and every flash paired with its beep. Reported per
/// recorder: the offset's mean, its standard deviation and its drift.
///
/// The probe's own bias is bounded in the same run, three ways:
/// - the X server has drawn each flash by the time `XSync` returns (measured
///   per flash);
/// - pure captures (grabs at the recording's rate, raw ALSA reads, both
///   stamped on the clock, no encoding) give the offset a recorder that
///   added nothing would show, and each side's latency from the scheduled
///   instant;
/// - a file whose flashes and beeps coincide by construction gives the
///   analysis's own bias.
struct AVSyncBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "avsync", abstract: "A/V offset, spread and drift of a flash+beep probe: ours against ffmpeg (Jibri).")

    @Option(help: "Seconds each recording lasts.") var seconds = 60.0
    @Option(help: "Recorded size WxH from the top-left corner.") var size = "1920x1080"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Rounds; each records with ours, then with ffmpeg.") var rounds = 1
    @Option(help: "Seconds of pure capture for the probe's calibration.") var calibrationSeconds = 10.0
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: "ALSA PCM the recorders capture (default $BENCH_CAPTURE_PCM).") var capturePcm: String?
    @Option(help: "ALSA PCM the probe plays into (default $BENCH_PLAYBACK_PCM).") var playbackPcm: String?
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
        probe.start()
        var probeStopped = false
        defer { if !probeStopped { _ = probe.stop() } }
        // Let the beep stream settle and the first event come.
        MonotonicClock().sleep(until: probe.schedule.time(of: 0) - 500_000_000)
        log("calibrating the probe with pure captures for \(calibrationSeconds) s")
        let calibration = try ProbeCalibration.run(probe: probe, display: display, width: frame.width, height: frame.height,
                                                   fps: fps, capturePCM: capturePCM, seconds: calibrationSeconds)

        var ours: [RecordingAnalysis] = [], peer: [RecordingAnalysis] = []
        var engineNotes: [String] = []
        for round in 0..<rounds {
            log("round \(round + 1): recording \(seconds) s with the engine")
            let (analysis, note) = try recordOurs(display: display, frame: frame, capturePCM: capturePCM,
                                                  output: scratch.file("ours-\(round).mp4"))
            ours.append(analysis)
            engineNotes.append(note)
            log("round \(round + 1): recording \(seconds) s with ffmpeg")
            peer.append(try recordFFmpeg(display: display, frame: frame, capturePCM: capturePCM,
                                         output: scratch.file("ffmpeg-\(round).mp4")))
        }
        let probeRun = probe.stop()
        probeStopped = true
        if let error = probeRun.error { throw BenchFailure("the probe's beep stream failed: \(error)") }

        var report = BenchReport(benchmark: "avsync", settings: [
            "seconds": "\(seconds)", "size": frame.description, "fps": "\(fps)", "rounds": "\(rounds)",
            "calibration seconds": "\(calibrationSeconds)",
            "offset": "sound minus picture, ms (positive: the beep comes after the flash)",
            "drift": "least-squares line through the offsets, its change from the first event to the last",
            "probe": "1 kHz beep (80 ms) and full-region white flash (300 ms) at the same instant, 0.6 to 1.4 s apart (pseudo-random)",
            "engine": engineNotes.joined(separator: "; "),
            "peer": "Jibri's ffmpeg command (x11grab + alsa, aresample=async=1, libx264 ultrafast crf 25, aac 128k)"])
        try addRecorderFigures(&report, ours: ours, peer: peer)
        addProbeFigures(&report, probe: probeRun, calibration: calibration, analyzer: analyzer)
        report.printTable()
        try report.write(json: common.json)
    }

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

    private func addRecorderFigures(_ report: inout BenchReport, ours: [RecordingAnalysis], peer: [RecordingAnalysis]) throws {
        func statistics(_ analyses: [RecordingAnalysis], _ who: String) throws -> [SyncStatistics] {
            try analyses.map { analysis in
                guard let statistics = SyncStatistics(analysis.pairs), statistics.count >= 2 else {
                    throw BenchFailure("\(who): fewer than two flash/beep pairs in \(analysis.path) "
                                       + "(\(analysis.flashes.count) flashes, \(analysis.beeps.count) beeps)")
                }
                return statistics
            }
        }
        let oursStatistics = try statistics(ours, "engine"), peerStatistics = try statistics(peer, "ffmpeg")
        func average(_ list: [SyncStatistics], _ value: (SyncStatistics) -> Double) -> Double {
            list.map(value).reduce(0, +) / Double(list.count)
        }
        let peerName = "ffmpeg (Jibri)"
        report.add(Figure("A/V offset, mean", unit: "ms", ours: average(oursStatistics) { $0.mean } * 1000,
                          peer: average(peerStatistics) { $0.mean } * 1000, peerName: peerName, comparable: false))
        report.add(Figure("A/V offset, standard deviation", unit: "ms",
                          ours: average(oursStatistics) { $0.standardDeviation } * 1000,
                          peer: average(peerStatistics) { $0.standardDeviation } * 1000, peerName: peerName))
        report.add(Figure("A/V drift, first to last event", unit: "ms", ours: average(oursStatistics) { $0.drift } * 1000,
                          peer: average(peerStatistics) { $0.drift } * 1000, peerName: peerName, comparable: false))
        report.add(Figure("A/V drift, standard error", unit: "ms", ours: average(oursStatistics) { $0.driftError } * 1000,
                          peer: average(peerStatistics) { $0.driftError } * 1000, peerName: peerName))
        report.add(Figure("events paired", unit: "count", ours: Double(oursStatistics.map(\.count).reduce(0, +)),
                          peer: Double(peerStatistics.map(\.count).reduce(0, +)), peerName: peerName))
        report.add(Figure("span of the paired events", unit: "s", ours: average(oursStatistics) { $0.span },
                          peer: average(peerStatistics) { $0.span }, peerName: peerName))
    }

    private func addProbeFigures(_ report: inout BenchReport, probe: (flashes: [SyncProbe.Flash], beeps: [BeepPlayer.Beep],
                                                                    underruns: Int, error: String?),
                                 calibration: ProbeCalibration, analyzer: SyncStatistics) {
        let drawn = probe.flashes.map { Double($0.drawn - $0.scheduled) / 1e9 }
        if let drawn = SyncStatistics.meanAndDeviation(drawn) {
            report.add(Figure("probe: flash drawn by the X server after its instant, mean", unit: "ms", ours: drawn.mean * 1000))
            report.add(Figure("probe: flash drawn by the X server after its instant, max", unit: "ms", ours: drawn.maximum * 1000))
        }
        let origins = probe.beeps.filter { !$0.late }.map { Double($0.streamOrigin) / 1e6 }
        if let first = origins.first {
            let spread = (origins.max()! - origins.min()!)
            report.settings["probe: beep stream origin estimates"] = String(
                format: "%d beeps placed, spread %.2f ms (min..max), %d late, %d underruns; first origin %.1f ms",
                probe.beeps.count, spread, probe.beeps.count(where: \.late), probe.underruns, first)
        }
        if let flash = SyncStatistics.meanAndDeviation(calibration.flashLatencies) {
            report.add(Figure("pure capture: flash grabbed after its instant, mean", unit: "ms", ours: flash.mean * 1000))
            report.add(Figure("pure capture: flash grabbed after its instant, sd", unit: "ms", ours: flash.deviation * 1000))
        }
        if let beep = SyncStatistics.meanAndDeviation(calibration.beepLatencies) {
            report.add(Figure("pure capture: beep stamped after its instant, mean", unit: "ms", ours: beep.mean * 1000,
                              comparable: false))
            report.add(Figure("pure capture: beep stamped after its instant, sd", unit: "ms", ours: beep.deviation * 1000))
        }
        if let reference = SyncStatistics(calibration.pairs) {
            report.add(Figure("pure capture: A/V offset, mean (a recorder adding nothing)", unit: "ms",
                              ours: reference.mean * 1000, comparable: false))
            report.add(Figure("pure capture: A/V offset, sd", unit: "ms", ours: reference.standardDeviation * 1000))
        }
        report.add(Figure("analysis check: offset in a file aligned by construction", unit: "ms", ours: analyzer.mean * 1000,
                          comparable: false))
        report.settings["pure capture"] = "\(calibration.flashLatencies.count) flashes, \(calibration.beepLatencies.count) beeps, "
            + "\(calibration.pairs.count) pairs, \(calibration.overruns) overruns"
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench avsync: \(message)\n".utf8))
    }
}
