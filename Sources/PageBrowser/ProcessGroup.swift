import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The members of a process group, read from /proc.
enum ProcessGroup {
    struct Member {
        var pid: pid_t
        var cpuSeconds: Double
        var residentBytes: Int
    }

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private static let pageSize = sysconf(Int32(_SC_PAGESIZE))

    /// Every live process whose group is `group` (zombies included: they still hold the group).
    static func members(of group: pid_t) -> [Member] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> Member? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After the command's closing parenthesis: state (field 3) on, proc(5).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 21, pid_t(fields[2]) == group else { return nil }
            let ticks = [11, 12, 13, 14].compactMap { Double(fields[$0]) }.reduce(0, +)  // utime stime cutime cstime
            return Member(pid: pid, cpuSeconds: ticks / ticksPerSecond, residentBytes: (Int(fields[21]) ?? 0) * pageSize)
        }
    }

    static func usage(of group: pid_t) -> BrowserUsage {
        let members = members(of: group)
        return BrowserUsage(cpuSeconds: members.map(\.cpuSeconds).reduce(0, +),
                            residentBytes: members.map(\.residentBytes).reduce(0, +), processes: members.count)
    }
}

extension ProcessGroup {
    /// Waits until every member of `group` has exited (zombies, which only
    /// wait for init to reap them, count as exited), at most `timeout`:
    /// blocked in `poll` on each member's pidfd, no polling of /proc.
    /// Returns how many members still run.
    static func waitUntilExited(_ group: pid_t, timeout: Duration) -> Int {
        let deadline = ContinuousClock.now + timeout
        var running = 0
        for member in members(of: group) where !isZombie(member.pid) {
            let descriptor = clinux_pidfd_open(member.pid)
            guard descriptor >= 0 else { continue }  // already gone
            defer { close(descriptor) }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left: Duration = max(.zero, deadline - ContinuousClock.now)
            let milliseconds = Int32(left / .milliseconds(1))
            var ready: Int32
            repeat { ready = poll(&entry, 1, milliseconds) } while ready < 0 && errno == EINTR
            if ready == 0 { running += 1 }
        }
        return running
    }

    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].dropFirst().first == "Z"
    }
}
