#if canImport(Glibc)
import Glibc
#endif

/// Runs the user's finalize script the way Jibri calls `finalize.sh`: after the
/// file is final, with the recording's directory as the only argument.
enum FinalizeScript {
    /// Runs `path directory`, waits, and returns its exit code (128 + signal
    /// when killed, 127 when it could not start).
    static func run(_ path: String, directory: String) -> Int32 {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The recorder blocks SIGINT/SIGTERM on some threads; the script should
        // start with default signal handling whatever thread runs this.
        var empty = sigset_t(), all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(directory), nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        guard posix_spawn(&pid, path, nil, &attributes, argv, environ) == 0 else { return 127 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}
