import Foundation
import CLinux
#if canImport(Glibc)
public import Glibc
#endif

/// A process this one starts, and its only owner.
///
/// Spawned with a clean signal state (every signal at its default
/// disposition, none blocked: test runners, a service group's signal
/// handling and Dispatch block SIGINT and SIGTERM on their threads, and a
/// child would inherit that) and as the leader of its own process group, so
/// that `stop` ends everything it started (a shell's pipeline, a script's
/// background jobs). A thread of its own waits for it (`waitid`, then
/// `wait4` for its rusage): waits block, none polls. In the child every
/// descriptor from 3 on is closed, but for those `passing` gives it (from
/// the number after the highest of them on).
///
/// Dropping the owner while the child runs kills its group (SIGKILL); the
/// child is still reaped. Foundation's `Process` is not used: it passes on
/// the spawning thread's signal mask and cannot report a child's rusage.
public final class ChildProcess: Sendable {
    /// The child's process id, which is also its process group's.
    public let pid: Glibc.pid_t
    /// What it runs, `arguments[0]` first.
    public let arguments: [String]
    let reaper: Reaper

    /// Starts `arguments[0]` (searched on `PATH`).
    ///
    /// - `environment`: the child's whole environment; nil gives it this
    ///   process's (see `environment(updating:)`).
    /// - `workingDirectory`: where it starts; nil keeps this process's.
    /// - `passing`: descriptors of this process given to the child, each
    ///   `source` under number `target` (Xvfb's `-displayfd`, a pipe protocol).
    /// - `niceness`: added to this thread's nice value for the child (at most
    ///   19, as nice(1)) before it execs, so that every process it forks has
    ///   it too; 0 or less keeps this thread's.
    /// - Throws: `SpawnFailure` when the program cannot be started.
    public init(_ arguments: [String], environment: [String: String]? = nil, workingDirectory: String? = nil,
                standardInput: Input = .null, standardOutput: Output = .null, standardError: Output = .null,
                passing: [(source: Int32, target: Int32)] = [], niceness: Int32 = 0) throws(SpawnFailure) {
        precondition(!arguments.isEmpty, "a child process needs a program")
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        switch standardInput {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit: break
        case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, 0)
        }
        for (output, target) in [(standardOutput, Int32(1)), (standardError, Int32(2))] {
            switch output {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .inherit: break
            case .file(let path): posix_spawn_file_actions_addopen(&actions, target, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            // The same number twice clears close-on-exec for the child's copy
            // (POSIX.1-2024; glibc since 2.29).
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, target)
            case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, target)
            }
        }
        for descriptor in passing { posix_spawn_file_actions_adddup2(&actions, descriptor.source, descriptor.target) }
        // Nothing else leaks in: a pipe's write end held by an unrelated child
        // would keep its reader from ever seeing the end (glibc 2.34+).
        clinux_spawn_addclosefrom(&actions, max(3, (passing.map(\.target).max() ?? 2) + 1))
        if let workingDirectory { clinux_spawn_addchdir(&actions, workingDirectory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        let started = ContinuousClock.now
        let status = niceness > 0
            ? NicedThread.run(niceness: niceness) { posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp) }
            : posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard status == 0 else { throw SpawnFailure(program: arguments[0], errno: status) }
        self.pid = pid
        reaper = Reaper(pid: pid, started: started)
        reaper.start()
    }

    /// This process's environment with `changes` applied (a nil value
    /// removes a variable), for `init(environment:)`.
    public static func environment(updating changes: [String: String?]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in changes { environment[name] = value }
        return environment
    }

    /// The path of `name` beside this executable: another product of the
    /// same build (`record-display` for `capbench`, say).
    public static func siblingExecutable(_ name: String) -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Sends `signal` to the child's whole process group (members may
    /// outlive the child), or with `groupWide: false` to the child alone,
    /// and only while it has not exited.
    public func send(_ signal: Int32, groupWide: Bool = true) { reaper.send(signal, group: groupWide) }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { reaper.running }

    /// How the child ended, once it has been reaped; nil while it runs.
    public var termination: Termination? { reaper.result }

    deinit {
        if reaper.running { reaper.send(SIGKILL, group: true) }
    }
}
