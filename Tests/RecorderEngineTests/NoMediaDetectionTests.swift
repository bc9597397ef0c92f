import Foundation
import RecorderEngine
import Testing
import TestSupport

/// The engine's own no-media detection, through the session API: a still
/// picture and a silent PCM on the bench, a change of picture afterwards.
@Suite(.serialized, .tags(.bench)) struct NoMediaDetectionTests {
    @Test func frozenPictureAndSilenceAreReportedAndAChangeEndsTheFreeze() async throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer(width: 320, height: 240)
        var window: TestWindow? = try TestWindow(displayName: server.display, x: 0, y: 0, width: 320, height: 240)
        defer { window = nil }
        window!.fill(0x336699, x: 0, y: 0, width: 320, height: 240)
        window!.sync()
        let directory = try bench.scratchDirectory("nomedia")
        var configuration = try SessionFixture.configuration(bench, display: server.display,
                                                             output: "\(directory)/still.mp4", seconds: nil)
        configuration.noMedia = NoMediaDetection(silenceLevel: -60, silenceDuration: .seconds(2), frozenDuration: .seconds(2))
        let session = try RecordingSession(configuration: configuration)
        let events = session.events
        async let result = session.record()
        var seen: [NoMediaEvent] = []
        var changed = false
        // Silence is judged on the audio thread, which may report a little after the
        // video thread's freeze: stop once both are seen, or at a deadline.
        let deadline = Task { [session] in
            try? await Task.sleep(for: .seconds(30))
            session.stop()
        }
        defer { deadline.cancel() }
        for await event in events {
            guard case let .noMedia(change) = event else { continue }
            seen.append(change)
            if change.kind == .frozenPicture && change.change == .began && !changed {
                #expect(session.statistics.frozenPicture >= .seconds(2))
                changed = true
                window!.fill(0xFF8800, x: 100, y: 100, width: 20, height: 20)
                window!.sync()
            }
            let kinds = Set(seen.map { "\($0.kind) \($0.change)" })
            if kinds.contains("frozenPicture ended") && kinds.contains("silence began") { session.stop() }
        }
        let final = try await result
        #expect(final.error == nil)
        let kinds = seen.map { "\($0.kind) \($0.change)" }
        #expect(kinds.contains("frozenPicture began"), "\(kinds)")
        #expect(kinds.contains("frozenPicture ended"), "\(kinds)")
        #expect(kinds.contains("silence began"), "\(kinds)")
        if let began = seen.first(where: { $0.kind == .frozenPicture && $0.change == .began }) {
            #expect(began.lasted >= .seconds(2) && began.lasted < .seconds(3), "reported at the threshold: \(began.lasted)")
        }
        if let ended = seen.first(where: { $0.kind == .frozenPicture && $0.change == .ended }) {
            // The 20x20 change is seen within the 16 frames that cover every row.
            #expect(ended.lasted >= .seconds(2), "\(ended.lasted)")
        }
    }

    @Test func badThresholdsAreRefusedBeforeAnythingOpens() throws {
        let bench = try TestBench.current()
        var configuration = try SessionFixture.configuration(bench, output: nil, seconds: 1)
        configuration.streams = []
        configuration.output = FileOutput(path: "\(try bench.scratchDirectory("nomedia"))/x.mp4")
        configuration.noMedia = NoMediaDetection(silenceLevel: 6, silenceDuration: .seconds(2))
        #expect(throws: RecordingError.self) { try RecordingSession(configuration: configuration) }
        configuration.noMedia = NoMediaDetection(frozenDuration: .milliseconds(10))
        #expect(throws: RecordingError.self) { try RecordingSession(configuration: configuration) }
    }
}
