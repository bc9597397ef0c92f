/// A picture of `width`x`height` pixels cut into square tiles of
/// `tileSize` pixels, numbered in raster order (the last column and row
/// may be partial): the grid the DAMAGE check hashes (64) and the one x264's
/// macroblock hints follow (16).
public struct TileGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let tileSize: Int
    public let columns: Int
    public let rows: Int
    public var count: Int { columns * rows }

    public init(width: Int, height: Int, tileSize: Int) {
        precondition(width > 0 && height > 0 && tileSize > 0)
        self.width = width
        self.height = height
        self.tileSize = tileSize
        columns = (width + tileSize - 1) / tileSize
        rows = (height + tileSize - 1) / tileSize
    }

    /// The columns and rows of the tiles a rectangle of pixels touches (its
    /// part on the picture); nil when it touches none.
    @inline(__always)
    public func tiles(x: Int, y: Int, width rectWidth: Int, height rectHeight: Int)
        -> (columns: ClosedRange<Int>, rows: ClosedRange<Int>)? {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(width, x + rectWidth), y1 = min(height, y + rectHeight)
        guard x0 < x1, y0 < y1 else { return nil }
        return ((x0 / tileSize)...((x1 - 1) / tileSize), (y0 / tileSize)...((y1 - 1) / tileSize))
    }
}
