import Foundation

/// What the host offers the recordings: cores (a container's CPU quota when
/// there is one) and free disk.
enum HostResources {
    /// The cgroup v2 CPU quota (`cpu.max`: "QUOTA PERIOD", or "max"), else
    /// the online CPUs. Kubernetes sets the quota from the pod's CPU limit.
    static func cores() -> Double {
        let online = Double(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) {
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if fields.count >= 2, let quota = Double(fields[0]), let period = Double(fields[1]), period > 0 {
                return min(online, quota / period)
            }
        }
        return online
    }

    /// Bytes free for an unprivileged writer on the file system holding `path`.
    static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }

    /// Whether a file can be created in `directory` (tried, not asked: root
    /// passes access(2) on a read-only mount).
    static func writable(_ directory: String) -> Bool {
        var template = Array("\(directory)/.recorderd-probe-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { return false }
        close(descriptor)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return true
    }
}
