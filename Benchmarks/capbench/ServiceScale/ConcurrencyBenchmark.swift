import ArgumentParser
import Foundation
import HostProcesses
import MediaCore
import RecorderEngine

/// How many simultaneous real-time recordings this machine holds with no
/// dropped frame: N `RecordingSession`s in this one process against N
/// `ffmpeg` processes (Jibri's command), N = 1, 2, 3, ... Each recording has
/// its own display and sound loopback (an Xvfb and a PulseAudio per
/// recording, as on separate recorder hosts) showing a moving `testsrc2`
/// scene and playing a tone.
///
/// A step fails for a recorder when any recording duplicated or dropped a
/// frame, lost audio, or finished more than `--lag-limit` seconds after its
/// length (ffmpeg's 4096-entry input queues can hide a slow encoder behind
/// memory for a while; a recording that ends late was not real time).
struct ConcurrencyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concurrency",
        abstract: "Simultaneous real-time recordings with no drop: N engine sessions against N ffmpeg processes.")

    @Option(help: "Most recordings to try at once.") var maxSessions = 6
    @Option(help: "Seconds each recording lasts.") var seconds = 8.0
    @Option(help: "Recorded size WxH (each display is this size).") var size = "1280x720"
    @Option(help: "Frames per second.") var fps = 30
    @Option(help: "Seconds a recording may end after its length before it counts as not real time.") var lagLimit = 2.0
    @Option(help: ArgumentHelp("The moving scene: 'replay' (testsrc2 frames replayed by capbench scene, cheap) or 'ffplay' "
                               + "(testsrc2 generated and drawn live, about 0.6 CPU-s/s per display at 720p)."))
    var scene = "replay"
    @OptionGroup var common: CommonOptions

    /// What one step of one recorder did.
    struct Step: TalliedStep {
        var sessions: Int
        var framesExpected = 0
        var framesWritten = 0
        var droppedOrDuplicated = 0
        /// The engine's account of them: grabs a frame or more late (their
        /// slots repeat the previous picture), grabs dropped with the queue full.
        var lateGrabs = 0, droppedQueueFull = 0
        var audioLost = 0
        var worstLag = 0.0
        var cpuSeconds = 0.0
        /// CPU seconds of the X servers, and of the scene and tone players, during the step.
        var serverCPUSeconds = 0.0
        var loadCPUSeconds = 0.0
        var errors: [String] = []
        /// Seconds past its length a recording may end and still count as real time.
        var lagLimit: Double
        var held: Bool { droppedOrDuplicated == 0 && audioLost == 0 && worstLag <= lagLimit && errors.isEmpty }
    }

    func run() async throws {
        let frame = try FrameSize(parsing: size)
        guard maxSessions > 0, seconds >= 2 else { throw ValidationError("--max-sessions must be positive, --seconds at least 2") }
        let scratch = try ScratchDirectory("concurrency")
        let toneFile = scratch.file("tone.wav")
        try ToneSignal().writeWAV(to: toneFile, seconds: seconds + 15)
        guard ["replay", "ffplay"].contains(scene) else { throw ValidationError("--scene must be replay or ffplay") }
        var sceneFrames: String?
        if scene == "replay" {
            sceneFrames = scratch.file("scene.bgr0")
            try SceneCommand.writeFrames(size: frame, count: 30, to: sceneFrames!)
        }
        log("starting \(maxSessions) displays and sound servers")
        var benches: [PrivateBench] = []
        for index in 0..<maxSessions {
            benches.append(try PrivateBench(index: index, width: frame.width, height: frame.height, directory: scratch.path))
        }
        defer { for bench in benches { bench.stop() } }
        PrivateBench.exportALSAConfiguration(benches)

        var ours: [Step] = [], peer: [Step] = []
        var oursHeld = 0, peerHeld = 0
        for count in 1...maxSessions {
            let active = Array(benches.prefix(count))
            for bench in active { try bench.startLoad(toneFile: toneFile, sceneFrames: sceneFrames) }
            // The scene maps its window and PulseAudio starts the tone stream.
            usleep(1_500_000)
            if ours.last?.held ?? true {
                log("\(count) at once: engine")
                let step = try await Self.accountingLoad(active) { try await recordOurs(active, frame: frame, scratch: scratch) }
                ours.append(step)
                if step.held { oursHeld = count }
            }
            if peer.last?.held ?? true {
                log("\(count) at once: ffmpeg")
                let step = try await Self.accountingLoad(active) { try recordFFmpeg(active, frame: frame, scratch: scratch) }
                peer.append(step)
                if step.held { peerHeld = count }
            }
            for bench in active { bench.stopLoad() }
            if !(ours.last?.held ?? false) && !(peer.last?.held ?? false) { break }
        }

        var report = BenchReport(benchmark: "concurrency", settings: [
            "size": frame.description, "fps": "\(fps)", "seconds": "\(seconds)", "max sessions": "\(maxSessions)",
            "x264": "ultrafast crf 25 (Jibri's recording defaults), AAC 128k 44.1 kHz",
            "load per recording": "own Xvfb + PulseAudio, testsrc2 at the full size ("
                + (scene == "replay" ? "30 frames replayed by capbench scene" : "ffplay, live") + "), 440 Hz tone",
            "held": "no frame dropped or duplicated, no audio lost, ended within \(lagLimit) s of its length",
            "ours": "N RecordingSessions in one process", "peer": "N ffmpeg processes, Jibri's command"])
        let peerName = "ffmpeg (Jibri) processes"
        let reachedCap = (oursHeld == maxSessions ? "engine held the cap; " : "") + (peerHeld == maxSessions ? "ffmpeg held the cap" : "")
        if !reachedCap.isEmpty { report.settings["note"] = reachedCap + " (raise --max-sessions to find the limit)" }
        report.add(Figure("most recordings held at once", unit: "recordings", ours: Double(oursHeld), peer: Double(peerHeld),
                          peerName: peerName))
        for count in 1...max(ours.count, peer.count) {
            let mine = ours.first { $0.sessions == count }, theirs = peer.first { $0.sessions == count }
            for (who, step) in [("engine", mine), ("ffmpeg", theirs)] {
                guard let step else { continue }
                report.settings["\(count) at once, \(who)"] = "\(step.held ? "held" : "FAILED"): \(step.framesWritten)/\(step.framesExpected) frames, "
                    + "\(step.droppedOrDuplicated) dropped or duplicated"
                    + (who == "engine" && step.droppedOrDuplicated > 0
                        ? " (\(step.lateGrabs) late grabs, \(step.droppedQueueFull) dropped with the queue full)" : "")
                    + ", \(step.audioLost) audio losses, "
                    + String(format: "%.2f CPU-s/s (X servers %.2f, scenes and tones %.2f), ended %.2f s late",
                             step.cpuSeconds / seconds, step.serverCPUSeconds / seconds, step.loadCPUSeconds / seconds,
                             step.worstLag)
                    + (step.errors.isEmpty ? "" : "; " + step.errors.joined(separator: "; "))
            }
            // Figures side by side only where both recorders ran this step
            // (after a failed step a recorder is not tried with more).
            guard let mine, let theirs else { continue }
            report.add(Figure("\(count) at once: frames dropped or duplicated", unit: "frames",
                              ours: Double(mine.droppedOrDuplicated), peer: Double(theirs.droppedOrDuplicated),
                              peerName: peerName, comparable: false))
            report.add(Figure("\(count) at once: CPU per media second, all recorders", unit: "CPU-s/s",
                              ours: mine.cpuSeconds / seconds, peer: theirs.cpuSeconds / seconds, peerName: peerName))
            report.add(Figure("\(count) at once: latest end after its length", unit: "s",
                              ours: mine.worstLag, peer: theirs.worstLag, peerName: peerName, comparable: false))
        }
        report.printTable()
        try report.write(json: common.json)
    }

    /// Runs `record` and adds to its step what the X servers and the scene
    /// and tone players spent meanwhile: the machine's other load, the
    /// same for both recorders.
    private static func accountingLoad(_ benches: [PrivateBench], _ record: () async throws -> Step) async throws -> Step {
        func servers() -> Double { benches.reduce(0) { $0 + (CPUUsage.processSeconds($1.serverPID) ?? 0) } }
        func load() -> Double { benches.reduce(0) { $0 + $1.loadCPUSeconds } }
        let server0 = servers(), load0 = load()
        var step = try await record()
        step.serverCPUSeconds = servers() - server0
        step.loadCPUSeconds = load() - load0
        return step
    }

    private func recordOurs(_ benches: [PrivateBench], frame: FrameSize, scratch: ScratchDirectory) async throws -> Step {
        var step = Step(sessions: benches.count, lagLimit: lagLimit)
        // Opening the encoders counts, as it does in ffmpeg's CPU time.
        let cpu0 = CPUUsage.ownSeconds()
        var sessions: [RecordingSession] = []
        for bench in benches {
            var configuration = RecordingConfiguration(
                capture: DisplayCaptureConfiguration(display: bench.display,
                                                     region: CaptureRegion(width: frame.width, height: frame.height),
                                                     framesPerSecond: fps),
                audio: PCMCaptureConfiguration(device: bench.capturePCM),
                audioEncoding: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
                video: VideoEncodingOptions(),
                output: FileOutput(path: scratch.file("ours-\(benches.count)-\(bench.index).mp4"), overwrite: true))
            configuration.duration = .seconds(seconds)
            sessions.append(try RecordingSession(configuration: configuration))
        }
        let start = Date()
        let results = try await withThrowingTaskGroup(of: (RecordingResult, Double).self) { group in
            for session in sessions {
                group.addTask { (try await session.record(), Date().timeIntervalSince(start)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (result, ended) in results {
            let statistics = result.statistics
            step.framesExpected += Int(seconds * Double(fps))
            step.framesWritten += statistics.framesEncoded
            step.droppedOrDuplicated += statistics.framesDropped + statistics.framesDuplicated
            step.lateGrabs += statistics.lateGrabs
            step.droppedQueueFull += statistics.framesDropped
            step.audioLost += statistics.audioOverruns + statistics.audioFramesDropped
            step.worstLag = max(step.worstLag, ended - seconds)
            if let error = result.error { step.errors.append("\(error)") }
        }
        step.cpuSeconds = CPUUsage.ownSeconds() - cpu0
        return step
    }

    private func recordFFmpeg(_ benches: [PrivateBench], frame: FrameSize, scratch: ScratchDirectory) throws -> Step {
        var step = Step(sessions: benches.count, lagLimit: lagLimit)
        let tally = try JibriFFmpegRuns(benches, name: "ffmpeg", frame: frame, fps: fps, seconds: seconds,
                                        scratch: scratch).finish(seconds: seconds, fps: fps)
        step.add(tally)
        step.droppedOrDuplicated += tally.droppedOrDuplicated
        step.cpuSeconds += tally.cpuSeconds
        return step
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench concurrency: \(message)\n".utf8))
    }
}
