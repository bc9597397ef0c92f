public import Mux

/// A change in one live stream's connection, reported as `RecordingEvent.stream`.
public struct StreamEvent: Sendable, Equatable {
    /// The stream's URL, redacted (`rtmp://host/app/***`).
    public var url: String
    public var change: RTMPSinkEvent

    public init(url: String, change: RTMPSinkEvent) {
        self.url = url
        self.change = change
    }
}
