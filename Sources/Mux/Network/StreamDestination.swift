public import MediaPackets

/// Where a `NetworkSink` sends its stream and how it connects: one case per
/// protocol, with what that protocol needs. The URL is checked already
/// (`StreamURL`, against the allow-list); nothing here connects.
public enum StreamDestination: Sendable {
    /// FLV over `rtmp://` or `rtmps://`; `authorities` is the bundle for
    /// `TLSVerification.addingAuthority` (built once by the caller, shared).
    case rtmp(StreamURL, tls: TLSVerification, authorities: CertificateAuthorityBundle?)
    /// MPEG-TS over `srt://` (caller mode).
    case srt(StreamURL, SRTOptions)

    /// The destination's URL (it prints redacted).
    public var url: StreamURL {
        switch self {
        case let .rtmp(url, _, _): url
        case let .srt(url, _): url
        }
    }

    /// Connects (bounded by `interrupt` and, for SRT, `connectTimeout`
    /// seconds) and sends the container's header for `streams`.
    func connect(streams: [StreamParameters], interrupt: IOInterrupt, connectTimeout: Double) throws
        -> any StreamConnection
    {
        switch self {
        case let .rtmp(url, tls, authorities):
            try RTMPConnection(url: url.full, scheme: url.scheme, streams: streams, tls: tls, authorities: authorities,
                               interrupt: interrupt)
        case let .srt(url, options):
            try SRTConnection(url: url, options: options, streams: streams, interrupt: interrupt,
                              connectTimeout: connectTimeout)
        }
    }
}
