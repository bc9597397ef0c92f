#if canImport(Glibc)
import Glibc
#endif

/// Why a `ConfinedDirectory` refused or failed to open a path. Every case
/// names the path relative to the directory; the message is built only when
/// printed.
public enum ConfinementError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Empty, absolute, or with an empty, `.` or `..` component.
    case invalidPath(String, reason: String)
    /// `component` (a prefix of the path, or the whole of it) is a symbolic link.
    case symbolicLink(String)
    /// `component` exists and is not a directory.
    case notDirectory(String)
    /// A file is already there (`EEXIST` of an exclusive create).
    case exists(String)
    /// The system call `operation` on `path` failed with `errno`.
    case system(String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case let .invalidPath(path, reason): "'\(path)': \(reason)"
        case let .symbolicLink(path): "'\(path)' is a symbolic link"
        case let .notDirectory(path): "'\(path)' is not a directory"
        case let .exists(path): "'\(path)' already exists"
        case let .system(path, operation, number): "'\(path)': \(operation): \(String(cString: strerror(number)))"
        }
    }
}
