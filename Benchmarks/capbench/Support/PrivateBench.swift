import Foundation
import HostProcesses

/// An X display and a sound loopback of the benchmark's own: a
/// `PrivateXServer` and a `PrivateSoundServer` whose null sink's two sides
/// are ALSA `pulse` PCMs. For benchmarks that need several at once (one per
/// recording, as on separate recorder hosts) or a screen size the outer
/// bench lacks.
///
/// The PCMs exist only once `exportALSAConfiguration` has put their
/// definitions on `ALSA_CONFIG_PATH`, which alsa-lib reads at each open.
final class PrivateBench {
    let index: Int
    let width: Int
    let height: Int
    /// Display name, e.g. ":41".
    var display: String { server.display }
    /// ALSA PCM reading the null sink's monitor.
    let capturePCM: String
    /// ALSA PCM playing into the null sink.
    let playbackPCM: String
    /// The ALSA configuration that defines the two PCMs.
    let alsaConfiguration: String
    private let server: PrivateXServer
    private let pulse: PrivateSoundServer
    private var load: [ChildProcess] = []
    private var windowManager: ChildProcess?

    /// The X server's process, to count its CPU time.
    var serverPID: pid_t { server.process.pid }
    /// The sound server's process, its address (`PULSE_SERVER`) and its null sink.
    var soundServerPID: pid_t { pulse.process.pid }
    var pulseAddress: String { pulse.address }
    var pulseSink: String { pulse.sink }

    /// Starts Xvfb at `width`x`height` and PulseAudio, with their files in `directory`.
    init(index: Int, width: Int, height: Int, directory: String) throws {
        self.index = index
        self.width = width
        self.height = height
        let base = "\(directory)/bench\(index)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        server = try PrivateXServer(width: width, height: height, log: "\(base)/xvfb.log", readyWithin: 10)
        pulse = try PrivateSoundServer(directory: base, sink: "bench", log: "\(base)/pulse.log")
        capturePCM = "capbench_capture\(index)"
        playbackPCM = "capbench_playback\(index)"
        alsaConfiguration = "\(base)/asound.conf"
        try pulse.alsaDefinitions(playbackPCM: playbackPCM, capturePCM: capturePCM)
            .write(toFile: alsaConfiguration, atomically: true, encoding: .utf8)
    }

    /// Starts moving content on the display and a 440 Hz tone into the
    /// loopback (`toneFile`, a WAV): what a recorder records. The scene is
    /// ffplay's `testsrc2` at the screen's size, as `scripts/demo` shows it,
    /// or, given `sceneFrames` (raw bgr0 frames of the screen's size), those
    /// frames replayed by `capbench scene`, which costs far less CPU. Both run
    /// until `stopLoad` or `stop`.
    func startLoad(toneFile: String, sceneFrames: String? = nil) throws {
        if let sceneFrames {
            load.append(try ChildProcess([ChildProcess.siblingExecutable("capbench"), "scene", "--display", display,
                                          "--frames", sceneFrames, "--size", "\(width)x\(height)"],
                                         standardError: .file("\(alsaConfiguration).scene.log")))
        } else {
            load.append(try ChildProcess(
                ["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0", "-f", "lavfi",
                 "testsrc2=size=\(width)x\(height):rate=30"],
                environment: ChildProcess.environment(updating: ["DISPLAY": display, "SDL_AUDIODRIVER": "dummy"])))
        }
        load.append(try ChildProcess(["aplay", "-q", "-D", playbackPCM, toneFile]))
    }

    /// Starts `program` (a window manager, e.g. `icewm`) on the display until `stop`, and
    /// waits until it has taken the root window (a redirect on it), at most 5 s.
    /// - Throws: `BenchFailure` when it cannot be started or did not take the root window.
    func startWindowManager(_ program: String) throws {
        windowManager = try ChildProcess([program], environment: ChildProcess.environment(updating: ["DISPLAY": display]),
                                         standardError: .file("\(alsaConfiguration).wm.log"))
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let tree = String(decoding: (try? BenchTools.output(["xwininfo", "-display", display, "-root", "-children"])) ?? Data(), as: UTF8.self)
            if tree.contains("child") && !tree.contains("0 children") { return }
            usleep(100_000)
        }
        throw BenchFailure("\(program) on \(display): no window of its own within 5 s (see \(alsaConfiguration).wm.log)")
    }

    /// CPU seconds of the scene and tone players so far (they are not reaped yet).
    var loadCPUSeconds: Double { load.reduce(0) { $0 + (CPUUsage.processSeconds($1.pid) ?? 0) } }

    /// Stops the scene and the tone.
    func stopLoad() {
        for child in load { child.stop(grace: 1) }
        load.removeAll()
    }

    /// Stops the load, PulseAudio and the X server.
    func stop() {
        stopLoad()
        windowManager?.stop(grace: 1)
        windowManager = nil
        pulse.stop()
        server.stop()
    }

    deinit { stop() }

    /// Makes alsa-lib see the benches' PCMs (and the outer bench's), for this
    /// process and the children it starts from now on.
    static func exportALSAConfiguration(_ benches: [PrivateBench]) {
        setenv("ALSA_CONFIG_PATH", ALSAPulsePCMs.configPath(adding: benches.map(\.alsaConfiguration)), 1)
    }
}
