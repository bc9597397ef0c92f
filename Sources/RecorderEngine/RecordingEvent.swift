public import Mux

/// What a session reports while it runs, in order: `started`, then
/// `statistics` periodically, `warning`s and live streams' connection
/// changes as they happen, then `stopped` exactly once.
public enum RecordingEvent: Sendable {
    case started(RecordingStarted)
    case statistics(RecordingStatistics)
    case warning(String)
    /// A live stream connected, failed to, lost its connection, came back or gave up.
    case stream(StreamEvent)
    case stopped(RecordingResult)
}

/// What the session opened.
public struct RecordingStarted: Sendable {
    public var display: String
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int
    /// "sharedMemory" or "getImage".
    public var grabMethod: String
    /// The PCM and the format it delivers, when recording sound.
    public var audioDevice: String?
    public var audioFormat: String?
    /// The MP4 file, when recording to one.
    public var output: String?
    /// The live streams' URLs, redacted.
    public var streams: [String]
    /// The H.264 level chosen for the size and rate (e.g. "4.0").
    public var level: String
}

/// A running or final account of a recording.
public struct RecordingStatistics: Sendable, Codable {
    /// Seconds of media written (video timeline).
    public var mediaSeconds: Double = 0
    /// Wall-clock seconds since start.
    public var elapsedSeconds: Double = 0
    public var framesCaptured = 0
    public var framesEncoded = 0
    /// Grabs dropped: queue full, or more than one grab for an output slot.
    public var framesDropped = 0
    /// Output slots filled by repeating the previous picture (late grabs).
    public var framesDuplicated = 0
    /// Grabs that ran a frame or more late.
    public var lateGrabs = 0
    /// Frames the screen did not change in (DAMAGE): nothing grabbed or
    /// converted. Their share of `framesCaptured` is the still share.
    public var framesUnchanged = 0
    /// Frames converted to I420, in whole or in part.
    public var framesConverted = 0
    /// Output frames written as an all-skipped H.264 picture, without x264.
    public var skipPictures = 0
    /// Pixels read from the X server.
    public var pixelsGrabbed = 0
    /// Times the screen changed size (RandR).
    public var screenSizeChanges = 0
    public var audioOverruns = 0
    public var audioSilenceFrames = 0
    public var audioFramesDropped = 0
    /// Bytes of encoded media produced (written to the file, offered to the streams).
    public var bytesWritten = 0
    /// Output frames per second over the last interval.
    public var framesPerSecond: Double = 0
    /// Encoded bit rate over the last interval, bits/s.
    public var bitrate: Double = 0
    /// Audio ahead of video (positive) or behind, in seconds, as last measured.
    public var audioVideoOffset: Double = 0
    /// CPU seconds used by this process so far.
    public var cpuSeconds: Double = 0
    /// x264 threads encoding now (one until one does not keep up, unless
    /// the configuration fixed them).
    public var encoderThreads = 0
    /// Each live stream's account (redacted URL, connections, packets sent,
    /// drops), in the order the streams were configured.
    public var streams: [RTMPSinkStatistics] = []
}

/// How a recording ended.
public struct RecordingResult: Sendable {
    /// The final statistics.
    public var statistics: RecordingStatistics
    /// The finished file, or nil when nothing could be written.
    public var output: String?
    /// Seconds spent turning the crash-safe file into a regular MP4.
    public var finalizeSeconds: Double?
    /// The error that ended the recording early, if any.
    public var error: String?
    /// The finalize script's exit code, when one ran.
    public var finalizeScriptStatus: Int32?
}
