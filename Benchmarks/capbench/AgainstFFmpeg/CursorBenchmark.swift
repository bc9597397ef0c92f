import ArgumentParser
import CX11
import Encoder
import Foundation
import HostProcesses
import MediaCore
import Synchronization

/// What drawing the pointer (`--draw-cursor`) costs per frame: record-display
/// with and without it, and ffmpeg's x11grab with `-draw_mouse 1` and `0`,
/// alternating on the bench's display, with the pointer moving all the time
/// (warped along a circle 60 times a second), on a still slide and on full
/// motion; and the two parts of the engine's cost on their own: the pointer
/// query (`XQueryPointer`, one round trip a frame) and drawing the pointer
/// onto a 1080p I420 picture and taking it off again.
///
/// On a still screen the pointer's motion is the only change, so each frame
/// becomes one x264 encodes instead of a skipped picture: that, not the
/// drawing, is most of the cost there. On full motion every frame is encoded
/// anyway and only the query and the drawing remain.
struct CursorBenchmark: ParsableCommand, RunCommand {
    static let configuration = CommandConfiguration(
        commandName: "cursor", abstract: "The cost of drawing the pointer per frame, against ffmpeg's -draw_mouse.")

    @OptionGroup var recording: RunOptions<Defaults>
    enum Defaults: RunDefaults { static let seconds = 10, rounds = 2 }
    @Option(help: "Scenes, comma-separated: static, motion.") var scenes = "static,motion"
    @Option(help: "Seconds the X server's rate for the scene alone is measured before each recording.")
    var quietSeconds = 2.0
    @Option(help: "X server PID, to count its CPU (default $BENCH_XVFB_PID).") var serverPid: Int32?
    @OptionGroup var common: CommonOptions

    struct Trial {
        var recorderCPU: Double, serverCPU: Double, frames: Int
        var perFrame: Double { (recorderCPU + serverCPU) / Double(max(1, frames)) }
    }

    func run() throws {
        let frame = try FrameSize(parsing: size)
        let chosen = scenes.split(separator: ",").map(String.init)
        for scene in chosen where !["static", "motion"].contains(scene) {
            throw ValidationError("unknown scene '\(scene)' (static, motion)")
        }
        guard (0.1...60).contains(quietSeconds) else {
            throw ValidationError("invalid --quiet-seconds '\(quietSeconds)': 0.1 to 60")
        }
        guard let display = display ?? ProcessInfo.processInfo.environment["DISPLAY"] else {
            throw ValidationError("no display: pass --display")
        }
        let server = CPUUsage.serverPID(serverPid)
        let scratch = try ScratchDirectory("cursor")
        let binary = ChildProcess.siblingExecutable("record-display")
        var report = BenchReport(benchmark: "cursor", settings: [
            "size": "\(frame)", "fps": "\(fps)", "seconds": "\(seconds)", "rounds": "\(rounds)",
            "encoder": "ultrafast crf 25 main, gop 60 (Jibri's recording settings), no sound",
            "pointer": "the display's default pointer, warped along a circle (radius a quarter of the height) 60 times a second",
            "peer": "ffmpeg x11grab, -draw_mouse 1 against -draw_mouse 0 (libx264 ultrafast crf 25 main)",
            "cost per frame": "recorder + X server CPU (the server's above the scene's own rate) per frame written; "
                + "the pointer's cost is the run with it less the run without, leanest of the rounds",
            "server CPU counted": server == nil ? "no" : "yes",
        ])

        // The engine's two parts on their own.
        let query = try Self.timePointerQueries(display: display, count: 2000)
        report.add(Figure("pointer query (XQueryPointer), round trip", unit: "ms", ours: query.wall * 1000))
        report.add(Figure("pointer query, capture thread CPU", unit: "ms", ours: query.cpu * 1000))
        let drawing = Self.timeDrawing(size: frame, count: 3000)
        report.add(Figure("draw and restore a 32x32 pointer on a \(frame) picture, encode thread CPU", unit: "ms",
                          ours: drawing * 1000))

        let mover = PointerMover(display: display, width: frame.width, height: frame.height)
        defer { mover.stop() }
        let slides = scratch.file("slide.bgr0")
        try SceneCommand.writeFrames(size: frame, count: 1, to: slides, source: "testsrc", rate: 1)
        for scene in chosen {
            var arguments = [ChildProcess.siblingExecutable("capbench"), "scene", "--display", display, "--size", "\(frame)",
                             "--fps", "\(fps)"]
            if scene == "static" {
                arguments += ["--frames", slides, "--hold-seconds", "1000000"]
            } else {
                let motion = scratch.file("motion.bgr0")
                try SceneCommand.writeFrames(size: frame, count: 30, to: motion)
                arguments += ["--frames", motion]
            }
            log("\(scene): starting the scene")
            let player = try ChildProcess(arguments, standardError: .file(scratch.file("scene-\(scene).log")))
            defer { _ = player.stop(grace: 1) }
            usleep(1_500_000)
            var without: [Trial] = [], with: [Trial] = [], peerWithout: [Trial] = [], peerWith: [Trial] = []
            for round in 0..<rounds {
                log("\(scene) round \(round + 1): record-display, then with --draw-cursor")
                without.append(try measure(server) { try recordOurs(binary, display, frame, scratch, drawCursor: false) })
                with.append(try measure(server) { try recordOurs(binary, display, frame, scratch, drawCursor: true) })
                log("\(scene) round \(round + 1): ffmpeg -draw_mouse 0, then 1")
                peerWithout.append(try measure(server) { try recordFFmpeg(display, frame, scratch, drawMouse: false) })
                peerWith.append(try measure(server) { try recordFFmpeg(display, frame, scratch, drawMouse: true) })
            }
            func leanest(_ trials: [Trial]) -> Trial { trials.min { $0.perFrame < $1.perFrame }! }
            let ours = leanest(with), oursOff = leanest(without), peer = leanest(peerWith), peerOff = leanest(peerWithout)
            let peerName = "ffmpeg x11grab"
            report.add(Figure("\(scene): CPU per frame with the pointer drawn, recorder + X server", unit: "ms",
                              ours: ours.perFrame * 1000, peer: peer.perFrame * 1000, peerName: peerName))
            report.add(Figure("\(scene): CPU per frame without it", unit: "ms",
                              ours: oursOff.perFrame * 1000, peer: peerOff.perFrame * 1000, peerName: peerName))
            report.add(Figure("\(scene): cost of drawing the pointer per frame", unit: "ms",
                              ours: (ours.perFrame - oursOff.perFrame) * 1000, peer: (peer.perFrame - peerOff.perFrame) * 1000,
                              peerName: peerName, comparable: false))
        }
        report.printTable()
        try report.write(json: common.json)
    }

    /// Wall and thread CPU seconds of one `XQueryPointer` on its own connection.
    static func timePointerQueries(display: String, count: Int) throws -> (wall: Double, cpu: Double) {
        guard let connection = XOpenDisplay(display) else { throw BenchFailure("cannot open X display \(display)") }
        defer { XCloseDisplay(connection) }
        let root = XDefaultRootWindow(connection)
        var rootReturn: Window = 0, child: Window = 0
        var x: Int32 = 0, y: Int32 = 0, windowX: Int32 = 0, windowY: Int32 = 0
        var mask: UInt32 = 0
        let clock = MonotonicClock()
        let start = clock.now(), cpu = MediaThread.currentThreadCPUNanoseconds()
        for _ in 0..<count {
            _ = XQueryPointer(connection, root, &rootReturn, &child, &x, &y, &windowX, &windowY, &mask)
        }
        let wall = Double(clock.now() - start) / 1e9 / Double(count)
        return (wall, Double(MediaThread.currentThreadCPUNanoseconds() - cpu) / 1e9 / Double(count))
    }

    /// Thread CPU seconds of drawing a 32x32 pointer (a disc with soft
    /// edges, premultiplied) onto a `size` I420 picture and restoring it,
    /// at a new place each time.
    static func timeDrawing(size: FrameSize, count: Int) -> Double {
        let (width, height) = (size.width, size.height)
        let luma = UnsafeMutablePointer<UInt8>.allocate(capacity: width * height)
        let chroma = UnsafeMutablePointer<UInt8>.allocate(capacity: width * height / 2)
        defer { luma.deallocate(); chroma.deallocate() }
        luma.initialize(repeating: 120, count: width * height)
        chroma.initialize(repeating: 128, count: width * height / 2)
        let picture = I420Planes(y: luma, u: chroma, v: chroma + width * height / 4, strideY: width, strideU: width / 2,
                                 strideV: width / 2, width: width, height: height)
        var shape = [UInt32](repeating: 0, count: 32 * 32)
        for row in 0..<32 {
            for column in 0..<32 {
                let distance = ((Double(row) - 15.5) * (Double(row) - 15.5) + (Double(column) - 15.5) * (Double(column) - 15.5)).squareRoot()
                let alpha = UInt32(max(0, min(255, (16 - distance) * 64)))
                let grey = alpha * 200 / 255
                shape[row * 32 + column] = alpha << 24 | grey << 16 | grey << 8 | grey
            }
        }
        let compositor = CursorCompositor()
        let cpu = MediaThread.currentThreadCPUNanoseconds()
        shape.withUnsafeBytes { pixels in
            for index in 0..<count {
                let overlay = CursorOverlay(pixels: pixels.baseAddress!, width: 32, height: 32, hotspotX: 16, hotspotY: 16,
                                            x: (index * 37) % width, y: (index * 23) % height, serial: 1)
                compositor.draw(overlay, onto: picture, inputWidth: width, inputHeight: height)
                compositor.restore(picture)
            }
        }
        return Double(MediaThread.currentThreadCPUNanoseconds() - cpu) / 1e9 / Double(count)
    }

    /// Runs one recording and charges it the X server's CPU above the
    /// scene's own rate (the pointer's motion included), measured over
    /// `quietSeconds` just before.
    private func measure(_ server: Int32?, _ record: () throws -> (Termination, Trial)) throws -> Trial {
        let quietStart = CPUUsage.processSeconds(server) ?? 0
        let quietTime = Date()
        usleep(UInt32(quietSeconds * 1e6))
        let sceneRate = ((CPUUsage.processSeconds(server) ?? 0) - quietStart) / Date().timeIntervalSince(quietTime)
        let server0 = CPUUsage.processSeconds(server) ?? 0
        var (outcome, trial) = try record()
        trial.serverCPU = max(0, (CPUUsage.processSeconds(server) ?? 0) - server0 - sceneRate * outcome.wallSeconds)
        return trial
    }

    private func recordOurs(_ binary: String, _ display: String, _ frame: FrameSize, _ scratch: ScratchDirectory,
                            drawCursor: Bool) throws -> (Termination, Trial) {
        let output = scratch.file("ours.mp4"), stats = scratch.file("ours.json"), log = scratch.file("ours.log")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try ChildProcess([binary, "--display", display, "--region", "\(frame)+0+0", "--fps", "\(fps)", "--no-audio",
                                    "--preset", "ultrafast", "--crf", "25", "--profile", "main", "--gop", "60",
                                    "--duration", "\(seconds)", "--output", output, "--overwrite", "--stats-json", stats]
                                   + (drawCursor ? ["--draw-cursor"] : []), standardError: .file(log))
        guard let outcome = child.wait(timeout: Double(seconds) + 60), outcome.status == 0 else {
            _ = child.stop()
            throw BenchFailure("record-display failed: \(SilentJibriRecording.logTail(log))")
        }
        let frames = try PipelineBenchmark.recordDisplayStatistics(stats)["framesEncoded"] as? Int ?? seconds * fps
        return (outcome, Trial(recorderCPU: outcome.cpuSeconds, serverCPU: 0, frames: frames))
    }

    private func recordFFmpeg(_ display: String, _ frame: FrameSize, _ scratch: ScratchDirectory,
                              drawMouse: Bool) throws -> (Termination, Trial) {
        let (outcome, frames) = try SilentJibriRecording.record(display: display, frame: frame, fps: fps, seconds: seconds,
                                                                drawMouse: drawMouse, scratch: scratch)
        return (outcome, Trial(recorderCPU: outcome.cpuSeconds, serverCPU: 0, frames: frames > 0 ? frames : seconds * fps))
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("capbench cursor: \(message)\n".utf8))
    }
}

/// Moves the pointer along a circle in the middle of the screen, 60 times a
/// second, on a thread and an X connection of its own (`XWarpPointer`).
final class PointerMover: @unchecked Sendable {
    private final class State: Sendable {
        let running = Atomic<Bool>(true)
        let ended = DispatchSemaphore(value: 0)
    }

    private let state = State()

    init(display: String, width: Int, height: Int) {
        let state = self.state
        let thread = Thread {
            defer { state.ended.signal() }
            guard let connection = XOpenDisplay(display) else { return }
            defer { XCloseDisplay(connection) }
            let root = XDefaultRootWindow(connection)
            let radius = Double(height) / 4
            let clock = MonotonicClock()
            let start = clock.now()
            var tick: Int64 = 0
            while state.running.load(ordering: .relaxed) {
                let angle = Double(tick) / 60 * 2 * Double.pi / 3
                XWarpPointer(connection, 0, root, 0, 0, 0, 0, Int32(Double(width) / 2 + radius * cos(angle)),
                             Int32(Double(height) / 2 + radius * sin(angle)))
                XFlush(connection)
                tick += 1
                clock.sleep(until: start + tick * 1_000_000_000 / 60)
            }
        }
        thread.start()
    }

    /// Stops the motion and waits for the thread to end.
    func stop() {
        guard state.running.exchange(false, ordering: .relaxed) else { return }
        state.ended.wait()
    }
}
