import Foundation
import HostProcesses
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
        "# recorderd workspaces: made at start, removed at exit.\n"
            + ALSAPulsePCMs.definitions(playback: "recorderd_playback", capture: "recorderd_capture",
                                        socketDirectory: runtime, socketName: Workspace.socketName, sink: Workspace.sinkName)
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
            let xvfb = try await PrivateXServer.start(width: width, height: height, program: configuration.xvfbPath,
                                                      log: (directory as NSString).appendingPathComponent("xvfb.log"),
                                                      readyWithin: 15)
            let pulse: PrivateSoundServer
            do {
                pulse = try await PrivateSoundServer.start(
                    directory: directory, socket: (directory as NSString).appendingPathComponent(Workspace.socketName),
                    sink: Workspace.sinkName, program: configuration.pulseaudioPath,
                    log: (directory as NSString).appendingPathComponent("pulse.log"), readyWithin: 10)
            } catch {
                await xvfb.terminate()
                throw error
            }
            let display = xvfb.display
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
        await workspace.pulse.terminate()
        await workspace.xvfb.terminate()
        try? FileManager.default.removeItem(atPath: workspace.directory)
        unlink((stateDirectory as NSString).appendingPathComponent("\(id).json"))
        logger.info("workspace stopped", metadata: ["workspace": "\(id)"])
        return true
    }

    // MARK: Leftovers of a crash

    private struct Note: Codable { var id: String; var pids: [Int32]; var directory: String }

    private func note(_ workspace: Workspace) {
        let note = Note(id: workspace.id, pids: [workspace.xvfb.process.pid, workspace.pulse.process.pid], directory: workspace.directory)
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
