public import Mux

/// A live stream a session sends its encode to, besides or instead of the file.
public struct StreamOutput: Sendable, Equatable {
    /// `rtmp://HOST[:PORT]/APP/STREAM` or `rtmps://...`; the stream name is
    /// usually a secret key and is never shown (see `StreamURL`).
    public var url: String
    /// How an `rtmps://` server's certificate is checked.
    public var tls: TLSVerification
    /// Failed connection attempts in a row after which the stream is given
    /// up; nil retries until the session stops.
    public var maxReconnects: Int?
    /// The rendition sent (`VideoRendition.name`); nil: the main one.
    public var rendition: String?

    public init(url: String, tls: TLSVerification = .systemAuthorities, maxReconnects: Int? = nil,
                rendition: String? = nil) {
        self.url = url
        self.tls = tls
        self.maxReconnects = maxReconnects
        self.rendition = rendition
    }
}
