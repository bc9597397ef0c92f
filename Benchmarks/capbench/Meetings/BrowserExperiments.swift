import Foundation
import HostProcesses
import PageBrowser

/// What the browser spends that a 30 fps recording does not need: the
/// browser alone (no recorder) on one private display, showing one page,
/// under variants of the display's refresh rate and of chromium's flags.
/// Each variant reads the browser's CPU (its process group), the X
/// server's, and the page's animation frames per second (requestAnimationFrame,
/// which follows the compositor's frame rate).
struct BrowserExperiments {
    struct Variant {
        var name: String
        /// Set the display to a 30 Hz mode first (xrandr --newmode/--addmode/--output).
        var thirtyHertz: Bool
        var flags: [String]
    }

    struct Outcome {
        var variant: Variant
        var browserCPU: Double, xServerCPU: Double, animationFramesPerSecond: Double
        var browserRSS: Int
    }

    /// The default variants, then one per `extra` (flags separated by spaces, on the display's own mode).
    static func variants(extra: [String]) -> [Variant] {
        [Variant(name: "default flags, Xvfb's own mode", thirtyHertz: false, flags: []),
         Variant(name: "--disable-gpu", thirtyHertz: false, flags: ["--disable-gpu"])]
            + extra.map { Variant(name: $0, thirtyHertz: false, flags: $0.split(separator: " ").map(String.init)) }
            + [Variant(name: "default flags, 30 Hz mode", thirtyHertz: true, flags: []),
               Variant(name: "--disable-gpu, 30 Hz mode", thirtyHertz: true, flags: ["--disable-gpu"])]
    }

    var jibri: JibriMeetings
    var seconds: Double

    /// Runs every variant in order on `bench` (the 30 Hz ones last: the mode stays).
    func run(_ variants: [Variant], bench: PrivateBench, url: String) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        var switched = false
        for variant in variants {
            if variant.thirtyHertz && !switched {
                try Self.setThirtyHertz(display: bench.display, width: jibri.frame.width, height: jibri.frame.height)
                switched = true
            }
            var way = jibri
            way.extraBrowserArguments = variant.flags
            let browsers = try await way.openBrowsers([bench], url: url)
            var parts = PartUsage.Parts()
            parts.browserGroups = Set(browsers.map(\.processGroup))
            parts.xServers = [bench.serverPID]
            try await Task.sleep(for: .seconds(1))
            let before = parts.usage(in: ProcessTable()), frames0 = await JibriMeetings.animationFrames(browsers), start = Date()
            try await Task.sleep(for: .seconds(seconds))
            let after = parts.usage(in: ProcessTable(memory: true)), frames1 = await JibriMeetings.animationFrames(browsers)
            let window = Date().timeIntervalSince(start)
            let used = after - before
            outcomes.append(Outcome(variant: variant, browserCPU: used.browser / window, xServerCPU: used.xServer / window,
                                    animationFramesPerSecond: (frames1 - frames0) / window, browserRSS: used.browserRSS))
            for browser in browsers { await browser.close(grace: .seconds(3)) }
        }
        return outcomes
    }

    /// The display's current mode line as xrandr prints it (the one marked `*`).
    static func currentMode(display: String) -> String {
        let text = String(decoding: (try? BenchTools.output(["xrandr", "-display", display, "-q"])) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").first { $0.contains("*") }?.trimmingCharacters(in: .whitespaces) ?? "?"
    }

    /// Adds a WxH mode at 30 Hz (blanking of 24 pixels and 3 lines, the
    /// pixel clock that makes 30 frames a second) and switches the screen to it.
    static func setThirtyHertz(display: String, width: Int, height: Int) throws {
        let name = "\(width)x\(height)_30"
        let clock = Double((width + 24) * (height + 3) * 30) / 1e6
        let modeline = [String(format: "%.3f", clock), "\(width)", "\(width + 8)", "\(width + 16)", "\(width + 24)",
                        "\(height)", "\(height + 1)", "\(height + 2)", "\(height + 3)"]
        _ = try? BenchTools.output(["xrandr", "-display", display, "--newmode", name] + modeline)
        _ = try BenchTools.output(["xrandr", "-display", display, "--addmode", "screen", name])
        _ = try BenchTools.output(["xrandr", "-display", display, "--output", "screen", "--mode", name])
    }
}
