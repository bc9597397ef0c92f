public import Foundation

/// A PulseAudio server of a test's own, with a null sink named `private`, so
/// a test can freeze, kill and restart the sound server under a running
/// capture without touching the bench's. A `PrivateSoundServer` on a
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
    private var server: PrivateSoundServer?

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
    public var pid: pid_t? { server?.process.pid }

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
    public func hang() { server?.process.send(SIGSTOP) }

    /// Lets a frozen server go on (SIGCONT).
    public func resume() { server?.process.send(SIGCONT) }

    /// Ends the server at once (SIGKILL), as a crash would; its socket file stays.
    public func kill() {
        guard let server else { return }
        server.process.send(SIGKILL)
        server.process.wait()
        self.server = nil
    }

    /// Starts the server again on the same socket with the same sink (after `kill()`).
    public func restart() throws {
        kill()
        try start()
    }

    private func start() throws {
        // A socket file left by a killed server is replaced by the new one.
        server = try PrivateSoundServer(directory: directory, socket: socket, sink: "private",
                                        log: "\(directory)/pulse.log", readyWithin: 5)
    }
}
