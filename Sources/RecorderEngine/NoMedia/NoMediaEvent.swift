/// Media stopped carrying anything, or came back: reported as
/// `RecordingEvent.noMedia` when a `NoMediaDetection` threshold is crossed
/// and again when the condition ends.
public struct NoMediaEvent: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// Sound at or below the silence level.
        case silence
        /// No pixel of the picture changed.
        case frozenPicture
    }

    public enum Change: Sendable, Equatable {
        /// The condition has lasted the configured duration.
        case began
        /// Media came back; the condition had lasted `NoMediaEvent.lasted`.
        case ended
    }

    public var kind: Kind
    public var change: Change
    /// How long the condition has lasted (`began`: the threshold reached;
    /// `ended`: all of it).
    public var lasted: Duration
    /// Media time of the recording when the event was seen.
    public var mediaTime: Duration

    public init(kind: Kind, change: Change, lasted: Duration, mediaTime: Duration) {
        self.kind = kind
        self.change = change
        self.lasted = lasted
        self.mediaTime = mediaTime
    }

    public var description: String {
        let what = kind == .silence ? "silence" : "frozen picture"
        let seconds = (lasted.seconds * 10).rounded() / 10
        return change == .began ? "\(what) for \(seconds) s" : "\(what) ended after \(seconds) s"
    }
}
