import Foundation
import MediaCore
import Metrics
import MetricsTestKit
import RecorderEngine
import ServiceLifecycle
import Testing
import TestSupport

/// A session in a long-lived process: it frees everything it took, ends on
/// cancellation with a finished file, fails to start with a typed error, and
/// keeps its statistics, metrics and logs its own. All on the bench's real
/// display, sound server and encoders.
@Suite(.serialized, .tags(.bench)) struct SessionLifecycleTests {
    /// The metrics backend every session of this test process reports to
    /// (swift-metrics is bootstrapped once per process).
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    init() { _ = Self.metrics }

    @Test func aHundredSessionsOneAfterAnotherLeaveNothingBehind() async throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("hundred")
        // The cooperative pool's threads come and stay; start them first.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try? await Task.sleep(for: .milliseconds(20)) } }
        }
        let before = ProcessResources.current()
        var afterTen = before
        var failures: [String] = []
        var survivors = 0
        for index in 0..<100 {
            let output = "\(directory)/s\(index).mp4"
            weak var weakSession: RecordingSession?
            do {
                // 0.2 s: six frames and ten audio periods exercise every part; what
                // is measured is what a session leaves behind, not its length.
                let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: 0.2))
                weakSession = session
                let result = try await session.record()
                if result.error != nil || result.statistics.framesEncoded != 6 {
                    failures.append("\(index): \(result.error.map { "\($0)" } ?? "") \(result.statistics.framesEncoded) frames")
                }
            }
            if weakSession != nil { survivors += 1 }
            try FileManager.default.removeItem(atPath: output)
            if index == 9 { afterTen = ProcessResources.current() }
        }
        let after = ProcessResources.current()
        print("100 sessions: before \(before); after 10 \(afterTen); after 100 \(after)")
        #expect(failures.isEmpty, "\(failures)")
        #expect(survivors == 0, "\(survivors) ended sessions are still referenced")
        #expect(after.sessionThreads == 0, "threads of ended sessions still run: \(after)")
        #expect(after.threads <= before.threads, "threads: \(before.threads) before, \(after.threads) after")
        #expect(after.fileDescriptors == before.fileDescriptors, "descriptors: \(before) -> \(after)")
        #expect(after.sharedMemorySegments == before.sharedMemorySegments, "SysV segments: \(before) -> \(after)")
        #expect(after.residentBytes - afterTen.residentBytes < 10_000_000,
                "RSS grew \((after.residentBytes - afterTen.residentBytes) / 1000) kB from session 10 to 100")
        #expect(SecretRedaction.count == 0)
    }

    @Test func theSoundDeviceAndTheDisplayConnectionAreClosedWhenASessionEnds() async throws {
        let bench = try TestBench.current()
        let serverPID = try #require(ProcessInfo.processInfo.environment["BENCH_XVFB_PID"].flatMap { Int32($0) })
        let output = "\(try bench.scratchDirectory("close"))/close.mp4"
        let clientsBefore = try SessionFixture.soundServerClients()
        let socketsBefore = SessionFixture.xServerSockets(pid: serverPID)
        let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: 3))
        let events = session.events
        async let recording = session.record()
        for await event in events { if case .started = event { break } }
        #expect(try SessionFixture.eventually(within: 5) { try SessionFixture.soundServerClients().count > clientsBefore.count },
                "the recording's PCM never showed up as a sound-server client")
        #expect(SessionFixture.xServerSockets(pid: serverPID) > socketsBefore, "no X connection while recording")
        let result = try await recording
        #expect(result.error == nil)
        let closed = try SessionFixture.eventually(within: 5) { try SessionFixture.soundServerClients() == clientsBefore }
        let clientsAfter = try SessionFixture.soundServerClients()
        #expect(closed, "the PCM is still open: \(clientsAfter) against \(clientsBefore)")
        #expect(SessionFixture.eventually(within: 5) { SessionFixture.xServerSockets(pid: serverPID) == socketsBefore },
                "the X connection is still open")
    }

    @Test func threeSessionsAtOnceOnThreeDisplaysEachRecordTheirOwn() async throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("three")
        let servers = [try PrivateXServer(), try PrivateXServer()]
        let displays = [bench.display] + servers.map(\.display)
        let colours: [(UInt32, (Int, Int, Int))] = [(0xFF0000, (255, 0, 0)), (0x00FF00, (0, 255, 0)), (0x0000FF, (0, 0, 255))]
        var windows: [TestWindow] = []
        for (display, colour) in zip(displays, colours) {
            let window = try TestWindow(displayName: display, x: 0, y: 0, width: 320, height: 240)
            window.fill(colour.0, x: 0, y: 0, width: 320, height: 240)
            window.sync()
            windows.append(window)
        }
        defer { withExtendedLifetime(windows) {} }
        let sessions = try displays.enumerated().map { index, display in
            try RecordingSession(configuration: SessionFixture.configuration(
                bench, display: display, output: "\(directory)/\(index).mp4", seconds: 2))
        }
        let results = try await withThrowingTaskGroup(of: (Int, RecordingResult).self) { group in
            for (index, session) in sessions.enumerated() { group.addTask { (index, try await session.record()) } }
            return try await group.reduce(into: [Int: RecordingResult]()) { $0[$1.0] = $1.1 }
        }
        for (index, session) in sessions.enumerated() {
            let result = try #require(results[index])
            #expect(result.error == nil, "session \(index): \(String(describing: result.error))")
            #expect(result.statistics.framesEncoded == 60, "session \(index): \(result.statistics.framesEncoded) frames")
            #expect(result.statistics.cpuTime > .zero && result.statistics.cpuTime < result.statistics.elapsed * 2,
                    "session \(index) CPU \(result.statistics.cpuTime) over \(result.statistics.elapsed)")
            let encoded = try Self.metrics.expectCounter("recorder_video_frames_encoded_total", [("session", session.id)])
            #expect(encoded.totalValue == 60, "session \(index)'s metric: \(encoded.totalValue)")
            let path = "\(directory)/\(index).mp4"
            let probe = try MediaProbe(path: path)
            #expect(probe.video?.frames == 60)
            #expect(abs((probe.duration ?? 0) - 2) < 0.1, "duration \(probe.duration ?? 0)")
            let rgb = try MediaProbe.decodeFrameRGB(path, at: 1)
            let offset = (120 * 320 + 160) * 3
            let (r, g, b) = colours[index].1
            let got = (Int(rgb[offset]), Int(rgb[offset + 1]), Int(rgb[offset + 2]))
            #expect(abs(got.0 - r) < 24 && abs(got.1 - g) < 24 && abs(got.2 - b) < 24,
                    "display \(displays[index]) recorded \(got), drew \(colours[index].1)")
        }
    }

    @Test func cancellingTheTaskEndsAtOnceWithAFinishedFile() async throws {
        let bench = try TestBench.current()
        let output = "\(try bench.scratchDirectory("cancel"))/cancelled.mp4"
        let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: nil))
        let task = Task { try await session.record() }
        #expect(SessionFixture.eventually(within: 15) { session.statistics.mediaDuration >= .seconds(2) },
                "the session never recorded 2 s")
        let cancelled = ContinuousClock.now
        task.cancel()
        let result = try await task.value
        let took = ContinuousClock.now - cancelled
        #expect(result.stopReason == .cancelled)
        #expect(took < .seconds(3), "record() returned \(took) after the cancellation")
        let probe = try MediaProbe(path: output)
        #expect(abs((probe.duration ?? 0) - 2) < 0.6, "duration \(probe.duration ?? 0)")
        let boxes = try MediaProbe.topLevelBoxes(output)
        #expect(boxes.contains("moov") && !boxes.contains("moof"), "a finished regular MP4: \(boxes)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
    }

    @Test func aGracefulShutdownOfTheServiceGroupFinishesTheRecording() async throws {
        let bench = try TestBench.current()
        let output = "\(try bench.scratchDirectory("graceful"))/graceful.mp4"
        let session = try RecordingSession(configuration: SessionFixture.configuration(bench, output: output, seconds: nil))
        let group = ServiceGroup(services: [session], logger: SessionFixture.quietLogger)
        let running = Task { try await group.run() }
        #expect(SessionFixture.eventually(within: 15) { session.statistics.mediaDuration >= .seconds(2) })
        await group.triggerGracefulShutdown()
        try await running.value
        let result = try #require(session.result)
        #expect(result.stopReason == .stopRequested)
        #expect(result.error == nil)
        let probe = try MediaProbe(path: output)
        #expect(abs((probe.duration ?? 0) - 2) < 0.6, "duration \(probe.duration ?? 0)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
    }

    @Test func aFailedStartThrowsATypedErrorFinishesTheEventsAndLeaksNothing() async throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("failed")
        let before = ProcessResources.current()
        // No X server answers there.
        let noDisplay = try RecordingSession(configuration: SessionFixture.configuration(
            bench, display: ":987", output: "\(directory)/a.mp4", seconds: 1))
        let noDisplayEvents = noDisplay.events
        do {
            _ = try await noDisplay.record()
            Issue.record("a session on a missing display started")
        } catch {
            guard case let .display(x) = error, case .cannotOpenDisplay = x.kind else {
                Issue.record("expected a display error, got \(error)")
                return
            }
            #expect(x.display == ":987")
        }
        var seen = 0
        for await _ in noDisplayEvents { seen += 1 }
        #expect(seen == 0, "a session that did not start sends no event")
        // No such PCM.
        var configuration = try SessionFixture.configuration(bench, output: "\(directory)/b.mp4", seconds: 1)
        configuration.audio = PCMCaptureConfiguration(device: "nosuchpcm")
        let noDevice = try RecordingSession(configuration: configuration)
        do {
            _ = try await noDevice.record()
            Issue.record("a session on a missing PCM started")
        } catch {
            guard case let .audioDevice(alsa) = error else {
                Issue.record("expected an audio device error, got \(error)")
                return
            }
            #expect(alsa.device == "nosuchpcm")
        }
        for await _ in noDevice.events { Issue.record("an event from a session that did not start") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing is written")
        let after = ProcessResources.current()
        #expect(after.fileDescriptors == before.fileDescriptors, "\(before) -> \(after)")
        #expect(after.sessionThreads == 0)
        #expect(after.sharedMemorySegments == before.sharedMemorySegments)
    }

    @Test func badValuesAreTypedConfigurationErrorsNamingTheValue() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("badconfig")
        func refused(_ change: (inout RecordingConfiguration) -> Void) throws -> InvalidSetting? {
            try SessionFixture.refusal(bench, directory: directory, change)
        }
        #expect(try refused { $0.capture.framesPerSecond = 0 }?.value == "0")
        #expect(try refused { $0.duration = .seconds(-1) }?.key == .duration)
        #expect(try refused { $0.video.crf = 52 }?.value == "52")
        #expect(try refused { $0.id = "bad id with spaces" }?.key == .sessionID)
        #expect(try refused { $0.statisticsInterval = .milliseconds(1) }?.key == .statisticsInterval)
        #expect(try refused { $0.streams = [StreamOutput(url: "http://example.com/x")] }?.key == .stream(index: 0))
        #expect(try refused { $0.output = FileOutput(path: "/nonexistent-dir/x.mp4") }?.value == "/nonexistent-dir/x.mp4")
        for interval in [0.1, 301, .nan] {
            let error = try refused { $0.audio?.reopenMaximumIntervalSeconds = interval }
            #expect(error?.key == .audioReopenInterval && error?.value == "\(interval) s", "\(String(describing: error))")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
}
