import Foundation
import TestSupport

/// Pages served over real HTTP for a test: `python3 -m http.server` on a free
/// loopback port, in a directory of the test's own. A missing file answers 404.
final class PageServer {
    let directory: String
    let port: Int
    private let process: ChildProcess

    init(bench: TestBench, pages: [String: String]) throws {
        directory = try bench.scratchDirectory("pages")
        for (name, text) in pages { try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8) }
        port = try freeLoopbackPort()
        process = try ChildProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1", String(port)],
                                   workingDirectory: directory)
        guard waitForListener(port: port, seconds: 15) else { throw FixtureError.failed("python3 -m http.server did not listen on port \(port)") }
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    deinit { process.stop(grace: 1) }
}
