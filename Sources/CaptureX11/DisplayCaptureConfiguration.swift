public import MediaCore

/// What to capture from an X display and how fast.
public struct DisplayCaptureConfiguration: Sendable {
    /// Display name such as ":0"; nil means `$DISPLAY`.
    public var display: String?
    /// Part of the root window to capture; nil means the whole screen.
    public var region: CaptureRegion?
    /// Grabs per second, 1...120.
    public var framesPerSecond: Int
    /// How frames are read; `.automatic` prefers MIT-SHM.
    public var method: GrabMethod
    /// Frames the ring toward the encoder holds. When it is full the newest frame
    /// is dropped (and counted): capture never waits for the encoder. Four
    /// frames (133 ms at 30 fps) ride out an encoder hiccup; each 1080p frame is
    /// an 8 MB shared-memory segment, so more would cost memory for little.
    public var queueCapacity: Int

    public init(display: String? = nil, region: CaptureRegion? = nil, framesPerSecond: Int = 30,
                method: GrabMethod = .automatic, queueCapacity: Int = 4) {
        self.display = display
        self.region = region
        self.framesPerSecond = framesPerSecond
        self.method = method
        self.queueCapacity = queueCapacity
    }

    /// Checks the values that need no display; the region is checked against the
    /// screen when the display is opened.
    public func validate() throws(InvalidArgument) {
        guard (1...120).contains(framesPerSecond) else {
            throw InvalidArgument(name: "--fps", value: String(framesPerSecond), reason: "must be 1 to 120")
        }
        guard queueCapacity >= 1 else {
            throw InvalidArgument(name: "video queue capacity", value: String(queueCapacity), reason: "must be at least 1")
        }
    }
}

/// What the capture thread reports while it runs.
public enum DisplayCaptureEvent: Sendable {
    /// Capture stopped because of this error (the server went away, a grab failed).
    case failed(XError)
}
