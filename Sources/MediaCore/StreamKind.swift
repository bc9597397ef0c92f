/// The kinds of stream a session carries; a sink has at most one of each.
public enum StreamKind: Sendable, Equatable {
    case video, audio
}
