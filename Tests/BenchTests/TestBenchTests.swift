import Foundation
import Testing
import TestSupport

/// The bench starts each part, tears it down, and runs beside itself without
/// clashes. Each run is a nested `scripts/testbench` running `bench-selftest`.
@Suite(.serialized) struct TestBenchTests {
    private func runSelftest() throws -> CommandResult {
        try Subprocess.run([Repository.script("testbench"), "--", Repository.script("bench-selftest")])
    }

    private func xvfbCount() throws -> Int {
        let result = try Subprocess.run(["pgrep", "-c", "-x", "Xvfb"])
        return Int(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    @Test func startsEveryPartTwiceInARow() throws {
        _ = try TestBench.current()
        let before = try xvfbCount()
        for _ in 0..<2 {
            let result = try runSelftest()
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.standardOutput.contains("MIT-SHM present"))
            #expect(result.standardOutput.contains("read back at 44"))
            #expect(result.standardOutput.contains("recorded h264"))
        }
        #expect(try xvfbCount() == before, "a bench left its Xvfb running")
    }

    @Test func twoBenchesRunConcurrently() async throws {
        _ = try TestBench.current()
        async let first = Task.detached { try runSelftest() }.value
        async let second = Task.detached { try runSelftest() }.value
        let results = try await [first, second]
        for result in results {
            #expect(result.status == 0, "\(result.standardError)")
        }
        let displays = results.compactMap { $0.standardOutput.split(separator: "\n").first }
        #expect(Set(displays).count == 2, "both benches got the same display: \(displays)")
    }

    @Test func aPartThatCannotStartIsNamedAndNothingIsLeftRunning() throws {
        _ = try TestBench.current()
        let before = try xvfbCount()
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_NGINX"] = "/nonexistent/nginx"
        let result = try Subprocess.run([Repository.script("testbench"), "--parts", "x11,audio,rtmp", "--", "true"],
                                        environment: environment)
        let message = result.standardError
        #expect(result.status == 3)
        #expect(message.contains("part 'rtmp' could not start"), "\(message)")
        #expect(message.contains("nginx"), "\(message)")
        #expect(try xvfbCount() == before, "the failed bench left Xvfb running")
        let pulses = try Subprocess.run(["pgrep", "-c", "-x", "pulseaudio"])
        #expect(Int(pulses.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) == 1,
                "only the outer bench's PulseAudio should run")
    }
}
