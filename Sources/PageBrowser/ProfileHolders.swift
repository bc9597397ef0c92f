import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The processes that hold a browser's profile: their command line or
/// environment names it, or their working directory or an open file is in
/// it. Chromium's crash handler (`chrome_crashpad_handler`) leaves the
/// browser's process group and session (it forks twice and calls setsid, so
/// init is its parent) yet keeps the browser's stderr, a file in the
/// profile, open: this finds it where the group does not.
public enum ProfileHolders {
    /// Every live process (this one excepted) holding a path that starts
    /// with `path`, read from /proc: its cmdline and environ, and with
    /// `openFiles` its cwd and fd links (every process's: slower).
    /// A profile's own path, or `<parent>/chromium-profile-` for every profile under `parent`.
    public static func processes(holding path: String, openFiles: Bool = true) -> [Int32] {
        guard !path.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let own = getpid()
        let needle = Data(path.utf8)
        // The kernel shows cwd and fd links with symbolic links resolved.
        let directory = (path as NSString).deletingLastPathComponent
        let resolved = realpath(directory, nil).map { pointer in
            defer { free(pointer) }
            return (String(cString: pointer) as NSString).appendingPathComponent((path as NSString).lastPathComponent)
        } ?? path
        func inside(_ link: String) -> Bool { link.hasPrefix(path) || link.hasPrefix(resolved) }
        return entries.compactMap { entry -> Int32? in
            guard let pid = pid_t(entry), pid != own, !ProcessGroup.isZombie(pid) else { return nil }
            for file in ["cmdline", "environ"] {
                if let bytes = FileManager.default.contents(atPath: "/proc/\(entry)/\(file)"), bytes.range(of: needle) != nil { return pid }
            }
            guard openFiles else { return nil }
            if let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"), inside(cwd) { return pid }
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd")) ?? []
            for descriptor in descriptors {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\(descriptor)"),
                   inside(target) { return pid }
            }
            return nil
        }
    }

    /// SIGKILLs every process holding `path` (as `processes(holding:openFiles:)`) and
    /// waits for each to exit, at most `timeout` in all (pidfd, no polling).
    /// Returns the processes ended and how many still run after `timeout`.
    @discardableResult
    public static func end(holding path: String, openFiles: Bool = true, timeout: Duration) -> (ended: [Int32], running: Int) {
        let holders = processes(holding: path, openFiles: openFiles)
        guard !holders.isEmpty else { return ([], 0) }
        let descriptors = holders.map { pid -> Int32 in
            let descriptor = clinux_pidfd_open(pid)
            kill(pid, SIGKILL)
            return descriptor
        }
        let deadline = ContinuousClock.now + timeout
        var running = 0
        for descriptor in descriptors where descriptor >= 0 {
            defer { close(descriptor) }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let left: Duration = max(.zero, deadline - ContinuousClock.now)
            var ready: Int32
            repeat { ready = poll(&entry, 1, Int32(left / .milliseconds(1))) } while ready < 0 && errno == EINTR
            if ready == 0 { running += 1 }
        }
        return (holders, running)
    }
}
