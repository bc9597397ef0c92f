#if canImport(Glibc)
import Glibc
#endif

/// Small reads of `/proc` files, for statistics and leak checks (never on a
/// media path).
enum ProcFile {
    /// The file's text, at most `limit` bytes; nil when it cannot be read.
    static func read(_ path: String, limit: Int = 8192) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: min(limit, 4096))
        while bytes.count < limit {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if got <= 0 { break }
            bytes += buffer.prefix(got)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The names in a directory, `.` and `..` left out.
    static func entries(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// This process's threads: (thread id, name).
    static func threads() -> [(tid: Int32, name: String)] {
        entries(of: "/proc/self/task").compactMap { entry in
            guard let tid = Int32(entry), let comm = read("/proc/self/task/\(entry)/comm", limit: 64) else { return nil }
            return (tid, String(comm.prefix { $0 != "\n" }))
        }
    }
}
