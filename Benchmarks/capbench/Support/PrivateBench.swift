import Foundation

/// An X display and a sound loopback of the benchmark's own, started the way
/// `scripts/testbench` starts the bench's: Xvfb with MIT-SHM on a free display
/// number, and a private PulseAudio with a null sink whose two sides are ALSA
/// `pulse` PCMs. For benchmarks that need several at once (one per recording,
/// as on separate recorder hosts) or a screen size the outer bench lacks.
///
/// The PCMs exist only once `exportALSAConfiguration` has put their
/// definitions on `ALSA_CONFIG_PATH`, which alsa-lib reads at each open.
final class PrivateBench {
    let index: Int
    let width: Int
    let height: Int
    /// Display name, e.g. ":41".
    let display: String
    /// ALSA PCM reading the null sink's monitor.
    let capturePCM: String
    /// ALSA PCM playing into the null sink.
    let playbackPCM: String
    /// The ALSA configuration that defines the two PCMs.
    let alsaConfiguration: String
    private let server: BenchChild
    private let pulse: BenchChild
    private var load: [BenchChild] = []

    /// The X server's process, to count its CPU time.
    var serverPID: pid_t { server.pid }

    /// Starts Xvfb at `width`x`height` and PulseAudio, with their files in `directory`.
    init(index: Int, width: Int, height: Int, directory: String) throws {
        self.index = index
        self.width = width
        self.height = height
        let base = "\(directory)/bench\(index)"
        try FileManager.default.createDirectory(atPath: "\(base)/run", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])

        // Xvfb writes the display number it chose to descriptor 5.
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw BenchFailure("pipe: \(String(cString: strerror(errno)))") }
        // Close-on-exec: only the dup2 below reaches Xvfb; no other child inherits either end.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let server: BenchChild
        do {
            server = try BenchChild(["Xvfb", "-displayfd", "5", "-screen", "0", "\(width)x\(height)x24", "-nolisten", "tcp",
                                     "-noreset", "+extension", "MIT-SHM"],
                                    standardError: "\(base)/xvfb.log", passing: [(fds[1], 5)])
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        let number = Self.readLine(fds[0], timeout: 10)
        close(fds[0])
        guard let number, !number.isEmpty else {
            server.stop()
            throw BenchFailure("Xvfb \(width)x\(height) did not report a display (see \(base)/xvfb.log)")
        }
        self.server = server
        display = ":\(number)"

        let socket = "\(base)/pulse.socket"
        let pulse: BenchChild
        do {
            pulse = try BenchChild(
                ["pulseaudio", "--system=no", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
                 "--use-pid-file=no", "--log-target=stderr",
                 "-L", "module-native-protocol-unix socket=\(socket) auth-anonymous=1",
                 "-L", "module-null-sink sink_name=bench rate=48000 channels=2 sink_properties=device.description=bench",
                 "-L", "module-always-sink"],
                environment: ["HOME": base, "XDG_RUNTIME_DIR": "\(base)/run"], standardError: "\(base)/pulse.log")
        } catch {
            server.stop()
            throw error
        }
        self.pulse = pulse
        var waited = 0
        while access(socket, F_OK) != 0 && waited < 200 {
            usleep(25_000)
            waited += 1
        }
        guard access(socket, F_OK) == 0 else {
            pulse.stop(); server.stop()
            throw BenchFailure("PulseAudio did not open its socket (see \(base)/pulse.log)")
        }
        capturePCM = "capbench_capture\(index)"
        playbackPCM = "capbench_playback\(index)"
        alsaConfiguration = "\(base)/asound.conf"
        try """
            pcm.\(playbackPCM) { type pulse; device "bench"; server "unix:\(socket)" }
            pcm.\(capturePCM) { type pulse; device "bench.monitor"; server "unix:\(socket)" }

            """.write(toFile: alsaConfiguration, atomically: true, encoding: .utf8)
    }

    /// Starts moving content on the display and a 440 Hz tone into the
    /// loopback (`toneFile`, a WAV): what a recorder records. The scene is
    /// ffplay's `testsrc2` at the screen's size, as `scripts/demo` shows it,
    /// or, given `sceneFrames` (raw bgr0 frames of the screen's size), those
    /// frames replayed by `capbench scene`, which costs far less CPU. Both run
    /// until `stopLoad` or `stop`.
    func startLoad(toneFile: String, sceneFrames: String? = nil) throws {
        if let sceneFrames {
            load.append(try BenchChild([BenchChild.siblingExecutable("capbench"), "scene", "--display", display,
                                        "--frames", sceneFrames, "--size", "\(width)x\(height)"],
                                       standardError: "\(alsaConfiguration).scene.log"))
        } else {
            load.append(try BenchChild(
                ["ffplay", "-loglevel", "error", "-an", "-noborder", "-left", "0", "-top", "0", "-f", "lavfi",
                 "testsrc2=size=\(width)x\(height):rate=30"],
                environment: ["DISPLAY": display, "SDL_AUDIODRIVER": "dummy"]))
        }
        load.append(try BenchChild(["aplay", "-q", "-D", playbackPCM, toneFile]))
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
        pulse.stop()
        server.stop()
    }

    deinit { stop() }

    /// Makes alsa-lib see the benches' PCMs (and the outer bench's), for this
    /// process and the children it starts from now on.
    static func exportALSAConfiguration(_ benches: [PrivateBench]) {
        var paths = ["/usr/share/alsa/alsa.conf"]
        if let outer = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"] {
            paths += outer.split(separator: ":").map(String.init).filter { $0 != "/usr/share/alsa/alsa.conf" }
        }
        for bench in benches where !paths.contains(bench.alsaConfiguration) { paths.append(bench.alsaConfiguration) }
        setenv("ALSA_CONFIG_PATH", paths.joined(separator: ":"), 1)
    }

    /// Reads one line from `fd`, waiting at most `timeout` seconds.
    private static func readLine(_ fd: Int32, timeout: Double) -> String? {
        var line = ""
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno != EINTR { return nil }
            if ready <= 0 { continue }
            var byte: UInt8 = 0
            let count = read(fd, &byte, 1)
            if count <= 0 { return line.isEmpty ? nil : line }
            if byte == UInt8(ascii: "\n") { return line }
            line.append(Character(UnicodeScalar(byte)))
        }
        return nil
    }
}
