#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    /// Where a child's standard input comes from.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// This process's standard input.
        case inherit
        /// A descriptor of this process (a pipe's read end, say), dup2'ed to 0.
        case descriptor(Int32)
    }

    /// Where a child's standard output or error goes.
    public enum Output: Sendable {
        /// `/dev/null`.
        case null
        /// This process's own descriptor of the same number.
        case inherit
        /// A file, created (mode 0644) or appended to.
        case file(String)
        /// A descriptor of this process (a pipe's write end, a file handle), dup2'ed.
        case descriptor(Int32)
        /// Standard error only: wherever standard output goes.
        case standardOutput
    }

    /// `posix_spawnp` failed: the program is missing or cannot be executed.
    public struct SpawnFailure: Error, CustomStringConvertible {
        /// The program, as given (`arguments[0]`).
        public let program: String
        /// `posix_spawnp`'s error number (ENOENT, EACCES...).
        public let errno: Int32
        public var description: String { "cannot start \(program): \(String(cString: strerror(errno)))" }
    }
}
