/// How a child process ended, with what it cost: from `wait4` when it was reaped.
///
/// The CPU and memory figures are the child's own plus those of the
/// children it reaped (`wait4`'s rusage), not the whole process group's.
public struct Termination: Sendable, Equatable {
    /// The exit code, when the child exited.
    public var exitCode: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    /// User CPU seconds (`ru_utime`).
    public var userSeconds: Double
    /// System CPU seconds (`ru_stime`).
    public var systemSeconds: Double
    /// Peak resident set size in bytes (`ru_maxrss`, which Linux gives in KiB).
    public var peakRSSBytes: Int
    /// Context switches of all the child's threads, voluntary and
    /// involuntary (`ru_nvcsw + ru_nivcsw`), threads that ended included.
    public var contextSwitches: Int
    /// Seconds from the spawn to the reaping.
    public var wallSeconds: Double

    /// The exit code, or 128 + the signal that ended the child, as a shell
    /// reports it; -1 when the status was lost (someone else reaped the child).
    public var status: Int32 {
        if let exitCode { return exitCode }
        if let signal { return 128 + signal }
        return -1
    }

    /// User + system CPU seconds.
    public var cpuSeconds: Double { userSeconds + systemSeconds }
}
