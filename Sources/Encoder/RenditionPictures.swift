import CYUV
public import MediaCore

/// One capture, one conversion: the pictures every rendition of a recording
/// encodes from.
///
/// Each grab is converted to I420 once (from BGRA, or the 16-, 15- or 30-bit
/// pixels of such screens: `PictureConverter`), into the capture-size picture,
/// updating only what the frame brings (`FrameDamage`: rectangles, the whole
/// picture, or nothing). Every rendition at the capture size encodes that
/// picture itself; every other size gets one scaled picture (libyuv
/// `I420Scale`, box filter), shared by all the renditions of that size and
/// scaling, and remade from the capture picture only when it changed and an
/// encode is about to read it (`refreshScaled()`), never for a frame the
/// timeline drops. Scaling from I420 keeps both steps in libyuv's SIMD rows
/// and subsamples chroma once; the letterbox bars are painted once, at start,
/// and never written again.
///
/// "Unchanged" stays unchanged for every rendition: a frame that brings
/// nothing leaves every picture as it is, so each encoder can write its
/// all-skip picture (see `VideoEncoder`).
///
/// Not thread-safe: the video encode thread alone uses it.
public final class RenditionPictures: @unchecked Sendable {
    /// Size of the grabs (`VideoFrame`) this converts.
    public let captureWidth: Int
    public let captureHeight: Int
    /// The capture-size picture every grab is converted into.
    public let capture: I420Picture
    private var scaled: [Scaled] = []
    /// A frame changed the capture picture since `takeChange()` last asked.
    private var changedSinceTaken = false
    /// The capture picture's macroblocks frames changed since `takeChange()`
    /// last asked, and those that the frames before that call changed (what
    /// the encoders of the capture size tell x264, `VideoEncoder`).
    private var accumulatedChanges: MacroblockChanges
    private(set) var takenChanges: MacroblockChanges
    /// The scaled pictures are older than the capture picture.
    private var scaledStale = false
    private let counters: MediaCounters
    /// libyuv's conversion for each pixel format (with its scratch rows).
    private let converter = PictureConverter()

    /// One scaled picture and where the capture goes in it.
    private struct Scaled {
        let picture: I420Picture
        let scaling: PictureScaling
        let x: Int, y: Int, width: Int, height: Int
    }

    /// Allocates the capture-size picture (black).
    public init(captureWidth: Int, captureHeight: Int, counters: MediaCounters = MediaCounters()) throws {
        self.captureWidth = captureWidth
        self.captureHeight = captureHeight
        self.counters = counters
        capture = try I420Picture(width: captureWidth, height: captureHeight)
        accumulatedChanges = MacroblockChanges(width: captureWidth, height: captureHeight)
        takenChanges = MacroblockChanges(width: captureWidth, height: captureHeight)
        // Before the first frame every macroblock is new.
        accumulatedChanges.markAll()
    }

    /// The picture a rendition of `width`x`height` encodes: the capture
    /// picture at the capture size, else the scaled picture of that size and
    /// scaling, made on first request (at start, before any frame).
    public func picture(width: Int, height: Int, scaling: PictureScaling) throws -> I420Picture {
        if width == captureWidth && height == captureHeight { return capture }
        if let existing = scaled.first(where: {
            $0.picture.width == width && $0.picture.height == height && $0.scaling == scaling
        }) {
            return existing.picture
        }
        let picture = try I420Picture(width: width, height: height)
        let place = scaling.placement(sourceWidth: captureWidth, sourceHeight: captureHeight, width: width, height: height)
        scaled.append(Scaled(picture: picture, scaling: scaling, x: place.x, y: place.y, width: place.width,
                             height: place.height))
        scaledStale = true
        return picture
    }

    /// Where the capture lies in `picture` (one this made): all of the
    /// capture picture, or a scaled picture's rectangle.
    public func placement(of picture: I420Picture) -> PicturePlacement {
        if let entry = scaled.first(where: { $0.picture === picture }) {
            return PicturePlacement(x: entry.x, y: entry.y, width: entry.width, height: entry.height,
                                    captureWidth: captureWidth, captureHeight: captureHeight)
        }
        precondition(picture === capture, "a picture these renditions did not make")
        return PicturePlacement(x: 0, y: 0, width: captureWidth, height: captureHeight,
                                captureWidth: captureWidth, captureHeight: captureHeight)
    }

    /// Scaled pictures kept (sizes other than the capture's).
    public var scaledCount: Int { scaled.count }

    /// Converts what `frame` brings into the capture picture (nothing for an
    /// `unchanged` frame). The scaled pictures follow at `refreshScaled()`.
    public func update(from frame: borrowing VideoFrame) throws {
        precondition(frame.width == captureWidth && frame.height == captureHeight,
                     "frame size differs from the capture picture's")
        let damage = frame.damage
        guard damage.kind != .unchanged else { return }
        try capture.makeWritable()
        let source = UnsafePointer(frame.buffer.baseAddress.assumingMemoryBound(to: UInt8.self))
        let target = capture.planes
        let format = frame.pixelFormat
        if damage.kind == .full {
            converter.convert(source, format: format, bytesPerRow: frame.bytesPerRow, x: 0, y: 0, width: captureWidth,
                              height: captureHeight, into: target)
            accumulatedChanges.markAll()
        } else {
            for index in 0..<damage.count {
                let rect = damage[index]
                accumulatedChanges.mark(x: rect.x, y: rect.y, width: rect.width, height: rect.height)
                if let offset = rect.offset {
                    converter.convert(source + offset, format: format, bytesPerRow: rect.bytesPerRow, x: rect.x,
                                      y: rect.y, width: rect.width, height: rect.height, into: target)
                } else {
                    capture.fillBlack(x: rect.x, y: rect.y, width: rect.width, height: rect.height)
                }
            }
        }
        changedSinceTaken = true
        scaledStale = true
        counters.videoFramesConverted.add()
    }

    /// Whether the capture picture changed since the last call (a frame
    /// converted, whether or not it was encoded then): the encoders submit a
    /// new picture when it did, and repeat (skip) the last one when not.
    @inline(__always)
    public func takeChange() -> Bool {
        defer { changedSinceTaken = false }
        // The changes taken now are what the encoders read until the next call.
        swap(&accumulatedChanges, &takenChanges)
        accumulatedChanges.clear()
        return changedSinceTaken
    }

    /// Remakes every scaled picture from the capture picture, if it changed
    /// since they were made: before the encoders read them.
    public func refreshScaled() throws {
        guard scaledStale else { return }
        scaledStale = false
        let source = capture.planes
        for picture in scaled {
            try picture.picture.makeWritable()
            let planes = picture.picture.planes
            let (x, y) = (picture.x, picture.y)
            let status = I420Scale(source.y, Int32(source.strideY), source.u, Int32(source.strideU),
                                   source.v, Int32(source.strideV), Int32(captureWidth), Int32(captureHeight),
                                   planes.y + y * planes.strideY + x, Int32(planes.strideY),
                                   planes.u + (y / 2) * planes.strideU + x / 2, Int32(planes.strideU),
                                   planes.v + (y / 2) * planes.strideV + x / 2, Int32(planes.strideV),
                                   Int32(picture.width), Int32(picture.height), kFilterBox)
            // libyuv fails only on bad arguments, which the sizes' checks exclude.
            precondition(status == 0, "libyuv I420Scale failed (\(status))")
            counters.videoFramesScaled.add()
        }
    }
}
