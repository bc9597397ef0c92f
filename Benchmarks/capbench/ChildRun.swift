import Foundation

/// A child process whose own CPU time and peak memory are read when it is
/// reaped (`wait4`), so each run's cost is its own, not a total over children.
struct ChildRun {
    var status: Int32
    var cpuSeconds: Double
    var peakRSSBytes: Int
    var wallSeconds: Double
    var standardError: String

    /// Runs `arguments` to completion (stdout discarded, stderr captured).
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> ChildRun {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let errPath = NSTemporaryDirectory() + "capbench-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { unlink(errPath) }
        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        let start = Date()
        guard posix_spawnp(&pid, arguments[0], &actions, nil, argv, envp) == 0 else {
            throw CapbenchError("cannot start \(arguments[0])")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return ChildRun(status: code, cpuSeconds: cpu, peakRSSBytes: usage.ru_maxrss * 1024,
                        wallSeconds: Date().timeIntervalSince(start), standardError: errors)
    }
}

/// A benchmark that could not run; printed as one line.
struct CapbenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
