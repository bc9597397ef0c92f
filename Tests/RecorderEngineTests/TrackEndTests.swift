import Foundation
import RecorderEngine
import Testing
import TestSupport

/// The sound ends where the picture ends (issue 21, "also seen": a 10-minute
/// recording's sound ended 0.432 s before its video). The sound device
/// delivers each period a buffer's length late, so a stop that ended both
/// captures at once lost that tail; and a duration counted in device frames
/// missed what the drift correction had taken back after an overrun. Now a
/// graceful stop lets the sound catch up to the video's end (silence for
/// what the device never delivers) and places nothing after it.
@Suite(.serialized, .tags(.bench)) struct TrackEndTests {
    /// One AAC frame at 44.1 kHz.
    static let audioFrame = 1024.0 / 44_100

    private func trackEnds(_ path: String) throws -> (video: Double, audio: Double) {
        let probe = try MediaProbe(path: path, countFrames: false)
        let video = try #require(probe.video?.duration, "no video duration in \(path)")
        let audio = try #require(probe.audio?.duration, "no audio duration in \(path)")
        return (video, audio)
    }

    @Test func aDurationEndsBothTracksWithinAnAudioFrame() async throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("track-end-duration")
        for round in 0..<3 {
            let output = "\(directory)/\(round).mp4"
            let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: 4))
            let result = try await session.record()
            #expect(result.error == nil, "\(String(describing: result.error))")
            #expect(result.stopReason == .durationReached)
            let ends = try trackEnds(output)
            print("duration 4 s, round \(round + 1): video \(ends.video) s, audio \(ends.audio) s")
            #expect(abs(ends.video - 4) < 0.001, "video \(ends.video) s")
            #expect(abs(ends.audio - ends.video) <= Self.audioFrame, "audio \(ends.audio) s, video \(ends.video) s")
        }
    }

    @Test func aStopEndsBothTracksWithinAnAudioFrame() async throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("track-end-stop")
        for round in 0..<3 {
            let output = "\(directory)/\(round).mp4"
            let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: nil))
            let task = Task { try await session.record() }
            #expect(SessionFixture.eventually(within: 15) { session.statistics.mediaDuration >= .seconds(2) },
                    "the session never recorded 2 s")
            let stopped = ContinuousClock.now
            session.stop()
            let result = try await task.value
            let took = ContinuousClock.now - stopped
            #expect(result.error == nil, "\(String(describing: result.error))")
            // The wait for the sound's tail is bounded (a second at most).
            #expect(took < .seconds(3), "record() returned \(took) after the stop")
            let ends = try trackEnds(output)
            print("stop after 2 s, round \(round + 1): video \(ends.video) s, audio \(ends.audio) s, stop took \(took)")
            #expect(abs(ends.audio - ends.video) <= Self.audioFrame, "audio \(ends.audio) s, video \(ends.video) s")
        }
    }
}
