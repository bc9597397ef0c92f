#if canImport(Glibc)
import Glibc
#endif

/// What this process holds at one moment, read from `/proc`: for leak checks
/// across many sessions (the lifecycle benchmark and tests) and nothing on a
/// media path.
public struct ProcessResources: Sendable, Equatable, CustomStringConvertible {
    /// Resident memory, bytes (`VmRSS`).
    public var residentBytes: Int
    /// Open file descriptors.
    public var fileDescriptors: Int
    /// Threads.
    public var threads: Int
    /// System V shared-memory segments this process created that still exist
    /// (`/proc/sysvipc/shm`, by creator pid): MIT-SHM frame buffers.
    public var sharedMemorySegments: Int
    /// Threads whose name says they belong to a recording session
    /// (`role:tag`, see `MediaThread`), and those libraries started from them.
    public var sessionThreads: Int

    /// Reads them now.
    public static func current() -> ProcessResources {
        // Listing /proc/self/fd opens one descriptor of its own.
        ProcessResources(residentBytes: residentBytes(), fileDescriptors: ProcFile.entries(of: "/proc/self/fd").count - 1,
                         threads: ProcFile.entries(of: "/proc/self/task").count,
                         sharedMemorySegments: sharedMemorySegments(), sessionThreads: sessionThreadCount())
    }

    public var description: String {
        "RSS \(residentBytes / 1_000_000) MB, \(fileDescriptors) fds, \(threads) threads "
            + "(\(sessionThreads) of sessions), \(sharedMemorySegments) SysV shm segments"
    }

    /// Roles `MediaThread`s of a session take (the names before the colon).
    public static let sessionRoles: Set<String> = ["ctl", "grab", "pcm", "venc", "aenc", "mux", "rtmp", "srt"]

    private static func residentBytes() -> Int {
        guard let status = ProcFile.read("/proc/self/status") else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    private static func sharedMemorySegments() -> Int {
        guard let table = ProcFile.read("/proc/sysvipc/shm", limit: 1 << 20) else { return 0 }
        let pid = getpid()
        // Columns: key shmid perms size cpid lpid nattch ...
        return table.split(separator: "\n").dropFirst().filter { line in
            let columns = line.split(separator: " ")
            return columns.count > 4 && Int32(columns[4]) == pid
        }.count
    }

    private static func sessionThreadCount() -> Int {
        ProcFile.threads().filter { thread in
            guard let colon = thread.name.firstIndex(of: ":") else { return false }
            return sessionRoles.contains(String(thread.name[..<colon]))
        }.count
    }
}
