/// How to start one browser: the program, the X display and sound server it
/// draws and plays on, the window's size, and where its fresh profile goes.
public struct BrowserLaunch: Sendable {
    /// The program started (searched on `PATH`): Debian's `chromium` wrapper,
    /// which adds `/etc/chromium.d`'s flags and execs the browser in place.
    public var program: String = "chromium"
    /// The X display the browser's window opens on, e.g. ":7".
    public var display: String
    /// `PULSE_SERVER` for the browser, e.g. "unix:/run/.../native"; nil sets no sound variables.
    public var pulseServer: String?
    /// `PULSE_SINK`: the sink the browser plays into; nil leaves the server's default.
    public var pulseSink: String?
    /// The window's size in pixels: the workspace's size, at scale factor 1.
    public var width: Int
    public var height: Int
    /// Chromium's sandbox; false adds `--no-sandbox` (Chromium refuses to run
    /// as root with its sandbox on). Only a configuration should turn it off.
    public var sandbox: Bool = true
    /// A directory under which a fresh `chromium-profile-<random>` is made for
    /// this browser alone (removed by `Browser.close`).
    public var profileParent: String
    /// At most this many `requestAnimationFrame` callbacks a second for the
    /// page's scripts (nil: every frame of the display, 60 a second on Xvfb,
    /// which reports no refresh rate and cannot be given one). Chromium's CPU
    /// follows the frames a page draws (about 10 ms a 1080p grid frame here):
    /// a recording at 30 fps needs no more than 30. Videos are not affected.
    public var animationFrameRate: Int?
    /// Nice levels the browser runs below the caller's thread (0-19, nice(1)'s
    /// `-n`): set before it execs, so every process Chromium forks has it too.
    /// The browser then yields only when the cores are contended, and the
    /// recording of it keeps its timing (docs/BENCHMARKS.md, meetings).
    public var niceness: Int = 0
    /// More command-line arguments, after ours.
    public var extraArguments: [String] = []
    /// Flags in place of PageBrowser's own (nil: ours, `browserArguments`):
    /// a benchmark starting the browser as another recorder does. The
    /// window's size and place are then the caller's; `--no-sandbox` (when
    /// `sandbox` is false) and `extraArguments` are still added.
    public var replacementFlags: [String]?

    public init(display: String, width: Int, height: Int, profileParent: String) {
        self.display = display
        self.width = width
        self.height = height
        self.profileParent = profileParent
    }
}
