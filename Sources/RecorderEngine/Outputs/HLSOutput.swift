/// An HLS output (`HLSSink`): `playlist` (`NAME.m3u8`) and beside it
/// `NAME-init.mp4` and `NAME-00000.m4s`... Segments last a GOP of the
/// rendition (2 s with the default 60 frames at 30 fps).
public struct HLSOutput: Sendable, Equatable {
    public var playlist: String
    /// The rendition written; nil: the main one.
    public var rendition: String?
    /// Replace files already there; otherwise the playlist's presence is an error.
    public var overwrite: Bool

    public init(playlist: String, rendition: String? = nil, overwrite: Bool = false) {
        self.playlist = playlist
        self.rendition = rendition
        self.overwrite = overwrite
    }
}
