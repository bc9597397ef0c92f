import Foundation

/// A process the daemon starts (a finalize script, a workspace's Xvfb or
/// PulseAudio), with default signal handling and an empty signal mask
/// whatever the spawning thread had (the service group's signal handling
/// must not leak into children), and its own process group so that it can
/// be signalled without the daemon.
final class ChildProcess: Sendable {
    let pid: pid_t

    /// Starts `arguments[0]` (searched on PATH); output goes to `output`
    /// (stdout and stderr) or /dev/null; `passing` is a descriptor given to
    /// the child as the same number.
    init(_ arguments: [String], environment: [String: String]? = nil, output: String? = nil,
         passing descriptor: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let sink = output ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, sink, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let descriptor {
            // The same number twice clears close-on-exec for the child's copy
            // (POSIX.1-2024; glibc since 2.29).
            posix_spawn_file_actions_adddup2(&actions, descriptor, descriptor)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw FieldError(field: arguments[0], reason: "cannot be started: \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// Sends `signal` to the child.
    func send(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the child on a thread of its own (never a task of the
    /// cooperative pool); its exit status, or 128 + the signal.
    func wait() async -> Int32 {
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }
        }
    }

    /// Asks the child to end (SIGTERM), then kills it after `grace` seconds.
    func stop(grace: Double = 5) async -> Int32 {
        send(SIGTERM)
        return await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await Task.sleep(for: .seconds(grace))
                return nil
            }
            while let result = await group.next() {
                if let status = result {
                    group.cancelAll()
                    return status
                }
                // Grace is over: kill, and the waiting task then returns.
                self.send(SIGKILL)
            }
            return 137
        }
    }
}
