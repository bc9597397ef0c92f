/// How an `rtmps://` connection checks the server's certificate.
///
/// libavformat's `tls` protocol does not verify by default (`tls_verify` is
/// 0 in FFmpeg 5.1); the sink always sets it. With GnuTLS (Debian's FFmpeg)
/// verification checks the chain and that the certificate names the host of
/// the URL (a DNS name, or an IP address in the certificate's IP SANs).
public enum TLSVerification: Sendable, Equatable {
    /// Verify against the system's certificate authorities.
    case systemAuthorities
    /// Verify against the system's authorities and the PEM certificate(s) in
    /// this file (for a private CA in front of an ingest server).
    case addingAuthority(path: String)
    /// Do not verify: any certificate is accepted (a test server).
    case disabled
}
