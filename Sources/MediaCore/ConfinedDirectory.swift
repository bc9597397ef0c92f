#if canImport(Glibc)
import Glibc
#endif

/// A directory that files are created and opened beneath, never outside,
/// even while someone swaps its folders for symbolic links: every path is
/// walked from the directory's descriptor one component at a time with
/// `O_NOFOLLOW` (`openat`, `mkdirat`), so no component is ever followed as a
/// link, whatever happens between two calls. Paths are relative, without
/// `..`; a symbolic link anywhere on the way is refused
/// (`ConfinementError.symbolicLink`).
///
/// Owns the directory's descriptor (closed in `deinit`). Descriptors it
/// returns belong to the caller. Thread-safe: it only reads its descriptor.
public final class ConfinedDirectory: @unchecked Sendable, Equatable, CustomStringConvertible {
    /// The directory as given (for messages and reports).
    public let path: String
    /// `O_DIRECTORY` descriptor of the directory.
    public let descriptor: Int32

    /// Opens the directory at `path` (which may itself be reached through
    /// links: the operator chose it). Throws `ConfinementError.system`.
    public init(path: String) throws(ConfinementError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(path, operation: "open", errno: errno) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    public static func == (lhs: ConfinedDirectory, rhs: ConfinedDirectory) -> Bool { lhs === rhs }

    public var description: String { path }

    /// `relative` under `path`, for messages and reports.
    public func absolute(_ relative: String) -> String {
        path.hasSuffix("/") ? path + relative : path + "/" + relative
    }

    /// The components of `relative`: refuses an empty or absolute path and
    /// empty, `.` or `..` components.
    public static func components(of relative: String) throws(ConfinementError) -> [String] {
        guard !relative.isEmpty else { throw .invalidPath(relative, reason: "empty") }
        guard !relative.hasPrefix("/") else { throw .invalidPath(relative, reason: "absolute; must be relative") }
        let components = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for component in components {
            guard !component.isEmpty, component != "." else {
                throw .invalidPath(relative, reason: "empty or '.' component")
            }
            guard component != ".." else { throw .invalidPath(relative, reason: "'..' would leave the directory") }
        }
        return components
    }

    /// Creates the file `relative` (mode `mode`, `O_EXCL` unless `overwrite`,
    /// which truncates a regular file there), opened `O_RDWR`. Its folders
    /// must exist. Returns the descriptor (the caller closes it).
    public func createFile(relative: String, mode: UInt32 = 0o644, overwrite: Bool = false) throws(ConfinementError) -> Int32 {
        try openBeneath(relative, flags: O_RDWR | O_CREAT | (overwrite ? O_TRUNC : O_EXCL), mode: mode)
    }

    /// Opens the existing file `relative` with `flags` (`O_RDONLY`, `O_RDWR`...);
    /// a symbolic link as the file or on the way is refused.
    public func openExisting(relative: String, flags: Int32) throws(ConfinementError) -> Int32 {
        try openBeneath(relative, flags: flags & ~O_CREAT, mode: 0)
    }

    /// Opens the directory `relative` (`O_DIRECTORY`, for `*at` calls); the
    /// caller closes the descriptor.
    public func openDirectory(relative: String) throws(ConfinementError) -> Int32 {
        try openBeneath(relative, flags: O_RDONLY | O_DIRECTORY, mode: 0)
    }

    /// Makes the folders of `relative` that do not exist (mode `mode`), every
    /// component a folder. Returns those it made, outermost first, relative.
    @discardableResult
    public func createDirectories(relative: String, mode: UInt32 = 0o750) throws(ConfinementError) -> [String] {
        let components = try Self.components(of: relative)
        var made: [String] = []
        var current = dup(descriptor)
        guard current >= 0 else { throw .system(relative, operation: "dup", errno: errno) }
        defer { close(current) }
        var walked = ""
        for component in components {
            walked = walked.isEmpty ? component : walked + "/" + component
            if mkdirat(current, component, mode) == 0 {
                made.append(walked)
            } else if errno != EEXIST {
                throw .system(walked, operation: "mkdirat", errno: errno)
            }
            let next = try step(current, component, walked)
            close(current)
            current = next
        }
        return made
    }

    /// Removes the file `relative` (not a folder), through its folder's descriptor.
    public func removeFile(relative: String) throws(ConfinementError) {
        try inParent(of: relative) { (parent, name) throws(ConfinementError) -> Void in
            guard unlinkat(parent, name, 0) == 0 else { throw .system(relative, operation: "unlinkat", errno: errno) }
        }
    }

    /// Removes the empty folder `relative`; false when it is not empty or gone.
    @discardableResult
    public func removeDirectory(relative: String) -> Bool {
        do {
            try inParent(of: relative) { (parent, name) throws(ConfinementError) -> Void in
                guard unlinkat(parent, name, AT_REMOVEDIR) == 0 else { throw .system(relative, operation: "rmdir", errno: errno) }
            }
            return true
        } catch {
            return false
        }
    }

    /// Renames `from` over `to`, both relative, through their folders' descriptors.
    public func rename(_ from: String, to: String) throws(ConfinementError) {
        try inParent(of: from) { (source, sourceName) throws(ConfinementError) -> Void in
            try inParent(of: to) { (target, targetName) throws(ConfinementError) -> Void in
                guard renameat(source, sourceName, target, targetName) == 0 else {
                    throw .system(from, operation: "renameat", errno: errno)
                }
            }
        }
    }

    /// Runs `body` with a descriptor of the folder holding `relative` and the
    /// last component's name.
    public func inParent<T>(of relative: String,
                            _ body: (Int32, String) throws(ConfinementError) -> T) throws(ConfinementError) -> T {
        let components = try Self.components(of: relative)
        let parent = try walk(components.dropLast(), relative: relative)
        defer { close(parent) }
        return try body(parent, components.last!)
    }

    // MARK: - The walk

    private func openBeneath(_ relative: String, flags: Int32, mode: mode_t) throws(ConfinementError) -> Int32 {
        try inParent(of: relative) { (parent, name) throws(ConfinementError) -> Int32 in
            let file = openat(parent, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
            guard file >= 0 else { throw classify(errno, parent: parent, name: name, path: relative, operation: "openat") }
            return file
        }
    }

    /// A descriptor of the folder `components` lead to (the directory itself
    /// when empty), each step with `O_NOFOLLOW`.
    private func walk(_ components: ArraySlice<String>, relative: String) throws(ConfinementError) -> Int32 {
        var current = dup(descriptor)
        guard current >= 0 else { throw .system(relative, operation: "dup", errno: errno) }
        var walked = ""
        for component in components {
            walked = walked.isEmpty ? component : walked + "/" + component
            let next: Int32
            do {
                next = try step(current, component, walked)
            } catch {
                close(current)
                throw error
            }
            close(current)
            current = next
        }
        return current
    }

    /// Opens the folder `component` of `parent`, never following a link.
    private func step(_ parent: Int32, _ component: String, _ walked: String) throws(ConfinementError) -> Int32 {
        let next = openat(parent, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard next >= 0 else { throw classify(errno, parent: parent, name: component, path: walked, operation: "openat") }
        return next
    }

    /// `ELOOP` (and `ENOTDIR` unless a non-folder is there) mean a symbolic link.
    private func classify(_ number: Int32, parent: Int32, name: String, path: String, operation: String) -> ConfinementError {
        switch number {
        case ELOOP: return .symbolicLink(path)
        case EEXIST: return .exists(path)
        case ENOTDIR:
            // A file there now is one; anything else (a link, nothing, a
            // folder back in its place) means a link was there at the open.
            var info = stat()
            if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0,
               info.st_mode & S_IFMT != S_IFLNK, info.st_mode & S_IFMT != S_IFDIR {
                return .notDirectory(path)
            }
            return .symbolicLink(path)
        default: return .system(path, operation: operation, errno: number)
        }
    }
}
