import Foundation

/// One reading of every process's CPU and memory, from /proc.
struct ProcessTable {
    struct Entry {
        var pid: Int32, parent: Int32, group: Int32
        var command: String
        /// User + system CPU seconds of the process's own threads.
        var cpuSeconds: Double
        /// The same plus what its reaped children spent.
        var cpuWithChildren: Double
        /// Resident and proportional set sizes, bytes (PSS from smaps_rollup, 0 when unreadable).
        var residentBytes: Int, proportionalBytes: Int
    }

    var entries: [Int32: Entry] = [:]

    /// Reads every process's stat; `memory` also reads smaps_rollup (slower).
    init(memory: Bool = false) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK))), page = Int(sysconf(Int32(_SC_PAGESIZE)))
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state, ppid, pgrp, ... utime (14), stime, cutime, cstime, ... rss (24).
            guard fields.count > 21, let parent = Int32(fields[1]), let group = Int32(fields[2]),
                  let user = Double(fields[11]), let system = Double(fields[12]),
                  let childUser = Double(fields[13]), let childSystem = Double(fields[14]),
                  let rss = Int(fields[21]) else { continue }
            var entry = Entry(pid: pid, parent: parent, group: group,
                              command: String(stat[stat.index(after: open)..<close]),
                              cpuSeconds: (user + system) / ticks,
                              cpuWithChildren: (user + system + childUser + childSystem) / ticks,
                              residentBytes: rss * page, proportionalBytes: 0)
            if memory, let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
               let line = rollup.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") }),
               let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) {
                entry.proportionalBytes = kilobytes * 1024
            }
            entries[pid] = entry
        }
    }

    /// The processes of these process groups.
    func members(ofGroups groups: Set<Int32>) -> [Entry] { entries.values.filter { groups.contains($0.group) } }

    /// The processes whose parent is `pid`.
    func children(of pid: Int32) -> [Entry] { entries.values.filter { $0.parent == pid } }
}

/// What one way of recording N meetings spent, split by part: CPU seconds
/// and memory (bytes) of the browsers, the recorders, the X servers and the
/// sound servers, summed over the meetings.
struct PartUsage {
    var browser = 0.0, recorder = 0.0, xServer = 0.0, soundServer = 0.0
    var browserRSS = 0, recorderRSS = 0, xServerRSS = 0, soundServerRSS = 0
    var browserPSS = 0, recorderPSS = 0, xServerPSS = 0, soundServerPSS = 0

    var cpu: Double { browser + recorder + xServer + soundServer }
    var rss: Int { browserRSS + recorderRSS + xServerRSS + soundServerRSS }
    var pss: Int { browserPSS + recorderPSS + xServerPSS + soundServerPSS }

    /// Which processes are which part, in one table.
    struct Parts {
        var browserGroups: Set<Int32> = [], recorders: Set<Int32> = [], xServers: Set<Int32> = [], soundServers: Set<Int32> = []

        /// The sums of one table (CPU so far, memory now).
        func usage(in table: ProcessTable) -> PartUsage {
            var usage = PartUsage()
            for entry in table.members(ofGroups: browserGroups) {
                usage.browser += entry.cpuWithChildren
                usage.browserRSS += entry.residentBytes
                usage.browserPSS += entry.proportionalBytes
            }
            for pid in recorders { if let entry = table.entries[pid] {
                usage.recorder += entry.cpuSeconds; usage.recorderRSS += entry.residentBytes; usage.recorderPSS += entry.proportionalBytes } }
            for pid in xServers { if let entry = table.entries[pid] {
                usage.xServer += entry.cpuSeconds; usage.xServerRSS += entry.residentBytes; usage.xServerPSS += entry.proportionalBytes } }
            for pid in soundServers { if let entry = table.entries[pid] {
                usage.soundServer += entry.cpuSeconds; usage.soundServerRSS += entry.residentBytes
                usage.soundServerPSS += entry.proportionalBytes } }
            return usage
        }
    }

    /// CPU spent between two readings (memory from the later one).
    static func - (later: PartUsage, earlier: PartUsage) -> PartUsage {
        var usage = later
        usage.browser -= earlier.browser
        usage.recorder -= earlier.recorder
        usage.xServer -= earlier.xServer
        usage.soundServer -= earlier.soundServer
        return usage
    }
}

extension PartUsage.Parts {
    /// A recorderd's parts: the daemon itself (every session's threads),
    /// and its descendants: the workspaces' Xvfb and PulseAudio, the
    /// browsers' process groups.
    init(daemon: Int32, in table: ProcessTable = ProcessTable()) {
        recorders = [daemon]
        var queue = [daemon]
        while let pid = queue.popLast() {
            for child in table.children(of: pid) {
                queue.append(child.pid)
                if child.command.hasPrefix("Xvfb") { xServers.insert(child.pid) }
                else if child.command.hasPrefix("pulseaudio") { soundServers.insert(child.pid) }
                else if child.group == child.pid, child.command.lowercased().contains("chrom") { browserGroups.insert(child.pid) }
            }
        }
    }
}
