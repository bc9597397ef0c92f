import Foundation
import MediaCore

/// A process the benchmark starts (a peer `ffmpeg`, `record-display`, an X
/// server, a scene or tone player), whose own CPU time and peak memory come
/// from `wait4` when it ends.
///
/// Why not `getrusage(RUSAGE_CHILDREN)`: it sums every child reaped so far, so
/// with a scene and a tone player running beside the recorder it cannot tell
/// one child's cost from another's. Why not Foundation's `Process`: it passes
/// on the spawning thread's signal mask and cannot report a child's rusage.
final class BenchChild: @unchecked Sendable {
    /// How the child ended.
    struct Outcome {
        /// Exit code, or 128 + the signal that ended it.
        var status: Int32
        /// User + system CPU seconds of the child and the children it reaped.
        var cpuSeconds: Double
        /// Peak resident set size in bytes.
        var peakRSSBytes: Int
        /// Seconds from start to exit.
        var wallSeconds: Double
        /// Context switches of all the child's threads, voluntary (it
        /// blocked: a sleep, a wait for data) and involuntary (preempted),
        /// from the same `wait4` rusage (`ru_nvcsw + ru_nivcsw`): the figure
        /// `/proc/PID/task/*/status` gives per thread, summed over threads
        /// that already ended too.
        var contextSwitches: Int
    }

    let pid: pid_t
    let arguments: [String]
    private let started = DispatchTime.now().uptimeNanoseconds
    private var outcome: Outcome?

    /// Starts `arguments[0]` (searched on `PATH`) with this process's
    /// environment plus `environment` (a nil value removes a variable).
    /// Output goes to the named files (appended), or to /dev/null.
    /// `passing` dup2s each `(source, target)` descriptor pair into the child.
    init(_ arguments: [String], environment: [String: String?] = [:], standardOutput: String? = nil,
         standardError: String? = nil, passing descriptors: [(source: Int32, target: Int32)] = []) throws {
        precondition(!arguments.isEmpty)
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, standardError ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        for (source, target) in descriptors { posix_spawn_file_actions_adddup2(&actions, source, target) }

        // A clean signal state, as a shell gives: the caller may block signals.
        // Default signal handling, whatever this thread blocks.
        let attributes = ShellSpawnAttributes()

        var merged = ProcessInfo.processInfo.environment
        for (name, value) in environment { merged[name] = value }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        let status = posix_spawnp(&pid, arguments[0], &actions, attributes.pointer, argv, envp)
        guard status == 0 else {
            throw BenchFailure("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }
        self.pid = pid
    }

    /// The path of `name` in the directory this executable is in: the other
    /// products of the same build (`record-display`, `capbench` itself).
    static func siblingExecutable(_ name: String) -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Sends `signal` to the child (only while it has not been reaped).
    func send(_ signal: Int32) {
        if outcome == nil { kill(pid, signal) }
    }

    /// Waits for the child to end.
    @discardableResult
    func wait() -> Outcome {
        if let outcome { return outcome }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return record(status: status, usage: usage)
    }

    /// Waits up to `seconds`; nil when the child still runs then.
    func wait(timeout seconds: Double) -> Outcome? {
        if let outcome { return outcome }
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        repeat {
            var status: Int32 = 0
            var usage = rusage()
            if wait4(pid, &status, WNOHANG, &usage) == pid { return record(status: status, usage: usage) }
            usleep(10_000)
        } while DispatchTime.now().uptimeNanoseconds < deadline
        return nil
    }

    /// Asks the child to end (SIGTERM), then kills it if it has not ended
    /// after `grace` seconds.
    @discardableResult
    func stop(grace: Double = 3) -> Outcome {
        send(SIGTERM)
        if let outcome = wait(timeout: grace) { return outcome }
        send(SIGKILL)
        return wait()
    }

    private func record(status: Int32, usage: rusage) -> Outcome {
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let result = Outcome(status: code, cpuSeconds: cpu, peakRSSBytes: usage.ru_maxrss * 1024,
                             wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                             contextSwitches: usage.ru_nvcsw + usage.ru_nivcsw)
        outcome = result
        return result
    }

    deinit {
        // Never leave a child running or a zombie behind.
        if outcome == nil { stop(grace: 1) }
    }
}
