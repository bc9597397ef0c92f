import Foundation
import Testing
import TestSupport

/// The bench starts each part, tears it down, and runs beside itself without
/// clashes. Each run is a nested `scripts/testbench` running `bench-selftest`.
@Suite(.serialized, .tags(.bench)) struct TestBenchTests {
    private func runSelftest() throws -> CommandResult {
        try Subprocess.run([Repository.script("testbench"), "--", Repository.script("bench-selftest")])
    }

    /// Processes whose working directory is in `directory`: the bench starts
    /// every part there, so these are what a bench left running.
    private func survivors(of directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { entry in
            guard Int(entry) != nil,
                  let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd") else { return false }
            return cwd.hasPrefix(directory)
        }
    }

    private func benchDirectory(_ output: String) -> String? {
        output.split(separator: "\n").first { $0.hasPrefix("bench directory ") }
            .map { String($0.dropFirst("bench directory ".count)) }
    }

    @Test func startsEveryPartTwiceInARow() throws {
        _ = try TestBench.current()
        for _ in 0..<2 {
            let result = try runSelftest()
            #expect(result.status == 0, "\(result.standardError)")
            let directory = try #require(benchDirectory(result.standardOutput))
            #expect(!FileManager.default.fileExists(atPath: directory), "the bench directory was left behind")
            #expect(try survivors(of: directory).isEmpty, "the bench left processes running")
            #expect(result.standardOutput.contains("MIT-SHM present"))
            #expect(result.standardOutput.contains("read back at 44"))
            #expect(result.standardOutput.contains("recorded h264"))
        }
    }

    @Test func twoBenchesRunConcurrently() async throws {
        _ = try TestBench.current()
        async let first = Task.detached { try runSelftest() }.value
        async let second = Task.detached { try runSelftest() }.value
        let results = try await [first, second]
        for result in results {
            #expect(result.status == 0, "\(result.standardError)")
        }
        let displays = results.compactMap { $0.standardOutput.split(separator: "\n").first { $0.hasPrefix("display") } }
        #expect(Set(displays).count == 2, "both benches got the same display: \(displays)")
    }

    @Test func aPartThatCannotStartIsNamedAndNothingIsLeftRunning() throws {
        _ = try TestBench.current()
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_NGINX"] = "/nonexistent/nginx"
        let result = try Subprocess.run([Repository.script("testbench"), "--parts", "x11,audio,rtmp", "--", "true"],
                                        environment: environment)
        let message = result.standardError
        #expect(result.status == 3)
        #expect(message.contains("part 'rtmp' could not start"), "\(message)")
        #expect(message.contains("nginx"), "\(message)")
        // Whatever that bench started ran in its directory: none may be left.
        let directory = try #require(message.split(separator: "(bench directory ").last?.split(separator: ")").first,
                                     "the failure names the bench directory: \(message)")
        #expect(!FileManager.default.fileExists(atPath: String(directory)), "the bench directory was left behind")
        #expect(try survivors(of: String(directory)).isEmpty, "processes of the failed bench still run")
    }
}
