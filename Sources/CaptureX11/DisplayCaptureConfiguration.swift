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
    /// is dropped (and counted): capture never waits for the encoder. nil sizes
    /// it by memory: as many frames as `automaticQueueBytes` holds, from 4 (133 ms
    /// at 30 fps: 1080p, whose frames are 8 MB segments) up to half a second
    /// (smaller frames). A queue deeper than the encoder needs costs little:
    /// frames are taken most-recently-freed first, so slots a backlog never
    /// reaches are never touched and never resident, and the pages of those
    /// it reached go back every `slotTrimSeconds` once it has cleared.
    public var queueCapacity: Int?
    /// Grab only what the X DAMAGE extension reports as changed since the
    /// previous frame (nothing at all for a still screen); false grabs every
    /// frame whole. Where the server has no DAMAGE, frames are grabbed whole
    /// and the capture says so once (`DisplayCaptureEvent.damageUnavailable`).
    public var tracksDamage: Bool
    /// Draw the pointer into the recording (as ffmpeg's x11grab
    /// `-draw_mouse 1`): its XFixes image, with its alpha, at its position.
    /// Off by default, as Jibri records (`-draw_mouse 0`). Frames carry where
    /// it is (`VideoFrame.cursor`) and the encoder composites it onto each
    /// picture it encodes; it never enters the captured pixels.
    public var drawsCursor: Bool
    /// How long the X server may take to answer any call, the opening
    /// included, before capture fails with `XError.Kind.notAnswering` (a
    /// stopped or wedged server; 1 s to 60 s). A stop waits for no call
    /// more than 1 s, whatever this is.
    public var answerTimeout: Duration
    /// How often free frame slots beyond the two most recently used give
    /// their pages back (`BufferPool.trim`); internal: tests shorten it.
    var slotTrimSeconds = 10

    /// The memory the automatic queue may fill with frames (with the two
    /// frames being grabbed and encoded), reckoned at 4 bytes a pixel.
    public static let automaticQueueBytes = 50_000_000

    public init(display: String? = nil, region: CaptureRegion? = nil, framesPerSecond: Int = 30,
                method: GrabMethod = .automatic, queueCapacity: Int? = nil, tracksDamage: Bool = true,
                drawsCursor: Bool = false, answerTimeout: Duration = .seconds(5)) {
        self.display = display
        self.region = region
        self.framesPerSecond = framesPerSecond
        self.method = method
        self.queueCapacity = queueCapacity
        self.tracksDamage = tracksDamage
        self.drawsCursor = drawsCursor
        self.answerTimeout = answerTimeout
    }

    /// The rates `validate` accepts, in frames per second.
    public static let framesPerSecondRange = 1...120

    /// Checks the values that need no display; the region is checked against the
    /// screen when the display is opened.
    public func validate() throws(InvalidSetting) {
        guard Self.framesPerSecondRange.contains(framesPerSecond) else {
            throw InvalidSetting(.fps, value: String(framesPerSecond), reason: "must be 1 to 120")
        }
        guard answerTimeout >= .seconds(1) && answerTimeout <= .seconds(60) else {
            throw InvalidSetting(.displayAnswerTimeout, value: "\(answerTimeout)", reason: "must be 1 s to 60 s")
        }
        if let queueCapacity, queueCapacity < 1 {
            throw InvalidSetting(.videoQueueCapacity, value: String(queueCapacity), reason: "must be at least 1")
        }
    }

    /// The queue's capacity for frames of `frameBytes`.
    func queueCapacity(frameBytes: Int) -> Int {
        if let queueCapacity { return queueCapacity }
        let fitting = Self.automaticQueueBytes / max(1, frameBytes) - 2
        return min(max(4, fitting), max(4, framesPerSecond / 2))
    }
}

/// What the capture thread reports while it runs. Every case but `failed`
/// is a warning: capture goes on.
public enum DisplayCaptureEvent: Sendable, CustomStringConvertible {
    /// Capture stopped because of this error (the server went away or does
    /// not answer, a grab failed).
    case failed(XError)
    /// The screen changed size (RandR). The frames keep their size: the part
    /// of the region now off screen is black. `sentence` says it for a person.
    case screenResized(width: Int, height: Int, visibleWidth: Int, visibleHeight: Int, sentence: String)
    /// Frames are grabbed whole from now on: the server has no DAMAGE
    /// extension, or it failed.
    case damageUnavailable(display: String, reason: String)

    public var description: String {
        switch self {
        case let .failed(error): return "\(error)"
        case let .screenResized(_, _, _, _, sentence): return sentence
        case let .damageUnavailable(display, reason):
            return "display '\(display)': \(reason); grabbing every frame whole"
        }
    }
}
