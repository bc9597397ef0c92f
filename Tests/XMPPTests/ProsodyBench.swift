import Foundation
import Testing
import TestSupport

/// A prosody for one test, in the bench's directory (or a temporary one).
func makeProsody(_ name: String) throws -> ProsodyServer {
    let base = ProcessInfo.processInfo.environment["BENCH_DIR"] ?? NSTemporaryDirectory()
    let directory = "\(base)/prosody-\(name)-\(UUID().uuidString.prefix(8))"
    return try ProsodyServer(directory: directory)
}
