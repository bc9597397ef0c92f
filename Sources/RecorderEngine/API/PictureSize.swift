public import MediaCore

/// A picture size in pixels.
public struct PictureSize: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The largest side a rendition may have: H.264's highest level (6.2)
    /// holds 8192x4320 ("8K"), and no ingest takes more.
    public static let maximumSide = 8192
    /// The smallest side libx264 encodes.
    public static let minimumSide = 16

    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Reads `WxH` (`1280x720`); throws `InvalidSetting` for `key`.
    public init(parsing text: String, key: SettingKey = .size) throws(InvalidSetting) {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]),
              parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else {
            throw InvalidSetting(key, value: text, reason: "expected WIDTHxHEIGHT, e.g. 1280x720")
        }
        self.init(width: width, height: height)
    }

    /// Checks the size can be encoded: each side even (4:2:0 chroma) and
    /// from 16 to 8192. Throws `InvalidSetting` for `key`.
    public func validate(key: SettingKey = .size) throws(InvalidSetting) {
        for (side, value) in [("width", width), ("height", height)] {
            if value <= 0 {
                throw InvalidSetting(key, value: description, reason: "the \(side) must be positive")
            }
            if value % 2 != 0 {
                throw InvalidSetting(key, value: description,
                                     reason: "the \(side) must be even (4:2:0 chroma covers 2x2 pixels)")
            }
            if value < Self.minimumSide || value > Self.maximumSide {
                throw InvalidSetting(key, value: description,
                                     reason: "the \(side) must be from \(Self.minimumSide) to \(Self.maximumSide)")
            }
        }
    }

    public var description: String { "\(width)x\(height)" }
}
