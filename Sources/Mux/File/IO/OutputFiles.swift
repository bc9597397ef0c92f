#if canImport(Glibc)
import Glibc
#endif
public import MediaCore
import MediaPackets

/// How a file output opens, removes and renames its files: by name, or,
/// with a `ConfinedDirectory`, beneath it (`openat` with `O_NOFOLLOW`, one
/// component at a time), so that no file is ever opened outside it, even
/// while its folders are swapped for symbolic links. Paths stay absolute
/// everywhere else (reports, finalize script); a confined one must lie
/// under the directory's path as given.
///
/// A symbolic link met on the way fails as `ELOOP`, an existing file of an
/// exclusive create as `EEXIST` (`AVError`, as `open(2)` would).
public struct OutputFiles: Sendable {
    /// nil: paths are opened by name.
    public let confinement: ConfinedDirectory?

    public init(confinement: ConfinedDirectory? = nil) {
        self.confinement = confinement
    }

    /// `path` relative to the confinement; throws `InvalidSetting(key)` when
    /// it is not under it.
    func relativePath(_ path: String, key: SettingKey = .output) throws -> String {
        guard let confinement else { return path }
        let root = confinement.path.hasSuffix("/") ? confinement.path : confinement.path + "/"
        guard path.hasPrefix(root), path.count > root.count else {
            throw InvalidSetting(key, value: path, reason: "is not inside the confined directory \(confinement.path)")
        }
        let relative = String(path.dropFirst(root.count))
        do {
            _ = try ConfinedDirectory.components(of: relative)
        } catch {
            throw InvalidSetting(key, value: path, reason: "\(error)")
        }
        return relative
    }

    /// Creates `path` (`O_EXCL` unless `overwrite`, which truncates), opened with `access`.
    func create(_ path: String, access: Int32 = O_RDWR, overwrite: Bool) throws -> FileHandleIO {
        guard let confinement else {
            return try FileHandleIO(path: path, flags: access | O_CREAT | (overwrite ? O_TRUNC : O_EXCL))
        }
        let relative = try relativePath(path)
        do {
            return FileHandleIO(descriptor: try confinement.createFile(relative: relative, overwrite: overwrite))
        } catch {
            throw Self.avError(error)
        }
    }

    /// Opens the existing file `path` with `flags`.
    func open(_ path: String, flags: Int32) throws -> FileHandleIO {
        guard let confinement else { return try FileHandleIO(path: path, flags: flags) }
        let relative = try relativePath(path)
        do {
            return FileHandleIO(descriptor: try confinement.openExisting(relative: relative, flags: flags))
        } catch {
            throw Self.avError(error)
        }
    }

    /// Removes the file `path`, if it can.
    func remove(_ path: String) {
        guard let confinement else {
            unlink(path)
            return
        }
        guard let relative = try? relativePath(path) else { return }
        try? confinement.removeFile(relative: relative)
    }

    /// Renames `from` over `to`.
    func rename(_ from: String, to: String) throws {
        guard let confinement else {
            guard Glibc.rename(from, to) == 0 else { throw AVError.posix(errno, operation: "rename") }
            return
        }
        let source = try relativePath(from), target = try relativePath(to)
        do {
            try confinement.rename(source, to: target)
        } catch {
            throw Self.avError(error)
        }
    }

    /// Checks, touching nothing, that `path` can be created beneath the
    /// confinement: its folder is there (no link on the way) and, unless
    /// `overwrite`, no file is. Throws `InvalidSetting(key)`.
    func validateConfined(_ path: String, overwrite: Bool, key: SettingKey) throws {
        guard let confinement else { return }
        let relative = try relativePath(path, key: key)
        do {
            try confinement.inParent(of: relative) { (parent, name) throws(ConfinementError) -> Void in
                var info = stat()
                if fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
                    if info.st_mode & S_IFMT == S_IFLNK { throw .symbolicLink(relative) }
                    if info.st_mode & S_IFMT == S_IFDIR || !overwrite { throw .exists(relative) }
                }
                guard faccessat(parent, ".", W_OK | X_OK, 0) == 0 else {
                    throw .system(relative, operation: "access", errno: errno)
                }
            }
        } catch {
            throw InvalidSetting(key, value: path, reason: "\(error)")
        }
    }

    private static func avError(_ error: ConfinementError) -> AVError {
        switch error {
        case .symbolicLink: AVError.posix(ELOOP, operation: "openat (a symbolic link on the way)")
        case .notDirectory: AVError.posix(ENOTDIR, operation: "openat")
        case .exists: AVError.posix(EEXIST, operation: "openat")
        case .invalidPath: AVError.posix(EINVAL, operation: "openat (path leaves the directory)")
        case let .system(_, _, number): AVError.posix(number, operation: "openat")
        }
    }
}
