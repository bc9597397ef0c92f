public import MediaCore

/// Why a network sink lost (or could not make) its connection. The message
/// is built only when printed, and never holds the URL.
public enum StreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// libavformat returned this code (`ECONNREFUSED`, `EPIPE`, `EIO` for a
    /// TLS certificate that failed verification...).
    case library(AVError)
    /// Connecting (TCP, TLS handshake, RTMP connect and publish) took longer
    /// than this many seconds.
    case timedOut(seconds: Double)
    /// This much media was queued: not even audio got through, so the
    /// connection was closed to start afresh.
    case stalled(queuedSeconds: Double)

    public var description: String {
        switch self {
        case let .library(error): return "\(error)"
        case let .timedOut(seconds): return "no connection within \(Self.format(seconds)) s"
        case let .stalled(queued): return "stalled with \(Self.format(queued)) s of media queued"
        }
    }

    static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
