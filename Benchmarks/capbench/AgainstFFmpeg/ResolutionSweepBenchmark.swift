import ArgumentParser
import Foundation
import HostProcesses

/// CPU per recorded second against resolution, for the whole pipeline:
/// `record-display` (the engine's command line, built in release next to
/// this binary) against Jibri's ffmpeg command, at Jibri's recording
/// defaults, alternating, at each size.
///
/// Each size gets its own Xvfb of that size and its own PulseAudio (so one
/// invocation covers sizes larger than the outer bench's screen), showing
/// a moving `testsrc2` scene (ffplay by default) and playing a tone. A
/// recorder's CPU is its own (`wait4`); the X server's share is its CPU
/// during the recording less what it spent for the scene alone in a quiet
/// interval just before, so the grabs' cost on the server side is charged to
/// the recorder that made them.
struct ResolutionSweepBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolution-sweep",
        abstract: "Whole-pipeline CPU per recorded second by resolution: record-display against ffmpeg (Jibri).")

    @Option(help: "Sizes WxH, comma-separated.") var sizes = "1280x720,1920x1080,2560x1440"
    @Option(help: "Seconds each recording lasts.") var seconds = 10.0
    @Option(help: "Rounds; each records with ours, then with ffmpeg, at every size.") var rounds = 1
    @Option(help: "The record-display binary (default: next to this capbench).") var recordDisplay: String?
    @Option(help: ArgumentHelp("The moving scene: 'ffplay' (testsrc2 drawn live, as scripts/demo shows it) or 'replay' "
                               + "(testsrc2 frames replayed by capbench scene, far cheaper)."))
    var scene = "ffplay"
    @OptionGroup var common: CommonOptions

    /// One recording's costs.
    struct Trial {
        var recorderCPU: Double
        var serverCPU: Double
        var mediaSeconds: Double
        var peakRSS: Double
        var droppedOrDuplicated: Int
        var recorderPerSecond: Double { recorderCPU / mediaSeconds }
        var totalPerSecond: Double { (recorderCPU + serverCPU) / mediaSeconds }
    }

    func run() throws {
        let parsed = try sizes.split(separator: ",").map { try FrameSize(parsing: String($0)) }
        guard seconds >= 2, rounds > 0 else { throw ValidationError("--seconds must be at least 2 and --rounds positive") }
        let binary = recordDisplay ?? ChildProcess.siblingExecutable("record-display")
        guard access(binary, X_OK) == 0 else {
            throw ValidationError("no record-display at \(binary): build it (swift build -c release --product record-display) "
                                  + "or pass --record-display")
        }
        guard ["replay", "ffplay"].contains(scene) else { throw ValidationError("--scene must be ffplay or replay") }
        let scratch = try ScratchDirectory("sweep")
        let toneFile = scratch.file("tone.wav")
        try ToneSignal().writeWAV(to: toneFile, seconds: Double(rounds) * 2 * (seconds + 8) + 10)

        var report = BenchReport(benchmark: "resolution-sweep", settings: [
            "seconds": "\(seconds)", "rounds": "\(rounds)", "record-display": binary,
            "ours": "record-display (defaults: ultrafast crf 25 main, gop 60; AAC 128k 44.1 kHz)",
            "peer": "Jibri's ffmpeg command (ultrafast crf 25 main, x264's default gop 250)",
            "load": "own Xvfb and PulseAudio per size, testsrc2 at the full size ("
                + (scene == "replay" ? "30 frames replayed by capbench scene" : "ffplay, live") + "), 440 Hz tone",
            "X server share": "Xvfb CPU during the recording less its rate for the scene alone, measured just before"])
        let peerName = "ffmpeg (Jibri)"
        for (index, size) in parsed.enumerated() {
            log("\(size): starting a display and a sound server")
            let bench = try PrivateBench(index: index, width: size.width, height: size.height, directory: scratch.path)
            defer { bench.stop() }
            PrivateBench.exportALSAConfiguration([bench])
            var sceneFrames: String?
            if scene == "replay" {
                sceneFrames = scratch.file("scene-\(size).bgr0")
                try SceneCommand.writeFrames(size: size, count: 30, to: sceneFrames!)
            }
            try bench.startLoad(toneFile: toneFile, sceneFrames: sceneFrames)
            usleep(1_500_000)
            var ours: [Trial] = [], peer: [Trial] = []
            for round in 0..<rounds {
                log("\(size) round \(round + 1): record-display")
                ours.append(try measure(bench, output: scratch.file("ours-\(size)-\(round).mp4")) { output in
                    try recordOurs(binary: binary, bench: bench, output: output)
                })
                log("\(size) round \(round + 1): ffmpeg")
                peer.append(try measure(bench, output: scratch.file("ffmpeg-\(size)-\(round).mp4")) { output in
                    try recordFFmpeg(bench: bench, size: size, output: output)
                })
            }
            bench.stopLoad()
            func leanest(_ trials: [Trial]) -> Trial { trials.min { $0.totalPerSecond < $1.totalPerSecond }! }
            let mine = leanest(ours), theirs = leanest(peer)
            report.add(Figure("\(size) CPU per recorded second, recorder + X server", unit: "CPU-s/s",
                              ours: mine.totalPerSecond, peer: theirs.totalPerSecond, peerName: peerName))
            report.add(Figure("\(size) CPU per recorded second, recorder alone", unit: "CPU-s/s",
                              ours: mine.recorderPerSecond, peer: theirs.recorderPerSecond, peerName: peerName))
            report.add(Figure("\(size) peak RSS", unit: "MB", ours: mine.peakRSS / 1e6, peer: theirs.peakRSS / 1e6,
                              peerName: peerName))
            report.add(Figure("\(size) frames dropped or duplicated", unit: "frames", ours: Double(mine.droppedOrDuplicated),
                              peer: Double(theirs.droppedOrDuplicated), peerName: peerName, comparable: false))
        }
        report.printTable()
        try report.write(json: common.json)
    }

    /// Runs one recording (`record` returns the child's outcome, media
    /// seconds and drops) and charges it the X server's CPU above the
    /// scene's own rate, measured over two quiet seconds just before.
    private func measure(_ bench: PrivateBench, output: String,
                         _ record: (String) throws -> (Termination, Double, Int)) throws -> Trial {
        let quietStart = CPUUsage.processSeconds(bench.serverPID) ?? 0
        let quietTime = Date()
        usleep(2_000_000)
        let sceneRate = ((CPUUsage.processSeconds(bench.serverPID) ?? 0) - quietStart) / Date().timeIntervalSince(quietTime)
        let server0 = CPUUsage.processSeconds(bench.serverPID) ?? 0
        // Recordings are not kept: a 1440p one is tens of megabytes.
        defer { try? FileManager.default.removeItem(atPath: output) }
        let (outcome, media, drops) = try record(output)
        let server = (CPUUsage.processSeconds(bench.serverPID) ?? 0) - server0 - sceneRate * outcome.wallSeconds
        return Trial(recorderCPU: outcome.cpuSeconds, serverCPU: max(0, server), mediaSeconds: media,
                     peakRSS: Double(outcome.peakRSSBytes), droppedOrDuplicated: drops)
    }

    private func recordOurs(binary: String, bench: PrivateBench, output: String) throws -> (Termination, Double, Int) {
        let stats = output + ".stats.json"
        defer { try? FileManager.default.removeItem(atPath: stats) }
        let child = try ChildProcess([binary, "--display", bench.display, "--audio-device", bench.capturePCM,
                                    "--duration", "\(seconds)", "--output", output, "--overwrite", "--stats-json", stats],
                                   standardError: .file(output + ".log"))
        guard let outcome = child.wait(timeout: seconds + 60), outcome.status == 0 else {
            child.stop()
            throw BenchFailure("record-display failed: \(Self.tail(output + ".log"))")
        }
        struct Summary: Decodable {
            struct Statistics: Decodable { var mediaSeconds: Double; var framesDropped: Int; var framesDuplicated: Int }
            var statistics: Statistics
        }
        let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: stats)))
        return (outcome, summary.statistics.mediaSeconds, summary.statistics.framesDropped + summary.statistics.framesDuplicated)
    }

    private func recordFFmpeg(bench: PrivateBench, size: FrameSize, output: String) throws -> (Termination, Double, Int) {
        let child = try ChildProcess(JibriFFmpeg.recording(display: bench.display, width: size.width, height: size.height,
                                                         audioDevice: bench.capturePCM, seconds: seconds, output: output),
                                   standardError: .file(output + ".log"))
        guard let outcome = child.wait(timeout: seconds + 60), outcome.status == 0 else {
            child.stop()
            throw BenchFailure("ffmpeg failed: \(Self.tail(output + ".log"))")
        }
        let summary = FFmpegSummary(log: (try? String(contentsOfFile: output + ".log", encoding: .utf8)) ?? "")
        try? FileManager.default.removeItem(atPath: output + ".log")
        return (outcome, Double(summary.frames) / 30, summary.duplicated + summary.dropped)
    }

    private static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)").suffix(400))
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench resolution-sweep: \(message)\n".utf8))
    }
}
