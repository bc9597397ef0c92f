import CFFmpeg

/// Whether the encoders a recording needs are in the libav this process
/// loaded (a recorder host's health check: a libavcodec built without
/// libx264 records nothing).
public enum EncoderAvailability {
    /// The encoders a session opens: H.264 through libx264, and AAC.
    public static let required = ["libx264", "aac"]

    /// The names in `required` that libavcodec does not have; empty when
    /// every one is there. Looks the names up only (nothing is opened).
    public static func missing() -> [String] {
        required.filter { avcodec_find_encoder_by_name($0) == nil }
    }
}
