/// What a network sink reports from its own thread as its connection comes
/// and goes. None of them holds the URL's stream key; the receiver knows
/// which sink (and its redacted URL) it subscribed to.
public enum RTMPSinkEvent: Sendable, Equatable {
    /// The first connection is up (the FLV header and sequence headers sent).
    case connected
    /// A connection attempt failed; the next follows after `retryIn`,
    /// or never (nil: `maxReconnects` is used up). `attempt` counts the
    /// attempts of this outage, from 1.
    case connectionFailed(attempt: Int, failure: StreamFailure, retryIn: Duration?)
    /// An established connection was lost; reconnecting follows after the
    /// first backoff delay (unless `maxReconnects` is 0).
    case disconnected(StreamFailure)
    /// The connection is back after `downtime` and `attempts`
    /// attempts; the stream resumed at a keyframe.
    case reconnected(downtime: Duration, attempts: Int)
    /// No more attempts (`maxReconnects` used up); the sink discards media
    /// from now on.
    case gaveUp(attempts: Int)
}
