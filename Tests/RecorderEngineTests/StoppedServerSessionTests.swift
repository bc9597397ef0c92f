import Foundation
import RecorderEngine
import ServiceLifecycle
import Testing
import TestSupport

/// Issue 20, item 3, in the engine: a session on an X server that stops
/// answering (Xvfb under SIGSTOP) fails to start with a typed error naming
/// the display within the answer timeout, and a stop finishes the file
/// within a few seconds whatever the server does.
@Suite(.serialized, .tags(.bench)) struct StoppedServerSessionTests {
    @Test func aStartOnAStoppedServerFailsWithNotAnsweringWithinTheTimeout() async throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer()
        let directory = try bench.scratchDirectory("stopped-session-start")
        var configuration = try SessionFixture.configuration(bench, display: server.display,
                                                             output: "\(directory)/never.mp4", seconds: 2, audio: false)
        configuration.capture.answerTimeout = .seconds(2)
        server.process.send(SIGSTOP)
        defer { server.process.send(SIGCONT) }
        let started = ContinuousClock.now
        var failure: RecordingError?
        do {
            let session = try RecordingSession(configuration: configuration)
            _ = try await session.record()
        } catch {
            failure = error
        }
        let message = failure.map { "\($0)" } ?? "a session on a stopped server started"
        var notAnswering = false
        if case let .display(x) = failure { notAnswering = x.isNotAnswering && x.display == server.display }
        #expect(notAnswering, "\(message)")
        #expect(message.contains("display '\(server.display)' does not answer"), "\(message)")
        let took = ContinuousClock.now - started
        print("stopped server, session start: failed after \(took)")
        #expect(took < .seconds(4), "failed after \(took)")
    }

    @Test func aStopWhileTheServerIsStoppedFinishesTheFileWithinAFewSeconds() async throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer()
        let output = "\(try bench.scratchDirectory("stopped-session-stop"))/stopped.mp4"
        let session = try RecordingSession(configuration: SessionFixture.configuration(
            bench, display: server.display, output: output, seconds: nil, audio: false))
        let group = ServiceGroup(services: [session], logger: SessionFixture.quietLogger)
        let running = Task { try await group.run() }
        #expect(SessionFixture.eventually(within: 15) { session.statistics.mediaDuration >= .seconds(2) })
        server.process.send(SIGSTOP)
        defer { server.process.send(SIGCONT) }
        // The grabber blocks in its next call (a frame later).
        try await Task.sleep(nanoseconds: 300_000_000)
        let stopping = ContinuousClock.now
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        let took = ContinuousClock.now - stopping
        let result = try #require(session.result)
        print("stopped server, session stop: finished after \(took), error \(String(describing: result.error))")
        #expect(took < .seconds(4), "the stop took \(took)")
        // No error (the stop came first), or the display's.
        var acceptable = result.error == nil
        if case let .display(x) = result.error { acceptable = x.isNotAnswering && x.display == server.display }
        #expect(acceptable, "\(String(describing: result.error))")
        let boxes = try MediaProbe.topLevelBoxes(output)
        #expect(boxes.contains("moov") && !boxes.contains("moof"), "a finished regular MP4: \(boxes)")
        let probe = try MediaProbe(path: output)
        #expect((probe.duration ?? 0) >= 1.5, "duration \(probe.duration ?? 0)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
    }
}
