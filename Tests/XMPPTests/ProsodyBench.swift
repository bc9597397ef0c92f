import Foundation
import Testing
import TestSupport

/// A prosody for one test, in the bench's directory (or a temporary one).
func makeProsody(_ name: String) throws -> ProsodyServer {
    var base = ProcessInfo.processInfo.environment["BENCH_DIR"] ?? NSTemporaryDirectory()
    while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
    let directory = "\(base)/prosody-\(name)-\(UUID().uuidString.prefix(8))"
    return try ProsodyServer(directory: directory)
}
