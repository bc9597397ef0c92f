public import Encoder


/// A named encode of the capture that outputs can take: its own size,
/// preset, rate control, GOP, tune and profile (`VideoEncodingOptions`),
/// encoded from the same grab and the same BGRA -> I420 conversion as every
/// other rendition (scaled with libyuv when its size differs).
///
/// The main rendition is `RecordingConfiguration.video`, named `main`;
/// these are the others. Renditions with the same options share one encode.
public struct VideoRendition: Sendable, Equatable {
    /// The main rendition's name.
    public static let mainName = "main"

    /// 1 to 32 characters from `A-Z a-z 0-9 _ -` (so that `URL@NAME` and
    /// `FILE@NAME` read unambiguously), not `main`.
    public var name: String
    public var options: VideoEncodingOptions

    public init(name: String, options: VideoEncodingOptions) {
        self.name = name
        self.options = options
    }

    /// Whether `name` is a valid rendition name (see `name`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 32 && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
    }
}
