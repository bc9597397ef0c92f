import CFFmpeg

/// Whether the encoders a recording needs are in the libav this process
/// loaded (a recorder host's health check: a libavcodec built without AAC
/// records no sound). H.264 comes from libx264, which the engine links
/// directly (`X264Context`): a process without it does not start.
public enum EncoderAvailability {
    /// The libavcodec encoders a session opens: AAC.
    public static let required = ["aac"]

    /// The names in `required` that libavcodec does not have; empty when
    /// every one is there. Looks the names up only (nothing is opened).
    public static func missing() -> [String] {
        required.filter { avcodec_find_encoder_by_name($0) == nil }
    }
}
