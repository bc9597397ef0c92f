/// How a rendition whose size differs from the capture's shape gets the
/// capture's picture.
public enum PictureScaling: String, Sendable, CaseIterable {
    /// Keep the aspect ratio: scale to fit inside the rendition's size,
    /// centred, with black bars on the two sides that do not fill (pillar- or
    /// letterbox), as players show a picture of another shape.
    case letterbox
    /// Fill the rendition's size, changing the aspect ratio when the shapes
    /// differ.
    case stretch

    /// Where the capture's `sourceWidth`x`sourceHeight` picture goes in a
    /// `width`x`height` one: a rectangle with even place and size (4:2:0
    /// chroma covers 2x2 pixels), centred. For `.letterbox` it is the largest
    /// rectangle of the source's aspect ratio that fits (rounded down to even
    /// sizes); for `.stretch`, the whole picture.
    public func placement(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int)
        -> (x: Int, y: Int, width: Int, height: Int)
    {
        guard self == .letterbox, sourceWidth > 0, sourceHeight > 0,
              sourceWidth * height != sourceHeight * width else { return (0, 0, width, height) }
        var fittedWidth = width, fittedHeight = height
        if sourceWidth * height > sourceHeight * width {
            // Wider than the target: full width, bars above and below.
            fittedHeight = min(height, (width * sourceHeight / sourceWidth) & ~1)
        } else {
            fittedWidth = min(width, (height * sourceWidth / sourceHeight) & ~1)
        }
        fittedWidth = max(2, fittedWidth)
        fittedHeight = max(2, fittedHeight)
        return (((width - fittedWidth) / 2) & ~1, ((height - fittedHeight) / 2) & ~1, fittedWidth, fittedHeight)
    }
}
