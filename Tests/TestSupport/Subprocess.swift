public import Foundation
import MediaCore

/// What a finished command printed and how it ended.
public struct CommandResult: Sendable {
    /// Exit code, or 128 + the signal that ended it.
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
}

/// A child process started with a clean signal state.
///
/// Foundation's `Process` passes on the spawning thread's signal mask, and the
/// test runner's threads block SIGTERM and SIGINT: a child started that way
/// cannot be stopped by those signals. This spawns with an empty mask and
/// default dispositions instead, as a shell would.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var exitStatus: Int32?
    /// Whether the child leads its own process group (`send` signals the group).
    private let processGroup: Bool

    /// Starts `arguments[0]` (searched on PATH). Output goes to the given file
    /// descriptors, or to /dev/null when nil.
    /// `inherit`: further descriptors the child gets, each `source` under
    /// number `target` (for a pipe protocol on fds 3 and 4, say).
    /// `processGroup`: the child leads a process group of its own and `send`
    /// signals the whole group, so stopping a shell pipeline stops every
    /// process in it (a killed `bash -c "a | b"` leaves `a` and `b` running).
    public init(_ arguments: [String], environment: [String: String]? = nil,
                standardOutput: Int32? = nil, standardError: Int32? = nil, standardInput: Int32? = nil,
                inherit: [(source: Int32, target: Int32)] = [], processGroup: Bool = false) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput { posix_spawn_file_actions_adddup2(&actions, standardInput, 0) }
        else { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        if let standardOutput { posix_spawn_file_actions_adddup2(&actions, standardOutput, 1) }
        else { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        if let standardError { posix_spawn_file_actions_adddup2(&actions, standardError, 2) }
        else { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        for descriptor in inherit { posix_spawn_file_actions_adddup2(&actions, descriptor.source, descriptor.target) }

        // Default signal handling, whatever this thread blocks.
        let attributes = ShellSpawnAttributes(newProcessGroup: processGroup)

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        let status = posix_spawnp(&pid, arguments[0], &actions, attributes.pointer, argv, envp)
        guard status == 0 else {
            throw NSError(domain: NSPOSIXErrorDomain, code: Int(status),
                          userInfo: [NSLocalizedDescriptionKey: "cannot start \(arguments[0]): \(String(cString: strerror(status)))"])
        }
        self.pid = pid
        self.processGroup = processGroup
    }

    /// Sends `signal` to the child (to its whole group when it leads one).
    public func send(_ signal: Int32) { kill(processGroup ? -pid : pid, signal) }

    /// A sine tone played into an ALSA PCM for `seconds` (`sox | aplay`, S16
    /// stereo, half of full scale) in a process group of its own: `send`
    /// stops the player too, so no sound outlives its test into the next.
    public static func tone(pcm: String, seconds: Double, frequency: Int = 440, sampleRate: Int = 48000,
                            environment: [String: String]? = nil) throws -> ChildProcess {
        try ChildProcess(["bash", "-c", "sox -n -r \(sampleRate) -c 2 -b 16 -e signed -t raw - synth \(seconds) "
                          + "sine \(frequency) vol 0.5 | aplay -q -D '\(pcm)' -t raw -f S16_LE -r \(sampleRate) -c 2"],
                         environment: environment, processGroup: true)
    }

    /// Waits for the child to end; its exit code, or 128 + the signal that ended it.
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        exitStatus = code
        return code
    }

    /// Waits up to `seconds`; nil when the child is still running then.
    public func wait(timeout seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                return code
            }
            usleep(20_000)
        }
        return nil
    }
}

/// Runs tools the tests check results with (ffprobe, aplay, sox, the bench).
public enum Subprocess {
    /// Runs `arguments[0]` (searched on PATH) to completion and captures its output.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
        let out = Pipe(), err = Pipe()
        let child = try ChildProcess(arguments, environment: environment,
                                     standardOutput: out.fileHandleForWriting.fileDescriptor,
                                     standardError: err.fileHandleForWriting.fileDescriptor)
        try out.fileHandleForWriting.close()
        try err.fileHandleForWriting.close()
        // Read both pipes while the child runs, so a chatty child never blocks.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let status = child.wait()
        return CommandResult(status: status,
                             standardOutput: String(decoding: outData, as: UTF8.self),
                             standardError: String(decoding: errData, as: UTF8.self))
    }
}
