public import MediaCore
public import MediaPackets

/// Why a network sink lost (or could not make) its connection. The message
/// is built only when printed, and never holds the URL.
public enum StreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// libavformat returned this code (`ECONNREFUSED`, `EPIPE`, `EIO` for a
    /// TLS certificate that failed verification...).
    case library(AVError)
    /// Connecting (TCP, TLS handshake, RTMP connect and publish) took longer
    /// than this.
    case timedOut(after: Duration)
    /// This much media was queued: not even audio got through, so the
    /// connection was closed to start afresh.
    case stalled(queued: Duration)
    /// The SRT connection could not be made, for SRT's reason: above all a
    /// listener that refused the passphrase (`.wrongPassphrase`) or wanted
    /// one (`.passphraseMismatch`).
    case rejected(SRTRejectReason)

    public var description: String {
        switch self {
        case let .library(error): return "\(error)"
        case let .timedOut(limit): return "no connection within \(Self.format(limit)) s"
        case let .stalled(queued): return "stalled with \(Self.format(queued)) s of media queued"
        case let .rejected(reason): return "\(reason)"
        }
    }

    /// Seconds with one decimal, made without Foundation.
    static func format(_ duration: Duration) -> String {
        let tenths = Int((duration.seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
