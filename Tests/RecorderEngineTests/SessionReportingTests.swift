import Foundation
import MediaCore
import Metrics
import MetricsTestKit
import RecorderEngine
import Testing
import TestSupport

/// What a running session tells: events to several consumers in order,
/// statistics at any moment, metrics by the right amounts, and log lines
/// (its own and libav's) with its id and without a stream key.
@Suite(.serialized, .tags(.bench)) struct SessionReportingTests {
    init() { _ = SessionLifecycleTests.metrics }

    @Test func everyConsumerSeesStartedFirstAndStoppedLastAndTheStreamsFinish() async throws {
        let bench = try TestBench.current()
        let output = "\(try bench.scratchDirectory("events"))/events.mp4"
        var configuration = try SessionFixture.configuration(bench, output: output, seconds: 2)
        configuration.statisticsInterval = .milliseconds(250)
        let session = try RecordingSession(configuration: configuration)
        #expect(session.statistics.framesEncoded == 0, "statistics can be read before the start")
        let first = session.events, second = session.events
        async let recording = session.record()
        async let firstKinds = Self.kinds(first)
        async let secondKinds = Self.kinds(second)
        var midway = RecordingStatistics()
        #expect(SessionFixture.eventually(within: 15) {
            midway = session.statistics
            return midway.framesEncoded > 15
        })
        #expect(midway.cpuTime > .zero, "the session's CPU time is counted while it runs")
        let result = try await recording
        for kinds in [await firstKinds, await secondKinds] {
            #expect(kinds.first == "started" && kinds.last == "stopped", "\(kinds)")
            #expect(kinds.filter { $0 == "statistics" }.count >= 4, "\(kinds)")
        }
        // A consumer that comes after the end still gets the start and the end.
        #expect(await Self.kinds(session.events) == ["started", "stopped"])
        #expect(session.statistics.framesEncoded == result.statistics.framesEncoded)
        #expect(result.statistics.framesEncoded == 60)
        #expect(result.stopReason == .durationReached)
    }

    @Test func metricsMoveByWhatTheFileHolds() async throws {
        let bench = try TestBench.current()
        let output = "\(try bench.scratchDirectory("metrics"))/metrics.mp4"
        // A still picture over the recorded region.
        let window = try TestWindow(displayName: bench.display, x: 0, y: 0, width: 320, height: 240)
        defer { withExtendedLifetime(window) {} }
        window.setBackground(0x3060C0)
        window.sync()
        let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: 2))
        let result = try await session.record()
        let metrics = SessionLifecycleTests.metrics
        let dimensions = [("session", session.id)]
        let statistics = result.statistics
        #expect(try metrics.expectCounter("recorder_video_frames_encoded_total", dimensions).totalValue == 60)
        #expect(try metrics.expectCounter("recorder_video_frames_captured_total", dimensions).totalValue
                == Int64(statistics.framesCaptured))
        #expect(try metrics.expectCounter("recorder_written_bytes_total", dimensions).totalValue
                == Int64(statistics.bytesWritten))
        #expect(statistics.bytesWritten > 0)
        // DAMAGE reports most frames of the still window unchanged, and
        // they are written as skipped pictures.
        #expect(statistics.framesUnchanged > 30 && statistics.skipPictures > 30, "\(statistics)")
        #expect(try metrics.expectCounter("recorder_video_frames_unchanged_total", dimensions).totalValue
                == Int64(statistics.framesUnchanged))
        #expect(try metrics.expectCounter("recorder_video_skip_pictures_total", dimensions).totalValue
                == Int64(statistics.skipPictures))
        let encodeTimes = try metrics.expectTimer("recorder_video_encode_seconds", dimensions)
        #expect(encodeTimes.values.count == 60, "one encode-time sample per encoded frame")
        #expect(try metrics.expectGauge("recorder_encoder_threads", dimensions).lastValue == 1)
        // The metrics go with the session.
        let id = session.id
        _ = consume session
        #expect(metrics.counters(label: "recorder_video_frames_encoded_total", dimensions: [("session", id)]).isEmpty,
                "an ended, released session's metrics are destroyed")
    }

    @Test func logLinesCarryTheSessionIDAndNeverAStreamKey() async throws {
        let bench = try TestBench.current()
        let output = "\(try bench.scratchDirectory("logs"))/logs.mp4"
        let store = CapturingLogHandler.Store()
        var configuration = try SessionFixture.configuration(bench, output: output, seconds: 2,
                                                             logger: CapturingLogHandler.logger(store))
        // Nothing listens on port 1: libavformat logs the refused connection
        // on the stream's thread, with the URL it was given.
        let key = "SECRETKEY12345"
        configuration.streams = [StreamOutput(url: "rtmp://127.0.0.1:1/live/\(key)")]
        let session = try RecordingSession(configuration: configuration)
        let result = try await session.record()
        #expect(result.output == output)
        let lines = store.all
        let libav = lines.filter { $0.metadata["library"] == "libav" }
        #expect(!libav.isEmpty, "libav's own lines reach the session's logger")
        #expect(libav.allSatisfy { $0.metadata["session"] == session.id }, "libav lines without the session id")
        #expect(libav.contains { $0.message.contains("127.0.0.1") }, "the refused connection is logged")
        #expect(lines.contains { $0.message.contains("recording started") && $0.metadata["session"] == session.id })
        let leaked = lines.filter { $0.message.contains(key) || $0.metadata.values.contains { $0.contains(key) } }
        #expect(leaked.isEmpty, "a stream key in the log: \(leaked.map(\.message))")
        #expect(SecretRedaction.count == 0, "the session's secrets leave the redaction list when it ends")
    }

    private static func kinds(_ events: AsyncStream<RecordingEvent>) async -> [String] {
        var kinds: [String] = []
        for await event in events {
            switch event {
            case .started: kinds.append("started")
            case .statistics: kinds.append("statistics")
            case .warning: kinds.append("warning")
            case .stream: kinds.append("stream")
            case .noMedia: kinds.append("noMedia")
            case .stopped: kinds.append("stopped")
            }
        }
        return kinds
    }
}
