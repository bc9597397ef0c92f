import ArgumentParser
import AVProbe
import Foundation
import MediaCore
import RecorderEngine

/// A long recording with the sync probe: what happens to A/V sync, memory and
/// frames over minutes to hours, where the tests can only simulate it (issue
/// 11, part 6). One `RecordingSession` records the probe (ramps and beeps
/// about once a second, as `avsync` plays them) for `--minutes`; a pure audio
/// capture stamps every beep meanwhile; the file is then decoded and every
/// ramp paired with its beep.
///
/// Reported: the offset in the file (beep - flash) and net of the probe (the
/// beep less its pure-capture stamp, the ramp as drawn), each as its range,
/// mean, standard deviation and drift over the run, and the mean of the
/// first and the last minute; the process's RSS a minute in, at the end of
/// the recording, its largest growth between and its rate over the second
/// half, its peak while recording, and once the session was released (the
/// statistics come every 10 s, so with 20 s of recording the growth figures
/// are absent), and the same less the probe's own records (its ramps' steps
/// and its audio stamps grow about 0.47 MB a minute in this process: that was
/// all of the growth issue 21 item 8 saw); frames dropped, duplicated and
/// grabbed late; audio overruns, silence and dropped frames; CPU per media
/// second. No peer: ffmpeg's drift is `avsync`'s figure, measured over a
/// minute.
struct SoakBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak", abstract: "A long recording with the sync probe: offset range and drift, RSS, dropped frames.")

    @Option(help: "Minutes to record.") var minutes = 20.0
    @Option(help: "Recorded size WxH from the top-left corner.") var size = "1920x1080"
    @Option(help: "Frames per second.") var fps = 30
    @OptionGroup var bench: ProbeBench
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let (display, capturePCM, playbackPCM) = try bench.resolved()
        guard minutes.isFinite, minutes >= 0.1, minutes <= 24 * 60 else {
            throw ValidationError("--minutes must be from 0.1 to 1440")
        }
        let frame = try FrameSize(parsing: size)
        let scratch = try ScratchDirectory("soak")
        let output = scratch.file("soak.mp4")

        let probe = try SyncProbe(display: display, width: frame.width, height: frame.height, playbackPCM: playbackPCM)
        let audio = try RawPCMCapture(device: capturePCM)
        probe.start()
        audio.start()
        var stopped = false
        defer { if !stopped { _ = probe.stop(); _ = try? audio.stop() } }
        MonotonicClock().sleep(until: probe.schedule.time(of: 0) - 500_000_000)

        var configuration = RecordingConfiguration(
            capture: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: frame.width, height: frame.height),
                                                 framesPerSecond: fps),
            audio: PCMCaptureConfiguration(device: capturePCM),
            audioEncoding: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
            video: VideoEncodingOptions(), output: FileOutput(path: output, overwrite: true))
        configuration.duration = .seconds(minutes * 60)
        // Every 10 s, and at least four samples in a short run.
        configuration.statisticsInterval = .seconds(min(10, max(1, minutes * 60 / 4)))
        let session = try RecordingSession(configuration: configuration)
        Self.log("recording \(minutes) minutes of the probe at \(frame) \(fps) fps into \(output)")
        let memory = MemorySamples()
        let events = session.events
        let watcher = Task {
            for await event in events {
                if case let .statistics(statistics) = event {
                    memory.add(seconds: statistics.elapsed.seconds, bytes: ProcessResources.current().residentBytes,
                               probeBytes: probe.recordBytes + audio.recordBytes)
                    if Int(statistics.elapsed.seconds) % 60 < 10 {
                        Self.log(String(format: "%.0f s: ", statistics.elapsed.seconds)
                                 + "\(statistics.framesEncoded) frames, \(statistics.framesDropped) dropped, A/V "
                                 + String(format: "%+.1f ms", statistics.audioVideoOffset.seconds * 1000)
                                 + ", RSS \(ProcessResources.current().residentBytes >> 20) MB"
                                 + " (the probe's records \((probe.recordBytes + audio.recordBytes) >> 10) KB)")
                    }
                }
            }
        }
        let start = AVSyncBenchmark.clockSeconds()
        let result = try await session.record()
        // Before the analysis, which reads the whole audio track into memory.
        let peakRSS = Self.peakResidentBytes()
        let releasedRSS = ProcessResources.current().residentBytes
        await watcher.value
        let probeRun = probe.stop()
        let heard = try audio.stop()
        stopped = true
        if let error = result.error { throw BenchFailure("the recording failed: \(error)") }
        if let error = probeRun.error { throw BenchFailure("the probe's beep stream failed: \(error)") }

        Self.log("analysing \(output)")
        let analysis = try RecordingAnalysis(path: output)
        let calibration = ProbeCalibration(schedule: probe.schedule, ramps: probeRun.ramps, beeps: heard.beepTimes,
                                           grabs: ProbeCalibration.Grabs(fps: fps))
        let named = calibration.name(analysis.events, recordingStart: start)
        guard let raw = SyncStatistics(analysis.pairs), let net = SyncStatistics(named.map { ($0.time, $0.net) }) else {
            throw BenchFailure("no ramp/beep pairs in \(output) (\(analysis.ramps.count) ramps, \(analysis.beeps.count) beeps)")
        }

        let statistics = result.statistics
        let media = statistics.mediaDuration.seconds
        var report = BenchReport(benchmark: "soak", settings: [
            "minutes": "\(minutes)", "size": frame.description, "fps": "\(fps)",
            "engine": "RecordingSession, libx264 ultrafast crf 25, AAC 128k 44.1 kHz, MP4",
            "probe": "avsync's: a grey ramp and a 1 kHz beep starting together, 0.6 to 1.4 s apart",
            "offset": "beep - flash, ms (positive: sound after picture); net: less the probe's own error for each event "
                + "(the beep as a pure capture stamped it, the ramp as drawn)",
            "drift": "least-squares line through the offsets, its change from the first event to the last",
            "RSS": "the process's resident memory (the engine records in it), sampled every 10 s (a quarter of a shorter run)",
        ])
        func addOffsets(_ name: String, _ figures: SyncStatistics, _ pairs: [(time: Double, offset: Double)]) {
            let offsets = pairs.map(\.offset)
            report.add(Figure("A/V offset\(name), min", unit: "ms", ours: offsets.min()! * 1000, comparable: false))
            report.add(Figure("A/V offset\(name), max", unit: "ms", ours: offsets.max()! * 1000, comparable: false))
            report.add(Figure("A/V offset\(name), mean", unit: "ms", ours: figures.mean * 1000, comparable: false))
            report.add(Figure("A/V offset\(name), standard deviation", unit: "ms", ours: figures.standardDeviation * 1000))
            report.add(Figure("A/V drift\(name), first to last event", unit: "ms", ours: figures.drift * 1000, comparable: false))
            let first = pairs.filter { $0.time < pairs[0].time + 60 }.map(\.offset)
            let last = pairs.filter { $0.time > pairs[pairs.count - 1].time - 60 }.map(\.offset)
            report.add(Figure("A/V offset\(name), mean of the first minute", unit: "ms",
                              ours: first.reduce(0, +) / Double(first.count) * 1000, comparable: false))
            report.add(Figure("A/V offset\(name), mean of the last minute", unit: "ms",
                              ours: last.reduce(0, +) / Double(last.count) * 1000, comparable: false))
        }
        addOffsets("", raw, analysis.pairs)
        addOffsets(", net of the probe", net, named.map { ($0.time, $0.net) })
        report.add(Figure("events paired", unit: "count", ours: Double(raw.count)))
        report.add(Figure("events named by the pure capture", unit: "count", ours: Double(net.count)))
        report.add(Figure("span of the paired events", unit: "s", ours: raw.span))
        let samples = memory.all
        let minuteIn = samples.first { $0.seconds >= 60 } ?? samples.first
        if let minuteIn, let last = samples.last {
            report.add(Figure("RSS a minute in", unit: "MB", ours: Double(minuteIn.bytes) / 1e6))
            report.add(Figure("RSS at the end (last sample while recording)", unit: "MB", ours: Double(last.bytes) / 1e6))
            let later = samples.filter { $0.seconds >= minuteIn.seconds }.map(\.bytes)
            report.add(Figure("RSS, largest growth after a minute", unit: "MB",
                              ours: Double((later.max() ?? minuteIn.bytes) - minuteIn.bytes) / 1e6))
            // The growth over the last half of the run, per minute: whether it levels off.
            let half = samples.filter { $0.seconds >= last.seconds / 2 }
            if let first = half.first, last.seconds - first.seconds >= 60 {
                report.add(Figure("RSS growth over the second half, per minute", unit: "MB/min",
                                  ours: Double(last.bytes - first.bytes) / 1e6 / ((last.seconds - first.seconds) / 60),
                                  comparable: false))
            }
        }
        // The probe's records (every ramp step, every audio period's stamp)
        // grow with the run in this process: about 0.47 MB a minute, the
        // whole of the growth heaptrack showed (issue 21, item 8). Less them,
        // what is left is the recorder's.
        let engine = samples.map { (seconds: $0.seconds, bytes: $0.bytes - $0.probeBytes) }
        if let first = engine.first(where: { $0.seconds >= 60 }) ?? engine.first, let last = engine.last {
            report.add(Figure("RSS less the probe's records, a minute in", unit: "MB", ours: Double(first.bytes) / 1e6))
            report.add(Figure("RSS less the probe's records, at the end", unit: "MB", ours: Double(last.bytes) / 1e6))
            if let tenth = engine.first(where: { $0.seconds >= 600 }), last.seconds > tenth.seconds {
                let later = engine.filter { $0.seconds >= tenth.seconds }.map(\.bytes)
                report.add(Figure("RSS less the probe's records, range after minute 10", unit: "MB",
                                  ours: Double(later.max()! - later.min()!) / 1e6, comparable: false))
            }
            let half = engine.filter { $0.seconds >= last.seconds / 2 }
            if let start = half.first, last.seconds - start.seconds >= 60 {
                report.add(Figure("RSS less the probe's records, growth over the second half, per minute", unit: "MB/min",
                                  ours: Double(last.bytes - start.bytes) / 1e6 / ((last.seconds - start.seconds) / 60),
                                  comparable: false))
            }
            report.add(Figure("the probe's records at the end", unit: "MB", ours: Double(samples.last!.probeBytes) / 1e6))
        }
        report.add(Figure("RSS peak while recording (VmHWM)", unit: "MB", ours: Double(peakRSS) / 1e6))
        report.add(Figure("RSS once the session was released", unit: "MB", ours: Double(releasedRSS) / 1e6))
        report.add(Figure("media recorded", unit: "s", ours: media))
        report.add(Figure("frames encoded", unit: "count", ours: Double(statistics.framesEncoded)))
        report.add(Figure("frames dropped", unit: "count", ours: Double(statistics.framesDropped)))
        report.add(Figure("frames duplicated", unit: "count", ours: Double(statistics.framesDuplicated)))
        report.add(Figure("grabs late by a frame or more", unit: "count", ours: Double(statistics.lateGrabs)))
        report.add(Figure("audio overruns", unit: "count", ours: Double(statistics.audioOverruns)))
        report.add(Figure("audio silence filled", unit: "ms", ours: Double(statistics.audioSilenceFrames) / 48.0))
        report.add(Figure("audio frames dropped", unit: "count", ours: Double(statistics.audioFramesDropped)))
        report.add(Figure("engine's own A/V estimate at the end", unit: "ms", ours: statistics.audioVideoOffset.seconds * 1000,
                          comparable: false))
        report.add(Figure("CPU per media second", unit: "s/s", ours: media > 0 ? statistics.cpuTime.seconds / media : 0))
        report.printTable()
        try report.write(json: common.json)
    }

    /// The process's peak resident memory (`VmHWM`), bytes.
    static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (line.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }

    private static func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench soak: \(message)\n".utf8))
    }
}

/// RSS samples from the events task, read at the end.
private final class MemorySamples: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [(seconds: Double, bytes: Int, probeBytes: Int)] = []

    func add(seconds: Double, bytes: Int, probeBytes: Int) {
        lock.lock()
        samples.append((seconds, bytes, probeBytes))
        lock.unlock()
    }

    var all: [(seconds: Double, bytes: Int, probeBytes: Int)] {
        lock.lock()
        defer { lock.unlock() }
        return samples
    }
}
