/// What the Jibri protocol layer needs from the daemon: how many more
/// meetings fit, and a recording of one meeting. `Recorder` implements it
/// (`Recorder+Jibri.swift`); the tests may give their own.
protocol JibriRecordingHost: Sendable {
    /// How many more Jibri recordings admission would take now (CPU and disk
    /// at the configured size), and whether the host is healthy.
    func jibriCapacity(width: Int, height: Int, fps: Int) async -> JibriCapacity

    /// Starts the recording of one meeting; returns once it records (Jibri's
    /// `on`: the page joined and the first frame written).
    /// Throws `JibriStartFailure`: `.busy` (answered busy, retry), or
    /// `.failed` with Jibri's retry flag.
    func startJibriRecording(_ request: JibriRecordingRequest) async throws(JibriStartFailure) -> any JibriRecordingHandle
}

/// A running Jibri recording.
protocol JibriRecordingHandle: Sendable {
    /// Asks it to stop (idempotent); `ended()` says when it has.
    func stop()
    /// Waits until the file is final and the finalize script has run.
    func ended() async -> JibriRecordingOutcome
}

struct JibriCapacity: Sendable, Equatable {
    /// Recordings that would be admitted now beside the running ones.
    var more: Int
    var healthy: Bool
    /// Why not healthy (the host's words).
    var reasons: [String] = []
}

/// One meeting to record, as a start IQ asks for it.
struct JibriRecordingRequest: Sendable {
    /// Jicofo's `session_id`; the recording's directory name
    /// (`[^a-zA-Z0-9_-]` replaced by `_`, as Jibri does).
    var sessionID: String
    var environment: String
    /// The meeting's page, from the room JID (`JibriMeeting.url`).
    var meetingURL: String
    /// The room JID's localpart: the file name's start, and the room the
    /// page joins.
    var callName: String
    /// The path segment before the room ("" when none), as Jibri derives it
    /// from the room JID (`JibriMeeting.tenant`).
    var tenant = ""
    /// Where the meeting pages are: the environment's `base-url`, or
    /// `https://XMPP-DOMAIN` as Jibri's `XmppApi` builds the call URL.
    var baseURL = ""
    var mode: JibriIQ.Mode
    /// `stream` mode: the RTMP URL (`JibriMeeting.streamURL`); never logged whole.
    var streamURL: String?
    /// The IQ's `app_data` (JSON; `file_recording_metadata` goes into metadata.json).
    var appData: String?
    /// The browser's hidden-participant login (`call-login`).
    var callLogin: JibriXMPPConfiguration.Login?
    /// Stop after this long (`usage-timeout`); nil: no limit.
    var usageTimeout: Duration?
    var width: Int
    var height: Int
    var fps: Int

    /// The directory name Jibri makes of the session id.
    var directoryName: String {
        String(sessionID.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "_" })
    }
}

enum JibriStartFailure: Error, Sendable, CustomStringConvertible {
    /// No room for one more (answered `off`, `busy`, retry).
    case busy(String)
    /// Could not start (answered/sent `off`, `error`, with `retry`).
    case failed(String, retry: Bool)

    var description: String {
        switch self {
        case .busy(let reason): "busy: \(reason)"
        case .failed(let reason, let retry): "\(reason) (\(retry ? "retry" : "no retry"))"
        }
    }
}

enum JibriRecordingOutcome: Sendable, Equatable {
    /// Ended as asked or by the meeting (sent `off`, no reason).
    case finished
    /// Ended on a fault (sent `off`, `error`, with the retry flag).
    case failed(String, retry: Bool)
}
