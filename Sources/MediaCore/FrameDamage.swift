/// Which parts of the captured picture a `VideoFrame` brings, and where their
/// pixels are in its buffer.
///
/// The encoder keeps one persistent picture and updates only what a frame
/// brings: `full` replaces the whole picture (the buffer holds it, rows of
/// `width * 4` bytes), `unchanged` replaces nothing (no grab was made: the
/// screen did not change), and `rectangles` replaces up to `capacity`
/// rectangles, each with its own place in the buffer and row stride, or
/// paints it black (the part of the region that is off a shrunken screen).
///
/// Every rectangle starts on even coordinates and has even sizes, so the
/// converter updates whole 2x2 chroma blocks of 4:2:0 video.
/// Fixed capacity and stored inline: describing a frame never allocates.
public struct FrameDamage: Sendable {
    /// Rectangles a frame can carry; the grabber merges or grabs the whole
    /// picture past this (a frame with many small changes costs one grab).
    public static let capacity = 16

    public enum Kind: Sendable, Equatable {
        case full
        case unchanged
        case rectangles
    }

    /// One updated rectangle, in pixels of the frame (not of the screen).
    public struct Rectangle: Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
        /// Byte offset of its top-left pixel in the frame's buffer; `nil`
        /// paints it black.
        public var offset: Int?
        /// Bytes from one row of it to the next in the buffer.
        public var bytesPerRow: Int

        public init(x: Int, y: Int, width: Int, height: Int, offset: Int?, bytesPerRow: Int) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
            self.offset = offset
            self.bytesPerRow = bytesPerRow
        }

        public var area: Int { width * height }
    }

    public private(set) var kind: Kind
    /// Rectangles held (0 unless `kind == .rectangles`).
    public private(set) var count: Int = 0
    private var storage = InlineArray<16, Rectangle>(repeating: Rectangle(x: 0, y: 0, width: 0, height: 0,
                                                                         offset: nil, bytesPerRow: 0))

    private init(kind: Kind) { self.kind = kind }

    /// The buffer holds the whole picture.
    public static var full: FrameDamage { FrameDamage(kind: .full) }
    /// Nothing changed since the previous frame; the buffer holds nothing.
    public static var unchanged: FrameDamage { FrameDamage(kind: .unchanged) }
    /// No rectangles yet; `append` adds them.
    public static var rectangles: FrameDamage { FrameDamage(kind: .rectangles) }

    /// Adds a rectangle (`kind` must be `.rectangles` and there must be room).
    public mutating func append(_ rectangle: Rectangle) {
        precondition(kind == .rectangles && count < Self.capacity, "no room for another rectangle")
        precondition(rectangle.x % 2 == 0 && rectangle.y % 2 == 0 && rectangle.width % 2 == 0
                     && rectangle.height % 2 == 0, "4:2:0 needs even rectangles")
        storage[count] = rectangle
        count += 1
    }

    /// Rectangle `index` (0 ..< count).
    public subscript(index: Int) -> Rectangle {
        precondition(index >= 0 && index < count)
        return storage[index]
    }
}
