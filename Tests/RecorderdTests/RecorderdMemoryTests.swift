import Foundation
import Testing
import TestSupport

/// The daemon's memory comes back (issue 21, item 6): requests of every kind
/// (health, metrics, lists, single recordings, 400s, 401s, 404s, 405s,
/// starts that fail and stay in the list), through
/// `Benchmarks/recorderd-memory.py` against a spawned daemon. After 8,000
/// requests its resident memory is within 6 MB of what it was after the first
/// 2,000: a leak of a kilobyte a request would pass it. (Release build,
/// 40,000 requests: +6.9 MB over the first 1,000, arenas levelling off;
/// docs/BENCHMARKS.md.)
@Suite(.serialized, .tags(.bench)) struct RecorderdMemoryTests {
    @Test func residentMemoryLevelsOffUnderRequestsOfEveryKind() throws {
        _ = try TestBench.current()
        let scratch = try TestBench.current().scratchDirectory("recorderd-memory")
        let report = "\(scratch)/memory.json"
        let result = try Subprocess.run(["python3", "\(Repository.root)/Benchmarks/recorderd-memory.py",
                                         "--binary", Daemon.binary, "--first", "2000", "--every", "2000",
                                         "--requests", "8000", "--limit-mb", "6", "--json", report])
        print(result.standardOutput)
        let data = try #require(FileManager.default.contents(atPath: report), "no report: \(result.standardError)")
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let growth = try #require(json["growthMB"] as? Double)
        let statuses = json["statuses"] as? [String: Int] ?? [:]
        #expect(result.status == 0, "RSS grew \(growth) MB from 2,000 to 8,000 requests")
        #expect(growth <= 6, "RSS grew \(growth) MB from 2,000 to 8,000 requests")
        // Every kind was answered, none failed.
        for status in ["200", "201", "400", "401", "404", "405"] {
            #expect((statuses[status] ?? 0) > 0, "no \(status) among \(statuses)")
        }
        #expect(statuses["error"] == nil && statuses["500"] == nil, "\(statuses)")
    }
}
