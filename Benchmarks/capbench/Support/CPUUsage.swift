import Foundation

/// CPU time readings: this process, reaped children, and any process by PID.
enum CPUUsage {
    /// User + system CPU seconds of this process so far.
    static func ownSeconds() -> Double { seconds(RUSAGE_SELF.rawValue) }

    /// User + system CPU seconds of every child this process has waited for.
    static func childrenSeconds() -> Double { seconds(RUSAGE_CHILDREN.rawValue) }

    private static func seconds(_ who: __rusage_who_t) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// User + system CPU seconds of process `pid` (from /proc), or nil.
    static func processSeconds(_ pid: Int32?) -> Double? {
        guard let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The X server's PID: `--server-pid`, else the bench's `BENCH_XVFB_PID`.
    static func serverPID(_ option: Int32?) -> Int32? {
        option ?? ProcessInfo.processInfo.environment["BENCH_XVFB_PID"].flatMap { Int32($0) }
    }
}
