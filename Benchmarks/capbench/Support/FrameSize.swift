import ArgumentParser

/// A picture size parsed from `WxH`.
struct FrameSize: CustomStringConvertible {
    var width: Int
    var height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init(parsing text: String) throws {
        let parts = text.split(separator: "x")
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width >= 16, height >= 16,
              width % 2 == 0, height % 2 == 0 else {
            throw ValidationError("bad size '\(text)': expected WxH with even numbers of at least 16, e.g. 1920x1080")
        }
        self.init(width: width, height: height)
    }

    var description: String { "\(width)x\(height)" }
    /// "1080p" for 1920x1080 and so on, as people name sizes.
    var shortName: String { "\(height)p" }
}
