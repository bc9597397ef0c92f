import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The CPU time of one group of threads in this process (a recording
/// session's), where several groups share the process: `getrusage` would
/// give the whole process.
///
/// The group is every thread whose name ends in `:tag`. A session names its
/// own threads that way (`MediaThread`), and threads that libraries start from
/// them inherit the name (x264's frame threads, the PulseAudio plugin's main
/// loop), so their work is counted too. `total()` reads each such thread's
/// CPU time from `/proc/self/task/TID/schedstat` (nanoseconds); a thread that
/// has ended keeps the last value seen, or its exact final value when it was
/// one of ours (`threadExited`). Reading costs one directory scan: for
/// statistics (about once a second), not for hot paths.
public final class CPUAccount: Sendable {
    /// The suffix of the group's thread names, after the colon.
    public let tag: String

    private struct Seen {
        var threads: [Int32: Int64] = [:]
        /// CPU of threads whose id was reused by a later thread of the group.
        var retired: Int64 = 0
    }

    private let seen = LockedValue(Seen())

    public init(tag: String) {
        self.tag = tag
    }

    /// A thread of the group ended having used `cpuNanoseconds`.
    public func threadExited(tid: Int32, cpuNanoseconds: Int64) {
        seen.withLock { $0.threads[tid] = max($0.threads[tid] ?? 0, cpuNanoseconds) }
    }

    /// CPU time used by the group's threads so far, ended ones included.
    public func total() -> Duration {
        let suffix = ":" + tag
        var current: [(Int32, Int64)] = []
        for thread in ProcFile.threads() where thread.name.hasSuffix(suffix) {
            guard let schedstat = ProcFile.read("/proc/self/task/\(thread.tid)/schedstat", limit: 128),
                  let first = schedstat.split(separator: " ").first, let nanoseconds = Int64(first) else { continue }
            current.append((thread.tid, nanoseconds))
        }
        let nanoseconds = seen.withLock { seen in
            for (tid, value) in current {
                if let previous = seen.threads[tid], value < previous {
                    // The id belongs to a newer thread now.
                    seen.retired += previous
                }
                seen.threads[tid] = value
            }
            return seen.retired + seen.threads.values.reduce(0, +)
        }
        return .nanoseconds(nanoseconds)
    }
}
