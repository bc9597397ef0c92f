public import MediaCore

/// A rectangle of the root window to capture, written `WxH+X+Y` as in X11
/// geometry strings and ffmpeg's `-video_size` plus `-i :0.0+X,Y`.
public struct CaptureRegion: Sendable, Equatable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public var x: Int
    public var y: Int

    public init(width: Int, height: Int, x: Int = 0, y: Int = 0) {
        self.width = width
        self.height = height
        self.x = x
        self.y = y
    }

    /// Parses `WxH+X+Y` (`+X+Y` optional). Refuses zero or odd sizes: the
    /// encoder's 4:2:0 chroma needs even dimensions.
    public init(parsing text: String) throws(InvalidSetting) {
        func refuse(_ reason: String) -> InvalidSetting {
            InvalidSetting(.region, value: text, reason: reason)
        }
        let parts = text.split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 3 else { throw refuse("expected WxH+X+Y, e.g. 1280x720+0+0") }
        let size = parts[0].split(separator: "x", omittingEmptySubsequences: false)
        guard size.count == 2, let width = Int(size[0]), let height = Int(size[1]) else {
            throw refuse("expected WxH+X+Y, e.g. 1280x720+0+0")
        }
        var x = 0, y = 0
        if parts.count == 3 {
            guard let px = Int(parts[1]), let py = Int(parts[2]) else { throw refuse("expected WxH+X+Y, e.g. 1280x720+0+0") }
            x = px
            y = py
        }
        guard width > 0, height > 0 else { throw refuse("width and height must be positive") }
        guard width % 2 == 0, height % 2 == 0 else { throw refuse("width and height must be even (4:2:0 video)") }
        guard x >= 0, y >= 0 else { throw refuse("the offset must not be negative") }
        self.init(width: width, height: height, x: x, y: y)
    }

    /// Checks that the region lies inside a screen of the given size.
    public func validate(screenWidth: Int, screenHeight: Int) throws(InvalidSetting) {
        guard x + width <= screenWidth, y + height <= screenHeight else {
            throw InvalidSetting(.region, value: description,
                                 reason: "leaves the \(screenWidth)x\(screenHeight) screen")
        }
    }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}
