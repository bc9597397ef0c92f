import RecorderEngine

/// Why the recorder refused, or could not do, what it was asked: each case
/// is one kind of refusal, with the words a person needs. The HTTP layer
/// gives each its status (`APIError(answering:)`); nothing here knows HTTP.
enum RecorderError: Error, Sendable {
    /// A value of the request cannot be used: the request's field and why.
    case invalid(FieldError)
    /// The engine refused the recording's configuration (the stream URLs
    /// as asked, to name the one it refused).
    case configuration(RecordingError, streams: [String])
    /// The display or the sound device is being recorded by another
    /// recording: why, and the request field that named it (`display`,
    /// `audioDevice`, `workspace`).
    case busy(String, field: String)
    /// The recording's file (or HLS playlist) exists already: as the
    /// request named it, and the field (`file`, `hls.playlist`).
    case exists(String, field: String)
    /// Not enough CPU, or disk: what is committed and what was asked.
    case cpu(String)
    case disk(String)
    /// The daemon is shutting down: no new recordings.
    case draining
    /// The workspace limit (`workspaces.max`, the count) is reached: no
    /// workspace for a page recording (503 `workspaces`, as a workspace's creation).
    case workspaces(Int)
    /// No such thing: `recording ID`, `workspace ID`.
    case notFound(String)
    /// The workspace is being recorded.
    case workspaceInUse(String)
    /// The daemon could not do its own part (a directory, the journal).
    case failed(String)
}

extension RecorderError: CustomStringConvertible {
    var description: String {
        switch self {
        case let .invalid(field): field.description
        case let .configuration(error, _): "\(error)"
        case let .busy(message, _), let .cpu(message), let .disk(message), let .failed(message): message
        case let .exists(path, _): "file '\(path)' exists already"
        case .draining: "shutting down: no new recordings"
        case let .workspaces(count): "at most \(count) workspaces"
        case let .notFound(what): "no such \(what)"
        case let .workspaceInUse(id): "workspace \(id) is being recorded"
        }
    }
}
