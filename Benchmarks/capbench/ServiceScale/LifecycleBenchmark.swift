import ArgumentParser
import Foundation
import Logging
import MediaCore
import RecorderEngine

/// `capbench lifecycle`: N recording sessions one after another in this one
/// process, as a daemon runs them for weeks: what each start and stop costs,
/// and what is left behind (resident memory, file descriptors, threads,
/// shared-memory segments). There is no peer: ffmpeg is a process per
/// recording, which the kernel cleans up.
struct LifecycleBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lifecycle",
        abstract: "Runs N short sessions in one process; reports memory growth, leaks, and start/stop times.")

    @Option(help: "Sessions to run, one after another.") var sessions = 100
    @Option(help: "Frames each session records before it is stopped.") var frames = 15
    @Option(help: "Capture size, WxH.") var size = "320x240"
    @Option(help: "X display (default $DISPLAY).") var display: String?
    @Option(help: "ALSA PCM to record (default $BENCH_CAPTURE_PCM); \"none\" records video only.") var audioDevice: String?
    @OptionGroup var common: CommonOptions

    func run() async throws {
        guard sessions >= 10, frames > 0 else { throw ValidationError("--sessions must be at least 10, --frames positive") }
        let environment = ProcessInfo.processInfo.environment
        guard let display = display ?? environment["DISPLAY"] else { throw ValidationError("no display: pass --display") }
        let audio = audioDevice ?? environment["BENCH_CAPTURE_PCM"]
        let frame = try FrameSize(parsing: size)
        let scratch = try ScratchDirectory("lifecycle")
        var logger = Logger(label: "capbench")
        logger.logLevel = .error
        // Let the cooperative pool reach its size before counting threads.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { try? await Task.sleep(for: .milliseconds(20)) } }
        }
        let before = ProcessResources.current()
        var afterTen = before
        var startTimes: [Double] = [], stopTimes: [Double] = []
        var failures = 0
        for index in 0..<sessions {
            var configuration = RecordingConfiguration(
                capture: DisplayCaptureConfiguration(display: display, region: CaptureRegion(width: frame.width, height: frame.height),
                                                     framesPerSecond: 30),
                audio: audio == "none" ? nil : audio.map { PCMCaptureConfiguration(device: $0) },
                audioEncoding: try AudioEncoderSettings(), video: VideoEncodingOptions(),
                output: FileOutput(path: scratch.file("s\(index).mp4"), overwrite: true))
            configuration.logger = logger
            let session = try RecordingSession(configuration: configuration)
            let events = session.events
            let called = ContinuousClock.now
            async let result = session.record()
            var started: ContinuousClock.Instant?
            for await event in events {
                if case .started = event {
                    started = .now
                    break
                }
            }
            if let started { startTimes.append((started - called).seconds) }
            while session.statistics.framesEncoded < frames && session.result == nil {
                try await Task.sleep(for: .milliseconds(5))
            }
            let stopping = ContinuousClock.now
            session.stop()
            if (try? await result)?.error != nil { failures += 1 }
            stopTimes.append((ContinuousClock.now - stopping).seconds)
            unlink(scratch.file("s\(index).mp4"))
            if index == 9 { afterTen = ProcessResources.current() }
        }
        let after = ProcessResources.current()
        var report = BenchReport(benchmark: "lifecycle", settings: [
            "sessions": "\(sessions)", "frames each": "\(frames)", "size": size,
            "audio": audio == "none" ? "none" : audio ?? "none", "failed sessions": "\(failures)",
            "before": "\(before)", "after 10": "\(afterTen)", "after": "\(after)"])
        report.add(Figure("resident memory growth, session 10 to \(sessions)", unit: "MB",
                          ours: Double(after.residentBytes - afterTen.residentBytes) / 1e6))
        report.add(Figure("resident memory growth, before the first to after the last", unit: "MB",
                          ours: Double(after.residentBytes - before.residentBytes) / 1e6))
        report.add(Figure("file descriptors left open", unit: "fds", ours: Double(after.fileDescriptors - before.fileDescriptors)))
        report.add(Figure("threads left running", unit: "threads", ours: Double(after.threads - before.threads)))
        report.add(Figure("session threads left running", unit: "threads", ours: Double(after.sessionThreads)))
        report.add(Figure("SysV shared-memory segments left", unit: "segments",
                          ours: Double(after.sharedMemorySegments - before.sharedMemorySegments)))
        report.add(Figure("start (record() to .started), median", unit: "s", ours: Self.median(startTimes)))
        report.add(Figure("start, slowest", unit: "s", ours: startTimes.max() ?? 0))
        report.add(Figure("stop (stop() to record() returning), median", unit: "s", ours: Self.median(stopTimes)))
        report.add(Figure("stop, slowest", unit: "s", ours: stopTimes.max() ?? 0))
        report.printTable()
        try report.write(json: common.json)
        if failures > 0 { throw BenchFailure("\(failures) of \(sessions) sessions failed") }
    }

    private static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        return values.sorted()[values.count / 2]
    }
}
