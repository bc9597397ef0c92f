#if canImport(Glibc)
import Glibc
#endif
import MediaCore

extension MP4FileSink {
    /// Checks that a recording can be written at `path`, before any capture
    /// starts: its directory exists and is writable, and no file is there
    /// unless `overwrite`. Throws `InvalidSetting` naming the path; leaves
    /// nothing behind.
    ///
    /// Writability is tried, not only asked: root passes `access(2)` on every
    /// directory, yet cannot create files in /proc, /sys or on a read-only
    /// mount. The probe is a uniquely named file removed at once.
    ///
    /// With a confinement (`files`), nothing is probed by name: the file's
    /// folder must open beneath it, no link on the way
    /// (`OutputFiles.validateConfined`).
    public static func validateOutputPath(_ path: String, overwrite: Bool, files: OutputFiles = OutputFiles()) throws {
        if files.confinement != nil {
            try files.validateConfined(path, overwrite: overwrite, key: .output)
            return
        }
        func refuse(_ reason: String) -> InvalidSetting {
            InvalidSetting(.output, value: path, reason: reason)
        }
        guard !path.isEmpty else { throw refuse("no file name given") }
        guard !path.hasSuffix("/") else { throw refuse("names a directory; give a file name") }
        let directory = parentDirectory(of: path)
        var info = stat()
        guard stat(directory, &info) == 0 else {
            let number = errno
            throw refuse(number == ENOENT ? "directory \(directory) does not exist"
                                          : "directory \(directory) cannot be used (\(describe(number)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw refuse("\(directory) is not a directory") }
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT != S_IFDIR else { throw refuse("is a directory") }
            guard overwrite else { throw refuse("file already exists (overwrite it explicitly to replace it)") }
            guard access(path, W_OK) == 0 else { throw refuse("file is not writable (\(describe(errno)))") }
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw refuse("directory \(directory) is not writable (\(describe(errno)))")
        }
        let name = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? path[...]
        var template = Array("\(directory)/.\(name).probe-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw refuse("directory \(directory) is not writable (\(describe(errno)))") }
        close(descriptor)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    /// The directory `path` is in ("." for a bare file name).
    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func describe(_ number: Int32) -> String {
        String(cString: strerror(number))
    }
}
