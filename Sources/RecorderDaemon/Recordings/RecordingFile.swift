import Foundation
import RecorderEngine

/// A request's file name, confined to the recordings directory: relative,
/// no `..` or `.` component, no hidden component (the daemon keeps its
/// state in `.recorderd`), ending in `.mp4` (or what the output writes:
/// `.m4a` for sound alone, `.m3u8` for HLS), and no symbolic link on the way
/// (a link could lead out of the directory, or be swapped for one that
/// does). Directories that do not exist yet are made by `createDirectories()`
/// once everything else about the request was accepted.
///
/// These checks give a clear answer to a bad name; what keeps the file in
/// the directory is `directory`: the folders are made and the file created
/// beneath its descriptor, one component at a time, never following a link
/// (`ConfinedDirectory`), so a folder swapped for a link between the check
/// and the open fails the open instead of leading out.
struct RecordingFile: Sendable {
    /// The absolute path the recording is written to.
    let path: String
    /// `path` relative to `directory`.
    let relative: String
    /// The recordings directory (resolved), which every open goes beneath.
    let directory: ConfinedDirectory
    /// Directories between the recordings directory and the file that do
    /// not exist yet, outermost first.
    let missingDirectories: [String]
    /// The request field that named it (`file`, `hls.playlist`).
    let field: String

    /// Resolves `relative` inside `root` (an existing directory), ending in
    /// one of `extensions`. Throws a `FieldError` for `field` naming what is
    /// wrong; touches nothing.
    init(relative: String, root: String, field: String = "file", extensions: [String] = [".mp4"]) throws {
        func refuse(_ reason: String) -> FieldError { FieldError(field: field, reason: "'\(relative)': \(reason)") }
        guard !relative.isEmpty else { throw refuse("empty") }
        guard !relative.hasPrefix("/") else { throw refuse("must be relative to the recordings directory") }
        guard !relative.contains("\\") else { throw refuse("no backslashes") }
        let components = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard components.count <= 16 else { throw refuse("too deep (at most 16 components)") }
        for component in components {
            guard !component.isEmpty else { throw refuse("empty path component") }
            guard component != ".." else { throw refuse("'..' would leave the recordings directory") }
            guard !component.hasPrefix(".") else { throw refuse("no component may start with '.'") }
            guard component.utf8.count <= 255 else { throw refuse("a component is longer than 255 bytes") }
        }
        guard let suffix = extensions.first(where: { relative.hasSuffix($0) }), components.last!.count > suffix.count else {
            throw refuse("must name a " + extensions.joined(separator: " or ") + " file")
        }
        guard let realRoot = Self.realPath(root) else { throw refuse("the recordings directory cannot be resolved") }

        var current = realRoot
        var missing: [String] = []
        for component in components.dropLast() {
            current += "/" + component
            var info = stat()
            if lstat(current, &info) == 0 {
                guard missing.isEmpty else { throw refuse("cannot be created") }
                guard info.st_mode & S_IFMT != S_IFLNK else { throw refuse("'\(component)' is a symbolic link") }
                guard info.st_mode & S_IFMT == S_IFDIR else { throw refuse("'\(component)' is not a directory") }
            } else {
                missing.append(current)
            }
        }
        let path = current + "/" + components.last!
        var info = stat()
        if lstat(path, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFLNK { throw refuse("is a symbolic link") }
            throw FileExists(path: relative, field: field)
        }
        // The deepest existing directory, resolved, must still be inside.
        let existing = missing.first.map { ($0 as NSString).deletingLastPathComponent } ?? current
        guard let resolved = Self.realPath(existing), resolved == realRoot || resolved.hasPrefix(realRoot + "/") else {
            throw refuse("leads out of the recordings directory")
        }
        do {
            directory = try ConfinedDirectory(path: realRoot)
        } catch {
            throw refuse("the recordings directory cannot be opened (\(error))")
        }
        self.path = path
        self.relative = relative
        self.field = field
        missingDirectories = missing
    }

    /// A file is already there: a conflict, not a bad request.
    struct FileExists: Error { let path: String; let field: String }

    /// Makes the missing directories (mode 0750) beneath `directory`, never
    /// through a link; returns those it made (relative to it). A link or a
    /// file on the way (one swapped in since the check) is a `FieldError`;
    /// a failure of the system (EACCES, ENOSPC...) is a `ConfinementError`.
    func createDirectories() throws -> [String] {
        guard let slash = relative.lastIndex(of: "/") else { return [] }
        do {
            return try directory.createDirectories(relative: String(relative[..<slash]))
        } catch {
            switch error {
            case .symbolicLink, .notDirectory, .invalidPath, .system(_, _, ENOENT):
                throw FieldError(field: field, reason: "'\(relative)': \(error)")
            case .exists, .system:
                throw error
            }
        }
    }

    /// Removes directories this request made (innermost first), when they
    /// are still empty.
    func removeDirectories(_ made: [String]) {
        for made in made.reversed() { directory.removeDirectory(relative: made) }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
