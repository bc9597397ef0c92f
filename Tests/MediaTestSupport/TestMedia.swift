import CFFmpeg
import Foundation

/// Synthetic capture input and checks of written files, for the encoder and
/// muxer tests (no display, no sound device).
public enum TestMedia {
    /// The test scene's colours as 0xXXRRGGBB (BGRA bytes in memory).
    public static let red: UInt32 = 0xFFFF_0000
    public static let green: UInt32 = 0xFF00_FF00
    public static let blue: UInt32 = 0xFF00_00FF
    public static let white: UInt32 = 0xFFFF_FFFF

    /// libx264 and the AAC encoder report every run at info level; the tests
    /// keep warnings and errors only. Evaluated once, by whoever encodes first.
    public static let quietLibav: Void = av_log_set_level(AV_LOG_WARNING)

    /// A fresh directory under the system's temporary directory.
    public static func scratchDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "encoder-tests-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Removes a scratch directory, unless KEEP_TEST_FILES is set (to look
    /// at what a test wrote).
    public static func removeDirectory(_ path: String) {
        guard ProcessInfo.processInfo.environment["KEEP_TEST_FILES"] == nil else { return }
        try? FileManager.default.removeItem(atPath: path)
    }
}
