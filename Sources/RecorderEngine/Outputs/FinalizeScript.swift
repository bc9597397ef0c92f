import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the user's finalize script the way Jibri calls `finalize.sh`: after the
/// file is final, with the recording's directory as the only argument.
enum FinalizeScript {
    /// Runs `path directory` and waits for it.
    static func run(_ path: String, directory: String) -> FinalizeScriptOutcome {
        // Default signal handling, whatever this thread blocks.
        let attributes = ShellSpawnAttributes()
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(directory), nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, nil, attributes.pointer, argv, environ)
        guard spawned == 0 else { return .couldNotStart(errno: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .killed(signal: status & 0x7f)
    }

    /// The directory holding `path` (`.` for a bare name).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
