/// Where the capture region lies on the screen as it is now: the part on
/// screen is grabbed, the rest of the picture is painted black.
///
/// The output keeps the region's size whatever RandR does to the screen, so a
/// recording goes on through a resize: a smaller screen leaves a black strip
/// at the right and/or bottom, a larger one shows the region as before.
/// Every rectangle is on even coordinates with even sizes (4:2:0 chroma); an
/// odd screen edge leaves its last column or row black.
struct ScreenLayout: Equatable {
    /// A rectangle in the frame's pixels.
    struct Rect: Equatable {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
        var isEmpty: Bool { width <= 0 || height <= 0 }
        var area: Int { isEmpty ? 0 : width * height }
    }

    let region: CaptureRegion
    let screenWidth: Int
    let screenHeight: Int
    /// The part of the region on screen, in frame coordinates (from 0,0);
    /// empty when none of it is.
    let visible: Rect
    /// What is off screen: a strip right of `visible` and one below it.
    let right: Rect
    let bottom: Rect

    init(region: CaptureRegion, screenWidth: Int, screenHeight: Int) {
        self.region = region
        self.screenWidth = screenWidth
        self.screenHeight = screenHeight
        let width = max(0, min(region.width, screenWidth - region.x)) & ~1
        let height = max(0, min(region.height, screenHeight - region.y)) & ~1
        visible = Rect(x: 0, y: 0, width: width, height: height)
        right = Rect(x: width, y: 0, width: region.width - width, height: height)
        bottom = Rect(x: 0, y: height, width: region.width, height: region.height - height)
    }

    /// The whole region is on screen.
    var isWhole: Bool { visible.width == region.width && visible.height == region.height }

    /// The sentence the warning prints for this layout.
    func describe(display: String) -> String {
        let size = "\(region.width)x\(region.height)"
        if isWhole {
            return "display '\(display)' is now \(screenWidth)x\(screenHeight): the region \(region) is on screen whole;"
                + " the recording stays \(size)"
        }
        if visible.isEmpty {
            return "display '\(display)' is now \(screenWidth)x\(screenHeight): the region \(region) is off screen;"
                + " the recording stays \(size) and is black until the screen grows"
        }
        return "display '\(display)' is now \(screenWidth)x\(screenHeight): \(visible.width)x\(visible.height) of the region"
            + " \(region) is on screen; the recording stays \(size), the part off screen is black"
    }
}
