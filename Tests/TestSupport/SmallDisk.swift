import Foundation

/// A small tmpfs mounted on a fresh directory, to fill a disk for real
/// (ENOSPC from the kernel, not a simulated error). Needs root, as the test
/// bench does; mounting failing is an error naming the command, never a skip.
public final class SmallDisk {
    /// Where the tmpfs is mounted.
    public let path: String
    private var mounted = false

    /// Mounts a tmpfs of `bytes` (rounded up to pages by the kernel).
    public init(bytes: Int) throws {
        path = NSTemporaryDirectory() + "small-disk-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = try Subprocess.run(["mount", "-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", path])
        guard result.status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw Failure(description: "mount -t tmpfs -o size=\(bytes) tmpfs \(path) failed (status \(result.status): "
                                 + "\(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))); "
                                 + "the full-disk tests need root, as `scripts/test` runs them")
        }
        mounted = true
    }

    /// Bytes still free on it.
    public var freeBytes: Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Takes all but `leaving` bytes of the free space with a filler file
    /// (written, so the space is really used); returns its path.
    @discardableResult
    public func fill(leaving: Int64) throws -> String {
        let filler = "\(path)/filler-\(UUID().uuidString.prefix(8))"
        let count = max(0, freeBytes - leaving)
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        defer { try? handle.close() }
        let block = Data(count: 1 << 16)
        var written: Int64 = 0
        while written < count {
            let piece = block.prefix(Int(min(Int64(block.count), count - written)))
            try handle.write(contentsOf: piece)
            written += Int64(piece.count)
        }
        return filler
    }

    /// Unmounts and removes the directory (also done when released).
    public func unmount() {
        guard mounted else { return }
        mounted = false
        _ = try? Subprocess.run(["umount", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { unmount() }

    /// The tmpfs could not be mounted (not root?).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}
