/// The daemon's page settings (`DaemonConfiguration`), as a page session
/// uses them.
struct PageSettings: Sendable {
    var browserPath: String
    var sandbox: Bool
    /// Where browser profiles are made (`STATE/browsers`): one fresh
    /// directory per browser, removed when it closes.
    var profileParent: String
    var navigationTimeout: Duration
    var navigationRetries: Int
    var consoleStartTimeout: Duration
    var hungAfter: Duration
    var hungCheckInterval: Duration
    /// How long a closing browser gets before its group is killed.
    var closeGrace: Duration = .seconds(2)
    /// The page's animation frames a second, at most: the recording's rate.
    /// Chromium on Xvfb draws 60 a second (Xvfb reports no refresh rate);
    /// a 1080p grid of moving tiles cost 0.60 CPU-s/s at 57 fps and 0.30 at
    /// 30 (Benchmarks/meetings/browser-cost.py, docs/BENCHMARKS.md).
    var animationFrameRate: Int?
    /// Nice levels the browser runs below the daemon (`browserNice`).
    var niceness: Int

    init(_ configuration: DaemonConfiguration) {
        browserPath = configuration.browserPath
        sandbox = !configuration.browserNoSandbox
        niceness = configuration.browserNice
        profileParent = configuration.browserProfileParent
        navigationTimeout = .milliseconds(Int64(configuration.pageNavigationTimeoutSeconds * 1000))
        navigationRetries = configuration.pageNavigationRetries
        consoleStartTimeout = .milliseconds(Int64(configuration.pageStartTimeoutSeconds * 1000))
        hungAfter = .milliseconds(Int64(configuration.pageHungSeconds * 1000))
        hungCheckInterval = .milliseconds(Int64(configuration.pageHungCheckSeconds * 1000))
    }
}
