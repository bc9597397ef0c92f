public import CaptureALSA
public import CaptureX11
public import MediaCore
public import MediaPackets
public import Mux

/// Why a recording could not start, or what ended it early: one typed value a
/// daemon can match (`catch RecordingError.audioDevice(let error)`), each case
/// carrying the underlying error and the value it concerns. `description` is
/// one line naming that value (stream keys redacted); a refused setting is
/// named there in the engine's words (`SettingKey`), which front ends print
/// in theirs.
public enum RecordingError: Error, Sendable, CustomStringConvertible {
    /// A value of the configuration cannot be used (a rate out of range, an
    /// unparsable region, a region off the screen, a URL outside the
    /// allow-list...). Nothing was opened or written. Its `key` says which
    /// setting; a front end names it in its own words.
    case configuration(InvalidSetting)
    /// The X display could not be opened or captured (the error names it).
    case display(XError)
    /// The sound device could not be opened, refused a parameter, or failed
    /// while recording (the error names the PCM and the refused value).
    case audioDevice(ALSAError)
    /// An encoder refused its settings or failed.
    case encoder(EncoderFailure)
    /// The output file could not be created, written or finished.
    case outputFile(OutputFileFailure)
    /// A live stream ended the recording or gave up.
    case stream(StreamFailureReport)

    public var description: String {
        switch self {
        case let .configuration(error): "\(error)"
        case let .display(error): "\(error)"
        case let .audioDevice(error): "\(error)"
        case let .encoder(failure): "\(failure)"
        case let .outputFile(failure): "\(failure)"
        case let .stream(failure): "\(failure)"
        }
    }

    /// True when the error came before anything was opened or written: bad
    /// input, in a command line's terms (exit code 2).
    public var isConfiguration: Bool {
        if case .configuration = self { return true }
        return false
    }
}

/// An encoder that refused its settings or failed while encoding.
public struct EncoderFailure: Error, Sendable, CustomStringConvertible {
    /// The codec (`libx264`, `aac`).
    public var codec: String
    /// The settings it was opened with, as a user would write them
    /// (`1920x1080 30 fps, preset ultrafast, crf 25, profile main`).
    public var settings: String
    /// What libav returned.
    public var underlying: AVError

    public init(codec: String, settings: String, underlying: AVError) {
        self.codec = codec
        self.settings = settings
        self.underlying = underlying
    }

    public var description: String { "\(codec) (\(settings)): \(underlying)" }
}

/// The output file could not be created, written or finished.
public struct OutputFileFailure: Error, Sendable, CustomStringConvertible {
    /// The file.
    public var path: String
    /// What was being done: creating, writing or finishing it.
    public var operation: Operation
    /// What libav or the system returned.
    public var underlying: AVError

    public enum Operation: String, Sendable {
        case create, write, finish
    }

    public init(path: String, operation: Operation, underlying: AVError) {
        self.path = path
        self.operation = operation
        self.underlying = underlying
    }

    public var description: String {
        let verb = switch operation {
        case .create: "cannot create"
        case .write: "writing failed"
        case .finish: "finishing failed"
        }
        return "output file '\(path)': \(verb): \(underlying)"
    }
}

/// A live stream that gave up (its `maxReconnects` used up), or the streams
/// of a recording with no file all having given up.
public struct StreamFailureReport: Error, Sendable, CustomStringConvertible {
    /// The stream's URL, redacted (`rtmp://host/app/***`).
    public var url: String
    /// Failed connection attempts in a row when it gave up.
    public var attempts: Int
    /// The last connection failure, when there was one.
    public var lastFailure: StreamFailure?

    public init(url: String, attempts: Int, lastFailure: StreamFailure?) {
        self.url = url
        self.attempts = attempts
        self.lastFailure = lastFailure
    }

    public var description: String {
        "stream \(url) gave up after \(attempts) failed attempt(s)" + (lastFailure.map { ": \($0)" } ?? "")
    }
}
