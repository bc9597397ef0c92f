import Foundation
@testable import RecorderDaemon
import CaptureX11
import RecorderEngine
import Testing

/// A recording's states and waits without a display: a start that timed
/// out stays failed and names its display (issue 20, item 3), the script's
/// states (item 1), and every wait ends at its deadline or on cancellation.
struct RecordingStateTests {
    private func recording(display: String = ":4242") throws -> Recording {
        let file = NSTemporaryDirectory() + "state-\(UUID().uuidString).mp4"
        let session = try RecordingSession(configuration: RecordingConfiguration(
            capture: DisplayCaptureConfiguration(display: display, framesPerSecond: 30), audio: nil,
            audioEncoding: try AudioEncoderSettings(sampleRate: 48_000, channels: 2, bitrate: 128_000),
            video: VideoEncodingOptions(), output: FileOutput(path: file)))
        return Recording(id: "rec-test", session: session, file: file, display: display, audioDevice: nil, workspace: nil,
                         streams: [], metadata: [:], width: nil, height: nil, fps: 30, preset: "ultrafast",
                         noMediaAction: .report, estimatedCores: 0.1, expectedBitrate: 1e6)
    }

    @Test func aStartThatTimedOutFailsNamingTheDisplayAndStaysFailed() async throws {
        let recording = try recording()
        let started = ContinuousClock.now
        #expect(await recording.waitUntilStartedOrEnded(deadline: .now + .milliseconds(200)) == false)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(recording.startTimedOut(after: 15))
        let now = recording.snapshot()
        #expect(now.state == .failed && !recording.isActive)
        #expect(now.error?.contains(":4242") == true && now.error?.contains("does not answer") == true, "\(now.error ?? "")")
        #expect(now.stopReason == "startTimeout")
        // The session's own end later does not revive or change it.
        recording.finish(result: nil, startError: .display(XError(.notAnswering(milliseconds: 5000), display: ":4242")), script: true)
        #expect(recording.state == .failed)
        #expect(recording.snapshot().error?.contains("did not start within 15") == true)
        #expect(!recording.startTimedOut(after: 15), "only once")
    }

    @Test func theScriptsOutcomeGivesTheFinalState() throws {
        for (outcome, state) in [(ScriptOutcome.exited(status: 0), Recording.State.finished),
                                 (.exited(status: 3), .scriptFailed), (.killed(signal: 9), .scriptFailed),
                                 (.timedOut(status: 143), .scriptTimedOut), (.couldNotStart("ENOENT"), .scriptFailed)] {
            let recording = try recording()
            recording.finish(result: nil, startError: nil, script: true)
            #expect(recording.state == .finalizing && !recording.isActive && !recording.state.isDone)
            recording.scriptEnded(outcome)
            #expect(recording.state == state, "\(outcome)")
            #expect(recording.state.isDone)
        }
    }

    @Test func waitsEndAtTheirDeadlineAndOnCancellation() async throws {
        let recording = try recording()
        let clock = ContinuousClock()
        let byDeadline = try await clock.measure {
            #expect(await recording.waitUntilFileFinal(deadline: .now + .milliseconds(300)) == false)
        }
        #expect(byDeadline >= .milliseconds(290) && byDeadline < .seconds(3), "\(byDeadline)")
        let waiter = Task { await recording.waitUntilDone(deadline: .now + .seconds(3600)) }
        try await Task.sleep(for: .milliseconds(100))
        let cancelled = try await clock.measure {
            waiter.cancel()
            #expect(await waiter.value == false)
        }
        #expect(cancelled < .seconds(2), "\(cancelled)")
        // A change wakes a waiter at once.
        let done = Task { await recording.waitUntilFileFinal(deadline: .now + .seconds(3600)) }
        try await Task.sleep(for: .milliseconds(100))
        recording.finish(result: nil, startError: nil, script: false)
        #expect(await done.value)
        #expect(recording.state == .finished)
    }
}
