import HostProcesses

/// Runs the user's finalize script the way Jibri calls `finalize.sh`: after the
/// file is final, with the recording's directory as the only argument.
enum FinalizeScript {
    /// Runs `path directory` and waits for it. The script shares this
    /// process's standard streams and environment, with a clean signal state
    /// whatever this thread blocks, in a process group of its own.
    static func run(_ path: String, directory: String) -> FinalizeScriptOutcome {
        // A bare name is a file here, as `posix_spawn` takes it, not a PATH search.
        let program = path.contains("/") ? path : "./" + path
        let script: ChildProcess
        do {
            script = try ChildProcess([program, directory], standardInput: .inherit, standardOutput: .inherit,
                                      standardError: .inherit)
        } catch {
            return .couldNotStart(errno: error.errno)
        }
        let ended = script.wait()
        return ended.signal.map { .killed(signal: $0) } ?? .exited(ended.status)
    }

    /// The directory holding `path` (`.` for a bare name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
