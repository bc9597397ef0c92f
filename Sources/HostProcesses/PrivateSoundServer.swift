import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PulseAudio server of this process's own with one null sink, started as
/// `scripts/testbench` starts the bench's: `--system=no -n` (no
/// configuration files, so it runs as root too), a private `HOME` and
/// `XDG_RUNTIME_DIR`, no autospawn, no idle exit, anonymous clients on one
/// unix socket. Ready once the socket exists. ALSA reaches it through the
/// `pulse` plugin's PCMs (`ALSAPulsePCMs`): one plays into the sink, one
/// captures its monitor, paced in real time like a loopback card.
public final class PrivateSoundServer: Sendable {
    /// The server's home; its runtime directory is `run/` inside.
    public let directory: String
    /// The server's unix socket.
    public let socket: String
    /// The null sink's name (its monitor is `sink + ".monitor"`).
    public let sink: String
    /// The server's process.
    public let process: ChildProcess

    /// `unix:SOCKET`, for `PULSE_SERVER` or a PCM's `server`.
    public var address: String { "unix:\(socket)" }
    /// The source that captures what the sink plays.
    public var monitor: String { "\(sink).monitor" }

    /// Starts the server and blocks until its socket exists.
    ///
    /// - `directory`: made if missing (mode 0700).
    /// - `socket`: defaults to `directory/pulse.socket` (a unix socket path
    ///   has at most 107 bytes); a file left there is replaced.
    /// - `log`: where its output goes (appended); nil discards it.
    /// - Throws: `ChildProcess.SpawnFailure`, or `PrivateServerFailure` when
    ///   the socket does not appear within `readyWithin` seconds.
    public convenience init(directory: String, socket: String? = nil, sink: String = "sink", program: String = "pulseaudio",
                            log: String? = nil, readyWithin: Double = 10) throws {
        let socket = socket ?? "\(directory)/pulse.socket"
        let process = try Self.spawn(directory: directory, socket: socket, sink: sink, program: program, log: log)
        let deadline = Date(timeIntervalSinceNow: readyWithin)
        // Checked every 20 ms (the wait returns early if the server exits).
        while access(socket, F_OK) != 0 && Date() < deadline && process.wait(timeout: 0.02) == nil {}
        try self.init(process: process, directory: directory, socket: socket, sink: sink, program: program, log: log,
                      readyWithin: readyWithin)
    }

    /// The same for a task, which may be cancelled while it waits.
    /// - Throws: as `init`, or `CancellationError` (the server is stopped).
    public static func start(directory: String, socket: String? = nil, sink: String = "sink", program: String = "pulseaudio",
                             log: String? = nil, readyWithin: Double = 10) async throws -> PrivateSoundServer {
        let socket = socket ?? "\(directory)/pulse.socket"
        let process = try spawn(directory: directory, socket: socket, sink: sink, program: program, log: log)
        let deadline = ContinuousClock.now + .milliseconds(Int(readyWithin * 1000))
        do {
            while access(socket, F_OK) != 0 && ContinuousClock.now < deadline {
                if try await process.terminated(within: .milliseconds(20)) != nil { break }
            }
        } catch {
            await process.terminate(grace: .seconds(1))
            throw error
        }
        return try PrivateSoundServer(process: process, directory: directory, socket: socket, sink: sink, program: program,
                                      log: log, readyWithin: readyWithin)
    }

    private init(process: ChildProcess, directory: String, socket: String, sink: String, program: String, log: String?,
                 readyWithin: Double) throws {
        guard access(socket, F_OK) == 0 && process.isRunning else {
            process.stop(grace: 1)
            throw PrivateServerFailure("\(program) did not open \(socket) within \(readyWithin) s"
                                       + (log.map { " (see \($0))" } ?? ""))
        }
        self.process = process
        self.directory = directory
        self.socket = socket
        self.sink = sink
    }

    private static func spawn(directory: String, socket: String, sink: String, program: String,
                              log: String?) throws -> ChildProcess {
        let runtime = "\(directory)/run"
        for path in [directory, runtime] where mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw PrivateServerFailure("cannot make \(path): \(String(cString: strerror(errno)))")
        }
        unlink(socket)
        let environment = ChildProcess.environment(updating: ["HOME": directory, "XDG_RUNTIME_DIR": runtime,
                                                              "PULSE_SERVER": nil])
        return try ChildProcess(
            [program, "--system=no", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=no", "--log-target=stderr",
             "-L", "module-native-protocol-unix socket=\(socket) auth-anonymous=1",
             "-L", "module-null-sink sink_name=\(sink) rate=48000 channels=2 sink_properties=device.description=\(sink)",
             "-L", "module-always-sink"],
            environment: environment, standardOutput: log.map { .file($0) } ?? .null,
            standardError: log == nil ? .null : .standardOutput)
    }

    /// ALSA configuration defining `playbackPCM` (into the sink) and
    /// `capturePCM` (its monitor) on this server; see `ALSAPulsePCMs`.
    public func alsaDefinitions(playbackPCM: String, capturePCM: String) -> String {
        ALSAPulsePCMs.definitions(playback: playbackPCM, capture: capturePCM, server: address, sink: sink)
    }

    /// Stops the server (SIGTERM to its group, SIGKILL after `grace` seconds) and reaps it.
    public func stop(grace: Double = 5) { process.stop(grace: grace) }

    /// The same for a task, bounded as `ChildProcess.terminate`.
    public func terminate(grace: Duration = .seconds(5)) async { await process.terminate(grace: grace) }

    deinit {
        if process.isRunning { process.stop(grace: 5) }
    }
}
