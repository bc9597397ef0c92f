import Foundation
import Logging
import ServiceLifecycle

/// Starts and stops workspaces (`Workspace`), and stops them all when the
/// daemon shuts down (it is a service of the daemon's group). What it
/// started is noted in `STATE/workspaces/`, so that processes a crashed
/// daemon left are ended on the next start.
actor WorkspaceManager: Service {
    /// Where workspaces' sockets live: short (a unix socket path has 108
    /// bytes), private, made at start.
    let runtimeDirectory: String
    /// The ALSA configuration defining `recorderd_capture:ID` and
    /// `recorderd_playback:ID` (in the daemon's ALSA_CONFIG_PATH).
    let alsaConfig: String
    private let stateDirectory: String
    private let logger: Logger
    private let configuration: DaemonConfiguration
    private var workspaces: [String: Workspace] = [:]
    private var order: [String] = []

    /// Makes the runtime directory and the ALSA configuration; call before
    /// anything in the process opens an ALSA device (see `alsaConfigPath`).
    init(configuration: DaemonConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        stateDirectory = (configuration.resolvedStateDir as NSString).appendingPathComponent("workspaces")
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let base = ProcessInfo.processInfo.environment["RUNTIME_DIRECTORY"] ?? NSTemporaryDirectory()
        var template = Array(((base as NSString).appendingPathComponent("recorderd-XXXXXX")).utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw FieldError(field: "workspaces", reason: "cannot make a runtime directory in \(base)")
        }
        runtimeDirectory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        alsaConfig = (runtimeDirectory as NSString).appendingPathComponent("asound.conf")
        try Self.alsaDefinitions(runtime: runtimeDirectory).write(toFile: alsaConfig, atomically: true, encoding: .utf8)
    }

    /// Two PCMs taking the workspace id as their argument, each reaching the
    /// workspace's own PulseAudio (ALSA's `pulse` plugin, as the test bench
    /// uses it).
    private static func alsaDefinitions(runtime: String) -> String {
        func pcm(_ name: String, device: String) -> String {
            """
            pcm.\(name) {
                @args [ WS ]
                @args.WS { type string }
                type pulse
                device "\(device)"
                server { @func concat strings [ "unix:\(runtime)/" $WS "/native" ] }
            }

            """
        }
        return "# recorderd workspaces: made at start, removed at exit.\n"
            + pcm("recorderd_capture", device: "\(Workspace.sinkName).monitor")
            + pcm("recorderd_playback", device: Workspace.sinkName)
    }

    /// `ALSA_CONFIG_PATH` with the workspaces' PCMs added to what the process
    /// had (alsa-lib reads it once, at the first device opened).
    nonisolated var alsaConfigPath: String {
        let existing = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"] ?? "/usr/share/alsa/alsa.conf"
        return existing + ":" + alsaConfig
    }

    // MARK: Service

    func run() async {
        try? await gracefulShutdown()
        await stopAll()
    }

    func stopAll() async {
        for id in order.reversed() { _ = await delete(id) }
        try? FileManager.default.removeItem(atPath: runtimeDirectory)
    }

    // MARK: API

    var count: Int { workspaces.count }

    func list() -> [WorkspaceView] {
        order.compactMap { workspaces[$0]?.view(alsaConfig: alsaConfig) }
    }

    func workspace(_ id: String) -> Workspace? { workspaces[id] }

    /// Why a workspace was not made: not enabled, the limit reached, or
    /// its processes did not start.
    enum Failure: Error { case disabled, limit(Int), failed(String) }

    func create(width: Int, height: Int) async throws(Failure) -> WorkspaceView {
        guard configuration.workspacesEnabled else {
            throw .disabled
        }
        guard workspaces.count < configuration.maxWorkspaces else {
            throw .limit(configuration.maxWorkspaces)
        }
        let id = "ws-" + randomHex(8)
        let directory = (runtimeDirectory as NSString).appendingPathComponent(id)
        guard mkdir(directory, 0o700) == 0 else {
            throw .failed("cannot make \(directory)")
        }
        do {
            let (xvfb, display) = try await startXvfb(width: width, height: height, directory: directory)
            let pulse: ChildProcess
            do {
                pulse = try await startPulse(directory: directory)
            } catch {
                _ = await xvfb.stop()
                throw error
            }
            let workspace = Workspace(id: id, width: width, height: height, display: display, directory: directory,
                                      xvfb: xvfb, pulse: pulse)
            workspaces[id] = workspace
            order.append(id)
            note(workspace)
            logger.info("workspace started", metadata: ["workspace": "\(id)", "display": "\(display)",
                                                         "size": "\(width)x\(height)"])
            return workspace.view(alsaConfig: alsaConfig)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw .failed("workspace could not start: \(error)")
        }
    }

    /// Stops the workspace's processes and removes its directory; false when
    /// there is no such workspace.
    func delete(_ id: String) async -> Bool {
        guard let workspace = workspaces.removeValue(forKey: id) else { return false }
        order.removeAll { $0 == id }
        _ = await workspace.pulse.stop()
        _ = await workspace.xvfb.stop()
        try? FileManager.default.removeItem(atPath: workspace.directory)
        unlink((stateDirectory as NSString).appendingPathComponent("\(id).json"))
        logger.info("workspace stopped", metadata: ["workspace": "\(id)"])
        return true
    }

    // MARK: Processes

    private func startXvfb(width: Int, height: Int, directory: String) async throws -> (ChildProcess, String) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw FieldError(field: "workspace", reason: "pipe failed") }
        let (reader, writer) = (descriptors[0], descriptors[1])
        defer { close(reader) }
        let process: ChildProcess
        do {
            process = try ChildProcess([configuration.xvfbPath, "-displayfd", "\(writer)", "-screen", "0",
                                        "\(width)x\(height)x24", "-nolisten", "tcp", "-noreset", "+extension", "MIT-SHM"],
                                       output: (directory as NSString).appendingPathComponent("xvfb.log"), passing: writer)
        } catch {
            close(writer)
            throw error
        }
        close(writer)
        // Xvfb writes the display number once it accepts connections.
        let text = await Self.readLine(reader, timeoutMilliseconds: 15_000)
        guard let number = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            _ = await process.stop(grace: 1)
            throw FieldError(field: "workspace", reason: "Xvfb did not report a display (see \(directory)/xvfb.log)")
        }
        return (process, ":\(number)")
    }

    private func startPulse(directory: String) async throws -> ChildProcess {
        let socket = (directory as NSString).appendingPathComponent("native")
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory
        environment["XDG_RUNTIME_DIR"] = directory
        environment["PULSE_SERVER"] = nil
        let process = try ChildProcess(
            [configuration.pulseaudioPath, "--system=no", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit",
             "--use-pid-file=no", "--log-target=stderr",
             "-L", "module-native-protocol-unix socket=\(socket) auth-anonymous=1",
             "-L", "module-null-sink sink_name=\(Workspace.sinkName) rate=48000 channels=2 sink_properties=device.description=\(Workspace.sinkName)",
             "-L", "module-always-sink"],
            environment: environment, output: (directory as NSString).appendingPathComponent("pulse.log"))
        // The socket appears once the server accepts clients: a check every
        // 20 ms for at most 10 s, once per workspace.
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            var info = stat()
            if stat(socket, &info) == 0 { return process }
            if kill(process.pid, 0) != 0 { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        _ = await process.stop(grace: 1)
        throw FieldError(field: "workspace", reason: "PulseAudio did not open its socket (see \(directory)/pulse.log)")
    }

    /// Reads what is written to `descriptor` until a newline, the writer
    /// closing, or the timeout; on a thread of its own.
    private static func readLine(_ descriptor: Int32, timeoutMilliseconds: Int32) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                var buffer = [UInt8](repeating: 0, count: 64)
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                while !text.contains("\n") && poll(&poller, 1, timeoutMilliseconds) > 0 {
                    let count = read(descriptor, &buffer, buffer.count)
                    if count <= 0 { break }
                    text += String(decoding: buffer[0..<count], as: UTF8.self)
                }
                continuation.resume(returning: text)
            }
        }
    }

    // MARK: Leftovers of a crash

    private struct Note: Codable { var id: String; var pids: [Int32]; var directory: String }

    private func note(_ workspace: Workspace) {
        let note = Note(id: workspace.id, pids: [workspace.xvfb.pid, workspace.pulse.pid], directory: workspace.directory)
        let path = (stateDirectory as NSString).appendingPathComponent("\(workspace.id).json")
        if let data = try? JSONEncoder().encode(note) { FileManager.default.createFile(atPath: path, contents: data) }
    }

    /// Ends the Xvfb and PulseAudio processes a previous daemon left (those
    /// still running the same programs) and removes their directories.
    nonisolated func cleanLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        for name in names where name.hasSuffix(".json") {
            let path = (stateDirectory as NSString).appendingPathComponent(name)
            defer { unlink(path) }
            guard let data = FileManager.default.contents(atPath: path),
                  let note = try? JSONDecoder().decode(Note.self, from: data) else { continue }
            for pid in note.pids {
                let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                if command.contains("Xvfb") || command.contains("pulseaudio") {
                    kill(pid, SIGKILL)
                    logger.notice("ended a workspace process a previous run left",
                                  metadata: ["workspace": "\(note.id)", "pid": "\(pid)"])
                }
            }
            try? FileManager.default.removeItem(atPath: note.directory)
            // The old run's runtime directory, once empty (its asound.conf aside).
            let runtime = (note.directory as NSString).deletingLastPathComponent
            unlink((runtime as NSString).appendingPathComponent("asound.conf"))
            rmdir(runtime)
        }
    }
}

func randomHex(_ digits: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<digits).map { _ in String(generator.next(upperBound: UInt8(16)), radix: 16) }.joined()
}
