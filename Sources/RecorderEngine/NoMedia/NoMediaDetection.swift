public import MediaCore

/// When a session reports that its media stopped carrying anything: sound
/// below `silenceLevel` for `silenceDuration`, or a picture in which no pixel
/// changed for `frozenDuration` (see `RecordingEvent.noMedia`). nil turns a
/// check off; both are off by default.
///
/// A recorder uses this the way Jibri uses its no-media and all-muted
/// timeouts (3 and 10 minutes there): to notice a meeting that ended or a
/// browser that hung while the recording goes on.
public struct NoMediaDetection: Sendable, Equatable {
    /// Peak level, in dBFS, at or below which sound counts as silence
    /// (-60 by default: below the noise floor of a quiet room through a
    /// meeting's audio chain, far above digital silence).
    public var silenceLevel: Double = -60
    /// Silence for this long is reported; nil: not checked.
    public var silenceDuration: Duration?
    /// A picture unchanged for this long is reported; nil: not checked.
    public var frozenDuration: Duration?

    public init(silenceLevel: Double = -60, silenceDuration: Duration? = nil, frozenDuration: Duration? = nil) {
        self.silenceLevel = silenceLevel
        self.silenceDuration = silenceDuration
        self.frozenDuration = frozenDuration
    }

    /// The durations `validate` accepts, in seconds: 1 s to 24 h.
    public static let durationSecondsRange: ClosedRange<Double> = 1...86_400

    /// Throws `InvalidSetting` naming a value out of range: the level must
    /// be from -120 to 0 dBFS, each duration from 1 s to 24 h.
    public func validate() throws {
        guard silenceLevel.isFinite, (-120...0).contains(silenceLevel) else {
            throw InvalidSetting(.silenceLevel, value: "\(silenceLevel)", reason: "must be from -120 to 0 dBFS")
        }
        for (key, duration) in [(SettingKey.silenceDuration, silenceDuration), (.frozenDuration, frozenDuration)] {
            if let duration, !Self.durationSecondsRange.contains(duration.seconds) {
                throw InvalidSetting(key, value: "\(duration.seconds)", reason: "must be from 1 to 86400 seconds")
            }
        }
    }
}
