public import MediaCore

/// Why a change asked of a running session (`pause()`, `resume()`,
/// `addStream(_:)`, `removeStream(_:)`) was refused; nothing changed then.
/// `description` is one line naming the value (stream URLs redacted).
public enum SessionControlError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The session is not recording: not started yet (or its first frame
    /// not captured yet), or finished.
    case notRecording
    case alreadyPaused
    case notPaused
    /// `LiveStreams.limit` streams are sent to already.
    case tooManyStreams(limit: Int)
    /// No stream has this number.
    case unknownStream(Int)
    /// The stream was removed before.
    case streamRemoved(Int)
    /// The stream is the recording's only output (no file, no HLS): removing
    /// it would leave nothing to record to; stop the recording instead.
    case lastOutput(Int)
    /// The stream's settings were refused (a URL outside the allow-list,
    /// a scheme not allowed, a rendition not encoded...).
    case configuration(InvalidSetting)

    public var description: String {
        switch self {
        case .notRecording: "the recording is not running"
        case .alreadyPaused: "the recording is paused already"
        case .notPaused: "the recording is not paused"
        case let .tooManyStreams(limit): "the recording streams to \(limit) destinations already (at most \(limit))"
        case let .unknownStream(number): "no stream \(number)"
        case let .streamRemoved(number): "stream \(number) was removed already"
        case let .lastOutput(number): "stream \(number) is the recording's only output: stop the recording instead"
        case let .configuration(error): "\(error)"
        }
    }
}
