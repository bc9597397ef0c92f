import Foundation
import Testing
import TestSupport

/// The listening address, refused at start by the process itself. (The
/// token, file confinement, the stream allow-list and every bad request are
/// checked in process: RecorderDaemonTests.RequestTableTests.)
@Suite(.serialized, .tags(.bench)) struct RecorderdSecurityTests {
    @Test func listeningBeyondLoopbackNeedsAToken() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("listen")
        let result = try Subprocess.run([Daemon.binary, "--listen", "0.0.0.0:8270", "--recordings-dir", directory])
        #expect(result.status == 2)
        #expect(result.standardError.hasPrefix("recorderd: --listen"), "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing written")
        // A host name that only looks like loopback is not.
        let named = try Subprocess.run([Daemon.binary, "--listen", "127.example.com:8270", "--recordings-dir", directory])
        #expect(named.status == 2, "\(named.standardError)")
    }
}
