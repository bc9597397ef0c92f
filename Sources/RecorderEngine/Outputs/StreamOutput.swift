public import Mux

/// A live stream a session sends its encode to, besides or instead of the file.
public struct StreamOutput: Sendable, Equatable {
    /// `rtmp://HOST[:PORT]/APP/STREAM` or `rtmps://...`; the stream name is
    /// usually a secret key and is never shown (see `StreamURL`). Or
    /// `srt://HOST:PORT[?streamid=...]` when the configuration allows the
    /// scheme (`RecordingConfiguration.allowedStreamSchemes`).
    public var url: String
    /// How an `rtmps://` server's certificate is checked.
    public var tls: TLSVerification
    /// Failed connection attempts in a row after which the stream is given
    /// up; nil retries until the session stops.
    public var maxReconnects: Int?
    /// `srt://` only: a file whose first line is the passphrase (10 to 79
    /// characters), read when the session is made; nil streams unencrypted.
    public var srtPassphraseFile: String?
    /// `srt://` only: SRT's latency (`SRTOptions.latencyRange`, 10 ms to
    /// 10 s); nil keeps SRT's 120 ms.
    public var srtLatency: Duration?
    /// The rendition sent (`VideoRendition.name`); nil: the main one.
    public var rendition: String?

    public init(url: String, tls: TLSVerification = .systemAuthorities, maxReconnects: Int? = nil,
                srtPassphraseFile: String? = nil, srtLatency: Duration? = nil, rendition: String? = nil) {
        self.url = url
        self.tls = tls
        self.maxReconnects = maxReconnects
        self.srtPassphraseFile = srtPassphraseFile
        self.srtLatency = srtLatency
        self.rendition = rendition
    }
}
