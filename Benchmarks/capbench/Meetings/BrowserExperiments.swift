import Foundation
import HostProcesses
import PageBrowser

/// What the browser spends that a recording does not need: the browser
/// alone (no recorder) on one private display, showing one page, started as
/// recorderd starts it (PageBrowser's flags, animation frames limited to the
/// recording's rate) and under variants adding flags. Each variant reads the
/// browser's CPU (its process group), the X server's, and the page's
/// animation frames per second (requestAnimationFrame, which follows the
/// compositor's frame rate). Rounds run every variant in turn, so a change
/// in the host's load falls on all of them alike.
struct BrowserExperiments {
    struct Variant {
        var name: String
        var flags: [String]
        /// PageBrowser's flags left out.
        var removed: [String] = []
    }

    struct Outcome {
        var variant: Variant
        var browserCPU: Double, xServerCPU: Double, animationFramesPerSecond: Double
        var browserRSS: Int
    }

    /// PageBrowser's flags, then one variant per `extra`: flags separated by
    /// spaces, added; or "without" and flags, PageBrowser's flags less those.
    static func variants(extra: [String]) -> [Variant] {
        [Variant(name: "PageBrowser's flags", flags: [])]
            + extra.map { text in
                let words = text.split(separator: " ").map(String.init)
                return words.first == "without" ? Variant(name: text, flags: [], removed: Array(words.dropFirst()))
                    : Variant(name: text, flags: words)
            }
    }

    var jibri: JibriMeetings
    var seconds: Double

    /// Runs every variant in order on `bench`, `rounds` times over; the outcomes in that order.
    func run(_ variants: [Variant], rounds: Int, bench: PrivateBench, url: String,
             log: (String) -> Void) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for round in 1...rounds {
            for variant in variants {
                var way = jibri
                way.browserFlags = .pageBrowser(extra: variant.flags, removed: variant.removed, animationFrameRate: jibri.fps)
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
                let outcome = Outcome(variant: variant, browserCPU: used.browser / window, xServerCPU: used.xServer / window,
                                      animationFramesPerSecond: (frames1 - frames0) / window, browserRSS: used.browserRSS)
                outcomes.append(outcome)
                log(String(format: "round %d, %@: browser %.3f CPU-s/s, X server %.3f, %.1f frames/s, RSS %.0f MB",
                           round, variant.name, outcome.browserCPU, outcome.xServerCPU, outcome.animationFramesPerSecond,
                           Double(outcome.browserRSS) / 1e6))
                for browser in browsers { await browser.close(grace: .seconds(3)) }
            }
        }
        return outcomes
    }

    /// The display's current mode line as xrandr prints it (the one marked `*`).
    static func currentMode(display: String) -> String {
        let text = String(decoding: (try? BenchTools.output(["xrandr", "-display", display, "-q"])) ?? Data(), as: UTF8.self)
        return text.split(separator: "\n").first { $0.contains("*") }?.trimmingCharacters(in: .whitespaces) ?? "?"
    }
}
