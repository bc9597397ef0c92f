import Foundation

/// A private directory for a benchmark's files (frames, recordings, logs),
/// inside the test bench's directory when there is one, removed when the
/// benchmark ends unless `CAPBENCH_KEEP` is set.
final class ScratchDirectory {
    let path: String

    init(_ name: String) throws {
        let environment = ProcessInfo.processInfo.environment
        let parent = environment["BENCH_DIR"] ?? environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(parent)/capbench-\(name).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchFailure("cannot create a scratch directory in \(parent): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    /// The path of `name` inside the directory.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        if ProcessInfo.processInfo.environment["CAPBENCH_KEEP"] == nil {
            try? FileManager.default.removeItem(atPath: path)
        } else {
            FileHandle.standardError.write(Data("capbench: kept \(path)\n".utf8))
        }
    }
}
