import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Runs the user's finalize script the way Jibri calls `finalize.sh`: after the
/// file is final, with the recording's directory as the only argument.
enum FinalizeScript {
    /// Runs `path directory`, waits, and returns its exit code (128 + signal
    /// when killed, 127 when it could not start).
    static func run(_ path: String, directory: String) -> Int32 {
        // Default signal handling, whatever this thread blocks.
        let attributes = ShellSpawnAttributes()
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(directory), nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        guard posix_spawn(&pid, path, nil, attributes.pointer, argv, environ) == 0 else { return 127 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
