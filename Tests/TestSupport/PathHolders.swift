import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The live processes (zombies and this process left out) whose command
/// line or environment names a path starting with `path`, or whose working
/// directory or an open file is under it, read from /proc; with their
/// command lines. Finds what left a process group (Chromium's crash
/// handler) as well as what stayed in it.
public func processesHolding(_ path: String) -> [(pid: Int32, command: String)] {
    let needle = Data(path.utf8)
    let own = getpid()
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
        guard let pid = pid_t(entry), pid != own,
              let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].dropFirst().first != "Z" else { return nil }
        let commandLine = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") ?? Data()
        let command = String(decoding: commandLine, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
        let environment = FileManager.default.contents(atPath: "/proc/\(entry)/environ") ?? Data()
        let links = [(try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd")) ?? ""]
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(entry)/fd")) ?? []).map {
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/fd/\($0)")) ?? ""
            }
        let holds = commandLine.range(of: needle) != nil || environment.range(of: needle) != nil || links.contains { $0.hasPrefix(path) }
        return holds ? (pid, command) : nil
    }
}
