import Foundation
import Testing
import TestSupport

/// The daemon's idle cost with its XMPP connections (docs/BENCHMARKS.md,
/// "recorderd idle behind Jicofo"): recorderd as a process with 0
/// environments, 1 x 3 slots and 2 x 4 slots behind the bench's prosody,
/// every slot joined, then CPU seconds (utime + stime of /proc/PID/stat)
/// over `JIBRI_IDLE_SECONDS` of idling and the resident set (VmRSS) at the
/// end. A measurement, not a check: run only when `JIBRI_IDLE_SECONDS` is
/// set, with `RECORDERD_BINARY` the release build's.
@Suite(.tags(.bench), .serialized)
struct JibriIdleCost {
    /// (utime + stime) in seconds, VmRSS in bytes, threads.
    static func usage(_ pid: Int32) throws -> (cpu: Double, rss: Int, threads: Int) {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func kib(_ key: String) -> Int {
            status.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { Int($0.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") } ?? 0
        }
        return (cpu, kib("VmRSS:") * 1024, kib("Threads:"))
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["JIBRI_IDLE_SECONDS"] != nil))
    func idleCostWithZeroOneByThreeAndTwoByFourSlots() async throws {
        let seconds = Double(ProcessInfo.processInfo.environment["JIBRI_IDLE_SECONDS"] ?? "") ?? 60
        let server = try makeProsody("idle")
        let cases: [(label: String, environments: [RecorderdProcess.Environment], slots: Int)] = [
            ("0 environments", [], 1),
            ("1 environment x 3 slots", [.init(name: "one")], 3),
            ("2 environments x 4 slots", [.init(name: "a"), .init(name: "b")], 4),
        ]
        print("recorderd: \(RecorderdProcess.binary)")
        for (number, entry) in cases.enumerated() {
            let daemon = try RecorderdProcess(server, name: "idle-\(number)", environments: entry.environments, slots: entry.slots)
            let expected = entry.environments.count * entry.slots
            var joined = 0
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                joined = try daemon.xmppHealth().values.flatMap { $0["slots"] as? [[String: Any]] ?? [] }
                    .filter { $0["joined"] as? Bool == true }.count
                if joined == expected { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(joined == expected)
            // The joins' and first ticks' work out of the window.
            try await Task.sleep(for: .seconds(5))
            let pid = daemon.process.pid
            let before = try Self.usage(pid)
            let started = ContinuousClock.now
            try await Task.sleep(for: .seconds(seconds))
            let after = try Self.usage(pid)
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
                .joined(separator: " ") ?? "?"
            let figures = String(format: "%.4f CPU-s/s (%.2f s over %.0f s), RSS %.1f MiB, %ld threads",
                                 (after.cpu - before.cpu) / elapsed, after.cpu - before.cpu, elapsed,
                                 Double(after.rss) / 1_048_576, after.threads)
            print("jibri idle: \(entry.label): \(figures), load \(load)")
            daemon.process.send(SIGTERM, groupWide: false)
            #expect(daemon.process.wait().status == 0)
        }
    }
}
