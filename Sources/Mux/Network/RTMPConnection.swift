import CFFmpeg
import MediaCore
import MediaPackets

/// One FLV-over-RTMP(S) session with an ingest server: opening it connects,
/// handshakes (TLS too for `rtmps://`), publishes and sends the FLV header
/// with the H.264 and AAC sequence headers (SPS/PPS and the AAC config from
/// the encoders' global headers), so a decoder can start at the first
/// keyframe that follows. Every reconnection is a new `RTMPConnection`.
///
/// libavformat reaches only the protocols the scheme needs: the
/// `protocol_whitelist` is `rtmp,tcp` or `rtmps,tls,tcp`, so nothing in a URL
/// can make it open a file, a pipe or an HTTP resource.
///
/// Used by the sink's thread only.
final class RTMPConnection {
    private let muxer: Muxer

    /// Connects to `url` (the full URL, key included) with `scheme`'s
    /// protocols; `interrupt` bounds every blocking step.
    init(url: String, scheme: StreamURL.Scheme, streams: [StreamParameters], tls: TLSVerification,
         authorities: CertificateAuthorityBundle?, interrupt: IOInterrupt) throws {
        // Packets come from `PacketFanOut` in decoding order already.
        muxer = try Muxer(formatName: "flv", url: url, streams: streams, flushEachPacket: true, interleaves: false)
        // The trailer cannot seek back to patch duration and size into the
        // metadata on a live connection; say so instead of failing to.
        try muxer.open(options: ["flvflags": "no_duration_filesize"],
                       ioOptions: Self.protocolOptions(scheme: scheme, tls: tls, authorities: authorities),
                       interrupt: interrupt.callback)
    }

    /// What `avio_open2` gets: the protocol whitelist, and for `rtmps://` the
    /// certificate checks (libavformat's `tls` protocol options: `tls_verify`
    /// defaults to 0, `ca_file` replaces the system's trust store).
    static func protocolOptions(scheme: StreamURL.Scheme, tls: TLSVerification,
                                authorities: CertificateAuthorityBundle?) -> [(key: String, value: String)] {
        switch scheme {
        case .rtmp:
            return [("protocol_whitelist", "rtmp,tcp")]
        case .rtmps:
            var options: [(key: String, value: String)] = [("protocol_whitelist", "rtmps,tls,tcp")]
            switch tls {
            case .systemAuthorities:
                options.append(("tls_verify", "1"))
            case .addingAuthority:
                options.append(("tls_verify", "1"))
                if let authorities { options.append(("ca_file", authorities.path)) }
            case .disabled:
                options.append(("tls_verify", "0"))
            }
            return options
        }
    }

    /// Sends one packet (in decoding order).
    @inline(__always)
    func write(_ packet: consuming Packet) throws {
        try muxer.write(packet)
    }

    /// Ends the stream cleanly: the FLV trailer, then the RTMP unpublish and close.
    func finish() throws {
        try muxer.finish()
    }
}
