import Foundation
import MediaCore
import RecorderEngine
import Testing
import TestSupport

/// An SRT stream in a session embedded in this process: a listener that
/// refuses the connection is a typed event a daemon can match
/// (`StreamFailure.rejected` with SRT's reason), never a bare I/O error, and
/// the passphrase reaches no log line, even at trace level.
@Suite(.serialized, .tags(.bench)) struct SRTSessionTests {
    /// The listener's passphrase, and the caller's (nil: none).
    static let cases: [(listener: String, caller: String?, reason: SRTRejectReason)] = [
        ("listener-passphrase-1", "caller-passphrase-2", .wrongPassphrase),
        ("listener-passphrase-1", nil, .passphraseMismatch),
    ]

    @Test(arguments: cases)
    func aRefusedConnectionIsATypedEventNamingSRTsReason(listenerPassphrase: String, callerPassphrase: String?,
                                                         reason: SRTRejectReason) async throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("srt-session")
        let listener = try SRTListener(directory: "\(directory)/listener", passphrase: listenerPassphrase)
        let store = CapturingLogHandler.Store()
        var configuration = try SessionFixture.configuration(bench, output: "\(directory)/kept.mp4", seconds: 3,
                                                             logger: CapturingLogHandler.logger(store))
        var stream = StreamOutput(url: listener.url, maxReconnects: 0)
        if let callerPassphrase {
            let file = "\(directory)/passphrase"
            try callerPassphrase.write(toFile: file, atomically: true, encoding: .utf8)
            stream.srtPassphraseFile = file
        }
        configuration.streams = [stream]
        // Without the opt-in the scheme is refused before anything opens.
        #expect(throws: RecordingError.self) { _ = try RecordingSession(configuration: configuration) }
        configuration.allowedStreamSchemes.insert(.srt)
        let session = try RecordingSession(configuration: configuration)
        let events = session.events
        async let recording = session.record()
        var changes: [NetworkSinkEvent] = []
        for await event in events {
            if case let .stream(change) = event {
                #expect(change.url == listener.url)
                changes.append(change.change)
            }
        }
        let result = try await recording
        #expect(changes.first == .connectionFailed(attempt: 1, failure: .rejected(reason), retryIn: nil), "\(changes)")
        #expect(changes.last == .gaveUp(attempts: 1), "\(changes)")
        guard case let .stream(report)? = result.error else {
            Issue.record("the stream's giving up is the result's error: \(String(describing: result.error))")
            return
        }
        #expect(report.url == listener.url)
        #expect(result.statistics.framesEncoded == 90, "the file went on")
        let lines = store.all.map { "\($0.message) \($0.metadata)" }
        #expect(lines.contains { $0.contains("SRT_REJ_") }, "the rejection is logged with its reason: \(lines)")
        #expect(!lines.contains { $0.contains(listenerPassphrase) || callerPassphrase.map($0.contains) ?? false },
                "a passphrase was logged")
    }
}
