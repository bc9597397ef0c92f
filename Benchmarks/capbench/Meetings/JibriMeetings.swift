import Foundation
import HostProcesses
import Logging
import PageBrowser

/// The Jibri way, N at once: per meeting a private Xvfb + PulseAudio
/// (`PrivateBench`), a chromium on it with Jibri's Chrome flags (started
/// through `PageBrowser.Browser`, which adds only the profile, the DevTools
/// pipe and `--no-sandbox` as root) showing the page, and an `ffmpeg`
/// running Jibri's recording list on that display and the sink's monitor,
/// started once the page plays.
struct JibriMeetings {
    /// The flags a browser starts with.
    enum BrowserFlags {
        /// Jibri's (`jibriChromeFlags`), every animation frame.
        case jibri
        /// PageBrowser's, as recorderd starts it (animation frames limited to
        /// `animationFrameRate`), less `removed`, then `extra`.
        case pageBrowser(extra: [String], removed: [String], animationFrameRate: Int?)
    }

    /// Jibri's Chrome flags: `jibri.chrome.flags` in Jibri's
    /// `src/main/resources/reference.conf`, which `JibriSelenium` passes to
    /// chromedriver (`--enabled` is no Chromium switch; kept as Jibri has it).
    static let jibriChromeFlags = ["--use-fake-ui-for-media-stream", "--start-maximized", "--kiosk", "--enabled",
                                   "--autoplay-policy=no-user-gesture-required"]

    var frame: FrameSize
    var fps: Int
    var seconds: Double
    var lagLimit: Double
    var lateTolerance: Double
    var sandbox: Bool
    var browserFlags = BrowserFlags.jibri
    var scratch: ScratchDirectory

    /// Browsers on `benches` showing `url`, each started (the page printed START_RECORDING).
    /// - Throws: `BenchFailure` when a browser does not start or its page does not play within 30 s.
    func openBrowsers(_ benches: [PrivateBench], url: String) async throws -> [Browser] {
        var browsers: [Browser] = []
        do {
            for bench in benches {
                var launch = BrowserLaunch(display: bench.display, width: frame.width, height: frame.height, profileParent: scratch.path)
                launch.pulseServer = bench.pulseAddress
                launch.pulseSink = bench.pulseSink
                launch.sandbox = sandbox
                switch browserFlags {
                case .jibri:
                    launch.replacementFlags = Self.jibriChromeFlags
                case let .pageBrowser(extra, removed, rate):
                    if !removed.isEmpty {
                        launch.replacementFlags = launch.browserArguments.filter { !removed.contains($0) && $0 != "--no-sandbox" }
                    }
                    launch.extraArguments = extra
                    launch.animationFrameRate = rate
                }
                let browser = try await Browser.launch(launch, logger: Logger(label: "capbench.meetings"))
                browsers.append(browser)
                _ = try await browser.page.navigate(to: url, timeout: .seconds(30), retries: 3)
            }
            for browser in browsers {
                let deadline = ContinuousClock.now + .seconds(30)
                while try await browser.page.evaluate("window.meetingStarted === true", timeout: .seconds(10)).bool != true {
                    guard ContinuousClock.now < deadline else { throw BenchFailure("the page did not start playing within 30 s") }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        } catch {
            for browser in browsers { await browser.close(grace: .seconds(2)) }
            throw error as? BenchFailure ?? BenchFailure("browser: \(error)")
        }
        return browsers
    }

    /// The pages' animation frame counters, summed.
    static func animationFrames(_ browsers: [Browser]) async -> Double {
        var total = 0.0
        for browser in browsers {
            total += (try? await browser.page.evaluate("window.__frames", timeout: .seconds(5)).number) ?? 0
        }
        return total
    }

    /// Records `seconds` of N meetings at once (N = `benches.count`).
    func record(_ benches: [PrivateBench], url: String) async throws -> MeetingStep {
        var step = MeetingStep(way: .jibri, meetings: benches.count, lagLimit: lagLimit, lateTolerance: lateTolerance)
        let browsers = try await openBrowsers(benches, url: url)
        let runs = try JibriFFmpegRuns(benches, name: "jibri", frame: frame, fps: fps, seconds: seconds, scratch: scratch)
        var parts = PartUsage.Parts()
        parts.browserGroups = Set(browsers.map(\.processGroup))
        parts.recorders = Set(runs.children.map(\.process.pid))
        parts.xServers = Set(benches.map(\.serverPID))
        parts.soundServers = Set(benches.map(\.soundServerPID))
        // The window: all N recording, from 1 s after the start to 2 s before the end.
        try await Task.sleep(for: .seconds(1))
        let before = parts.usage(in: ProcessTable()), frames0 = await Self.animationFrames(browsers), start = Date()
        try await Task.sleep(for: .seconds(max(1, seconds - 3)))
        let after = parts.usage(in: ProcessTable(memory: true)), frames1 = await Self.animationFrames(browsers)
        step.windowSeconds = Date().timeIntervalSince(start)
        step.usage = after - before
        step.animationFramesPerSecond = (frames1 - frames0) / step.windowSeconds / Double(browsers.count)
        let tally = runs.finish(seconds: seconds, fps: fps)
        step.add(tally)
        step.duplicated += tally.duplicated
        step.dropped += tally.dropped
        for (_, log) in runs.children { step.read(file: String(log.dropLast(".log".count)), fps: fps) }
        for browser in browsers { await browser.close(grace: .seconds(3)) }
        return step
    }
}
