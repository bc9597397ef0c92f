import CSRT

/// Why SRT could not make a connection: SRT's own reject reason
/// (`SRT_REJ_*` in srt.h, read with `srt_getrejectreason`), which the
/// listener sends back in its handshake. Kept as the code, like
/// swift-system's `Errno`; the sentence is made when printed.
public struct SRTRejectReason: Sendable, Equatable, CustomStringConvertible {
    /// `SRT_REJ_*` (below 1000), or a listener application's own code (1000 and up).
    public let code: Int32

    public init(code: Int32) {
        self.code = code
    }

    /// `SRT_REJ_BADSECRET`: the listener has a different passphrase.
    public static let wrongPassphrase = SRTRejectReason(code: Int32(SRT_REJ_BADSECRET.rawValue))
    /// `SRT_REJ_UNSECURE`: one side has a passphrase and the other none.
    public static let passphraseMismatch = SRTRejectReason(code: Int32(SRT_REJ_UNSECURE.rawValue))
    /// `SRT_REJ_PEER`: the listener's application refused (a stream id it does not serve, say).
    public static let refusedByListener = SRTRejectReason(code: Int32(SRT_REJ_PEER.rawValue))

    public var description: String {
        switch self {
        case .wrongPassphrase:
            return "the SRT listener rejected the passphrase (SRT_REJ_BADSECRET)"
        case .passphraseMismatch:
            return "the SRT listener and the recorder disagree on encryption: one has a passphrase, the other none"
                + " (SRT_REJ_UNSECURE)"
        default:
            let text = String(cString: srt_rejectreason_str(code))
            return "SRT connection rejected: \(text) (reject code \(code))"
        }
    }
}
