/// How an `srt://` stream connects, besides its URL: the encryption
/// passphrase and the latency. Caller mode, live transmission (SRT's
/// `SRTT_LIVE`: too-late packets are dropped, never delayed), MPEG-TS in
/// 1316-byte messages (seven TS packets, SRT's live payload size).
public struct SRTOptions: Sendable, Equatable {
    /// The shared secret that encrypts the stream (AES, SRT's default 128-bit
    /// key); nil sends it in the clear.
    public var passphrase: SRTPassphrase?
    /// How long the receiver holds packets to let lost ones be resent
    /// (`SRTO_LATENCY`; each side uses the larger of the two it proposes);
    /// nil keeps SRT's 120 ms.
    public var latency: Duration?

    /// From 10 ms (less leaves no time to resend anything: SRT's guidance
    /// is at least 2.5 to 4 round trips) to 10 s (beyond, the stream is no
    /// longer live; the sink's own queue reconnects a connection stalled 5 s).
    public static let latencyRange: ClosedRange<Duration> = .milliseconds(10) ... .seconds(10)

    public init(passphrase: SRTPassphrase? = nil, latency: Duration? = nil) {
        self.passphrase = passphrase
        self.latency = latency
    }
}
