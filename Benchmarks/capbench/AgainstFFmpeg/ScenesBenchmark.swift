import ArgumentParser
import Foundation
import HostProcesses

/// What damage-driven capture saves on the screens meetings show:
/// record-display (DAMAGE, the default), record-display with `--full-grabs`
/// and Jibri's ffmpeg command, alternating on the bench's display, on four
/// scenes replayed by `capbench scene`:
///
/// - `static`: one still slide;
/// - `slides`: a slide that changes every 10 s;
/// - `tile`: a 320x240 video tile (testsrc2, 30 fps) on a still page;
/// - `motion`: full motion (testsrc2 at the whole size, 30 fps);
/// - `repaint`: one still slide drawn again whole 25 times a second, the
///   same pixels each time (what a player showing a still picture does);
/// - `ffplay`: the issue's own input, `ffplay -loop 0 slide.png` (ffplay
///   repaints its window about 25 times a second).
///
/// `--baseline` records with another record-display too (an older build),
/// alternating with the others, for a same-run comparison.
///
/// No sound (the AAC encoder would cost the same on every side and hide
/// the video's figures on a still screen). Each recorder's CPU is its own
/// (`wait4`) plus the X server's above the scene's own rate, measured over
/// two quiet seconds before each recording, as `resolution-sweep` does.
struct ScenesBenchmark: ParsableCommand, RunCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenes", abstract: "Damage-driven capture on still, slide, small-tile and full-motion scenes, against ffmpeg.")

    @OptionGroup var recording: RunOptions<Defaults>
    enum Defaults: RunDefaults { static let seconds = 20, rounds = 2 }
    @Option(help: "Scenes, comma-separated: static, slides, tile, motion, repaint, ffplay.")
    var scenes = "static,slides,tile,motion,repaint,ffplay"
    @Option(help: "Another record-display binary measured beside ours in every round (an older build).")
    var baseline: String?
    @Option(help: "X server PID, to count its CPU (default $BENCH_XVFB_PID).") var serverPid: Int32?
    @OptionGroup var common: CommonOptions

    struct Trial {
        var recorderCPU: Double, serverCPU: Double, mediaSeconds: Double
        var unchanged: Int?, skipPictures: Int?, frames: Int?
        var totalPerSecond: Double { (recorderCPU + serverCPU) / mediaSeconds }
    }

    func run() throws {
        let frame = try FrameSize(parsing: size)
        let chosen = scenes.split(separator: ",").map(String.init)
        let known = ["static", "slides", "tile", "motion", "repaint", "ffplay"]
        for scene in chosen where !known.contains(scene) {
            throw ValidationError("unknown scene '\(scene)' (\(known.joined(separator: ", ")))")
        }
        guard let display = display ?? ProcessInfo.processInfo.environment["DISPLAY"] else {
            throw ValidationError("no display: pass --display")
        }
        let server = CPUUsage.serverPID(serverPid)
        let scratch = try ScratchDirectory("scenes")
        let binary = ChildProcess.siblingExecutable("record-display")
        let tile = FrameSize(width: min(320, frame.width / 2 & ~1), height: min(240, frame.height / 2 & ~1))
        let tileAt = "\(frame.width / 2 - tile.width / 2),\(frame.height / 2 - tile.height / 2)"

        var report = BenchReport(benchmark: "scenes", settings: [
            "size": "\(frame)", "fps": "\(fps)", "seconds": "\(seconds)", "rounds": "\(rounds)",
            "encoder": "ultrafast crf 25 main, gop 60 (Jibri's recording settings, one GOP for all), no sound",
            "peer": "Jibri's ffmpeg command without its audio input (x11grab, libx264 ultrafast crf 25 main)",
            "X server share": "its CPU during the recording less its rate for the scene alone, measured just before",
            "scenes": "static: one slide; slides: a new slide every 10 s; tile: a \(tile) testsrc2 video at \(tileAt) "
                + "on a still page; motion: testsrc2 at \(frame)",
            "server CPU counted": server == nil ? "no" : "yes",
        ])
        let slides = scratch.file("slides.bgr0")
        try SceneCommand.writeFrames(size: frame, count: 4, to: slides, source: "testsrc", rate: 1)
        for scene in chosen {
            // A player showing a still picture repaints it about 25 times a second.
            var arguments = [ChildProcess.siblingExecutable("capbench"), "scene", "--display", display, "--size", "\(frame)",
                             "--fps", scene == "repaint" ? "25" : "\(fps)"]
            var environment: [String: String?] = [:]
            switch scene {
            case "static": arguments += ["--frames", slides, "--hold-seconds", "1000000"]
            case "repaint": arguments += ["--frames", slides, "--hold-seconds", "1000000", "--repaint"]
            case "ffplay":
                let slide = scratch.file("slide.png")
                let made = try ChildProcess(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                                             "testsrc=size=\(frame):rate=1", "-frames:v", "1", slide]).wait()
                guard made.status == 0 else { throw BenchFailure("ffmpeg could not write the slide") }
                arguments = ["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0", "-loop", "0", slide]
                environment = ["DISPLAY": display, "SDL_AUDIODRIVER": "dummy"]
            case "slides": arguments += ["--frames", slides, "--hold-seconds", "10"]
            case "tile":
                let tileFrames = scratch.file("tile.bgr0")
                try SceneCommand.writeFrames(size: tile, count: 150, to: tileFrames)
                arguments += ["--frames", slides, "--hold-seconds", "1000000", "--tile-frames", tileFrames,
                              "--tile-size", "\(tile)", "--tile-at", tileAt]
            default:
                let motion = scratch.file("motion.bgr0")
                try SceneCommand.writeFrames(size: frame, count: 30, to: motion)
                arguments += ["--frames", motion]
            }
            log("\(scene): starting the scene")
            let player = try ChildProcess(arguments, environment: environment.isEmpty ? nil : ChildProcess.environment(updating: environment),
                                          standardError: .file(scratch.file("scene-\(scene).log")))
            defer { _ = player.stop(grace: 1) }  // at the end of this scene's iteration
            usleep(1_500_000)
            var damage: [Trial] = [], full: [Trial] = [], peer: [Trial] = [], older: [Trial] = []
            for round in 0..<rounds {
                if let baseline {
                    log("\(scene) round \(round + 1): baseline record-display")
                    older.append(try measure(server: server) { try recordOurs(baseline, display, frame, scratch, extra: []) })
                }
                log("\(scene) round \(round + 1): record-display")
                damage.append(try measure(server: server) { try recordOurs(binary, display, frame, scratch, extra: []) })
                log("\(scene) round \(round + 1): record-display --full-grabs")
                full.append(try measure(server: server) { try recordOurs(binary, display, frame, scratch, extra: ["--full-grabs"]) })
                log("\(scene) round \(round + 1): ffmpeg")
                peer.append(try measure(server: server) { try recordFFmpeg(display, frame, scratch) })
            }
            func leanest(_ trials: [Trial]) -> Trial { trials.min { $0.totalPerSecond < $1.totalPerSecond }! }
            let ours = leanest(damage), fullGrabs = leanest(full), ffmpeg = leanest(peer)
            let peerName = "ffmpeg (Jibri)"
            if !older.isEmpty {
                // Round by round: each pair ran within a minute of each other.
                for (round, pair) in zip(damage, older).enumerated() {
                    report.add(Figure("\(scene): round \(round + 1), recorder + X server", unit: "CPU-s/s",
                                      ours: pair.0.totalPerSecond, peer: pair.1.totalPerSecond, peerName: "baseline"))
                }
                report.add(Figure("\(scene): CPU per recorded second, recorder + X server, leanest", unit: "CPU-s/s",
                                  ours: ours.totalPerSecond, peer: leanest(older).totalPerSecond, peerName: "baseline"))
            }
            report.add(Figure("\(scene): CPU per recorded second, recorder + X server", unit: "CPU-s/s",
                              ours: ours.totalPerSecond, peer: ffmpeg.totalPerSecond, peerName: peerName))
            report.add(Figure("\(scene): CPU per recorded second, recorder alone", unit: "CPU-s/s",
                              ours: ours.recorderCPU / ours.mediaSeconds, peer: ffmpeg.recorderCPU / ffmpeg.mediaSeconds,
                              peerName: peerName))
            report.add(Figure("\(scene): full grabs, CPU per recorded second, recorder + X server", unit: "CPU-s/s",
                              ours: fullGrabs.totalPerSecond, peer: ffmpeg.totalPerSecond, peerName: peerName))
            report.add(Figure("\(scene): DAMAGE over full grabs, recorder + X server", unit: "ratio",
                              ours: ours.totalPerSecond / fullGrabs.totalPerSecond))
            if let unchanged = ours.unchanged, let frames = ours.frames, frames > 0 {
                report.add(Figure("\(scene): unchanged frames (no grab, no conversion)", unit: "share",
                                  ours: Double(unchanged) / Double(frames)))
            }
            if let skips = ours.skipPictures, let frames = ours.frames, frames > 0 {
                report.add(Figure("\(scene): frames written as skipped pictures (no x264)", unit: "share",
                                  ours: Double(skips) / Double(frames)))
            }
        }
        report.printTable()
        try report.write(json: common.json)
    }

    /// Runs one recording and charges it the X server's CPU above the
    /// scene's own rate, measured over two quiet seconds just before.
    private func measure(server: Int32?, _ record: () throws -> (Termination, Trial)) throws -> Trial {
        let quietStart = CPUUsage.processSeconds(server) ?? 0
        let quietTime = Date()
        usleep(2_000_000)
        let sceneRate = ((CPUUsage.processSeconds(server) ?? 0) - quietStart) / Date().timeIntervalSince(quietTime)
        let server0 = CPUUsage.processSeconds(server) ?? 0
        var (outcome, trial) = try record()
        trial.serverCPU = max(0, (CPUUsage.processSeconds(server) ?? 0) - server0 - sceneRate * outcome.wallSeconds)
        return trial
    }

    private func recordOurs(_ binary: String, _ display: String, _ frame: FrameSize, _ scratch: ScratchDirectory,
                            extra: [String]) throws -> (Termination, Trial) {
        let output = scratch.file("ours.mp4"), stats = scratch.file("ours.json")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess([binary, "--display", display, "--region", "\(frame)+0+0", "--fps", "\(fps)", "--no-audio",
                                    "--preset", "ultrafast", "--crf", "25", "--profile", "main", "--gop", "60",
                                    "--duration", "\(seconds)", "--output", output, "--overwrite", "--stats-json", stats] + extra,
                                   standardError: .file(scratch.file("ours.log")))
        guard let outcome = child.wait(timeout: Double(seconds) + 60), outcome.status == 0 else {
            _ = child.stop()
            throw BenchFailure("record-display failed: \(SilentJibriRecording.logTail(scratch.file("ours.log")))")
        }
        let figures = try PipelineBenchmark.recordDisplayStatistics(stats)
        return (outcome, Trial(recorderCPU: outcome.cpuSeconds, serverCPU: 0,
                               mediaSeconds: figures["mediaSeconds"] as? Double ?? Double(seconds),
                               unchanged: figures["framesUnchanged"] as? Int, skipPictures: figures["skipPictures"] as? Int,
                               frames: figures["framesEncoded"] as? Int))
    }

    private func recordFFmpeg(_ display: String, _ frame: FrameSize, _ scratch: ScratchDirectory) throws -> (Termination, Trial) {
        let (outcome, frames) = try SilentJibriRecording.record(display: display, frame: frame, fps: fps, seconds: seconds,
                                                                scratch: scratch)
        return (outcome, Trial(recorderCPU: outcome.cpuSeconds, serverCPU: 0,
                               mediaSeconds: frames > 0 ? Double(frames) / Double(fps) : Double(seconds)))
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench scenes: \(message)\n".utf8))
    }
}
