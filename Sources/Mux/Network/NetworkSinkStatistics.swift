/// A network sink's account at one moment. `url` is the redacted URL.
public struct NetworkSinkStatistics: Sendable, Equatable {
    public var url: String
    /// True while a connection is up.
    public var connected = false
    /// Connections made (the first one and every reconnection).
    public var connections = 0
    /// Established connections that were lost.
    public var disconnects = 0
    /// Connection attempts that failed.
    public var failedAttempts = 0
    /// True once `maxReconnects` was used up.
    public var gaveUp = false
    /// Packets and payload bytes handed to libavformat on a live connection.
    public var packetsSent = 0
    public var bytesSent = 0
    /// Video dropped by congestion: disposable frames past the first threshold.
    public var videoPacketsDroppedDisposable = 0
    /// Video dropped by congestion up to a keyframe, past the second threshold.
    public var videoPacketsDroppedToKeyframe = 0
    /// Packets refused because the queue was full (only when the connection
    /// is stalled and not yet closed) or out of memory.
    public var packetsDroppedQueueFull = 0
    /// Packets discarded with no connection up (waiting to reconnect, or
    /// skipping to the keyframe a new connection starts with).
    public var packetsDiscardedOffline = 0
    /// Media queued toward the server now, and the most ever.
    public var queued: Duration = .zero
    public var maximumQueued: Duration = .zero
    /// CPU seconds the sink's own thread used (muxing FLV or MPEG-TS, RTMP, TLS, the
    /// socket): what a stream costs beyond the shared encode. libsrt sends
    /// and resends from threads of its own, shared by every SRT socket of
    /// the process (`SRT:SndQ`, `SRT:RcvQ`): their time is in neither this
    /// figure nor the session's.
    public var threadCPUTime: Duration = .zero
    /// The stream was removed from a running recording (its figures are
    /// final).
    public var removed = false

    public init(url: String) {
        self.url = url
    }

    /// Every video packet congestion dropped.
    public var videoPacketsDropped: Int { videoPacketsDroppedDisposable + videoPacketsDroppedToKeyframe }
}
