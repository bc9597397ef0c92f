public import Foundation

/// A PulseAudio server of a test's own, with a null sink named `private`, so
/// a test can freeze, kill and restart the sound server under a running
/// capture without touching the bench's. Started as `scripts/testbench`
/// starts the bench's (`--system=no -n`, a private runtime directory), on a
/// socket in the bench's directory; `restart()` starts it again on the same
/// socket with the same sink, as a crashed server that is brought back.
///
/// Its PCMs (`capturePCM`, `playbackPCM`) are the `pulse` plugin's with no
/// server named: they reach this server while `PULSE_SERVER` names it, in
/// this process within `whileSelected`, in a child with `environment`.
public final class TestSoundServer: @unchecked Sendable {
    /// The ALSA PCM that captures the private sink's monitor.
    public let capturePCM = "pulse:DEVICE=private.monitor"
    /// The ALSA PCM that plays into the private sink.
    public let playbackPCM = "pulse:DEVICE=private"
    /// `unix:PATH` of the server's socket.
    public let address: String
    private let socket: String
    private let directory: String
    private var child: ChildProcess?

    public init(bench: TestBench) throws {
        directory = try bench.scratchDirectory("pulse")
        socket = "\(directory)/pulse.socket"
        address = "unix:\(socket)"
        try start()
    }

    deinit { kill() }

    /// The process environment with `PULSE_SERVER` naming this server, for a child.
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PULSE_SERVER"] = address
        return environment
    }

    /// The server's process id, while it runs.
    public var pid: pid_t? { child?.pid }

    /// Runs `body` with `PULSE_SERVER` naming this server in this process:
    /// the pulse plugin connects when a PCM is opened (or reopened, by a
    /// capture that lost it), so the whole test that may reopen runs inside.
    /// Test suites using it run serially, so nothing else reads the
    /// environment meanwhile.
    public func whileSelected<T>(_ body: () async throws -> T) async rethrows -> T {
        let previous = getenv("PULSE_SERVER").map { String(cString: $0) }
        setenv("PULSE_SERVER", address, 1)
        defer {
            if let previous { setenv("PULSE_SERVER", previous, 1) } else { unsetenv("PULSE_SERVER") }
        }
        return try await body()
    }

    /// The same, for synchronous code.
    public func whileSelected<T>(_ body: () throws -> T) rethrows -> T {
        let previous = getenv("PULSE_SERVER").map { String(cString: $0) }
        setenv("PULSE_SERVER", address, 1)
        defer {
            if let previous { setenv("PULSE_SERVER", previous, 1) } else { unsetenv("PULSE_SERVER") }
        }
        return try body()
    }

    /// Freezes the server (SIGSTOP): it stops delivering and answers nothing.
    public func hang() { child?.send(SIGSTOP) }

    /// Lets a frozen server go on (SIGCONT).
    public func resume() { child?.send(SIGCONT) }

    /// Ends the server at once (SIGKILL), as a crash would; its socket file stays.
    public func kill() {
        guard let child else { return }
        child.send(SIGKILL)
        child.wait()
        self.child = nil
    }

    /// Starts the server again on the same socket with the same sink (after `kill()`).
    public func restart() throws {
        kill()
        try start()
    }

    private func start() throws {
        let runtime = "\(directory)/run"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        // A socket file left by a killed server is replaced by the new one;
        // wait for the new one to appear.
        try? FileManager.default.removeItem(atPath: socket)
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_RUNTIME_DIR"] = runtime
        environment["HOME"] = directory
        environment["PULSE_SERVER"] = nil
        let log = FileHandle(forWritingAtPath: "\(directory)/pulse.log") ?? {
            FileManager.default.createFile(atPath: "\(directory)/pulse.log", contents: nil)
            return FileHandle(forWritingAtPath: "\(directory)/pulse.log")!
        }()
        log.seekToEndOfFile()
        let child = try ChildProcess(
            ["pulseaudio", "--system=no", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=no", "--log-target=stderr", "-L", "module-native-protocol-unix socket=\(socket) auth-anonymous=1",
             "-L", "module-null-sink sink_name=private rate=48000 channels=2", "-L", "module-always-sink"],
            environment: environment, standardError: log.fileDescriptor)
        try? log.close()
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(20_000) }
        guard FileManager.default.fileExists(atPath: socket) else {
            child.send(SIGKILL)
            child.wait()
            throw TestSoundServerFailed(socket: socket)
        }
        self.child = child
    }
}

/// A private PulseAudio server did not start.
public struct TestSoundServerFailed: Error, CustomStringConvertible {
    public let socket: String
    public var description: String { "a private PulseAudio server did not open \(socket) within 5 s" }
}
