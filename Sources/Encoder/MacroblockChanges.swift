import CX264
import MediaCore

/// Which 16x16 macroblocks of a picture changed, one byte each in raster
/// order: what the encoder tells x264 (`mb_info`) so that it spends no
/// analysis on the others (`X264_MBINFO_CONSTANT`; x264 then codes such a
/// macroblock as skipped, or with a zero vector, when its reference is the
/// previous picture and its QP allows: `x264_macroblock_analyse`).
///
/// Made once at the picture's size; marking, merging and writing hints
/// allocate nothing, and clearing or merging an empty map touches nothing
/// (a still screen's frames).
package final class MacroblockChanges {
    /// The macroblocks: 16-pixel tiles of the picture.
    private let grid: TileGrid
    package var columns: Int { grid.columns }
    package var rows: Int { grid.rows }
    package var count: Int { grid.count }
    private let changed: UnsafeMutableBufferPointer<UInt8>
    /// Nothing is marked.
    private var isEmpty = true
    /// Every macroblock is marked (a full-motion frame): no hint to give.
    package private(set) var isAllMarked = false

    /// For a picture of `width`x`height` pixels; nothing marked.
    package init(width: Int, height: Int) {
        grid = TileGrid(width: width, height: height, tileSize: 16)
        changed = .allocate(capacity: grid.count)
        changed.initialize(repeating: 0)
    }

    deinit {
        changed.deallocate()
    }

    /// Marks the macroblocks a rectangle of pixels touches (the part of it
    /// on the picture).
    package func mark(x: Int, y: Int, width: Int, height: Int) {
        guard let tiles = grid.tiles(x: x, y: y, width: width, height: height) else { return }
        isEmpty = false
        for row in tiles.rows {
            for column in tiles.columns { changed[row * columns + column] = 1 }
        }
    }

    package func markAll() {
        guard !isAllMarked else { return }
        changed.update(repeating: 1)
        isEmpty = false
        isAllMarked = true
    }

    package func clear() {
        guard !isEmpty else { return }
        changed.update(repeating: 0)
        isEmpty = true
        isAllMarked = false
    }

    /// Marks every macroblock `other` (of the same size) has marked.
    package func formUnion(_ other: MacroblockChanges) {
        precondition(other.grid == grid, "macroblock maps of different sizes")
        guard !isAllMarked, !other.isEmpty else { return }
        if other.isAllMarked { return markAll() }
        isEmpty = false
        for index in 0..<count { changed[index] |= other.changed[index] }
    }

    /// Writes x264's `mb_info` for these changes into `hints` (`count`
    /// bytes): `X264_MBINFO_CONSTANT` for every macroblock not marked.
    package func writeHints(into hints: UnsafeMutablePointer<UInt8>) {
        let constant = UInt8(X264_MBINFO_CONSTANT)
        for index in 0..<count { hints[index] = changed[index] == 0 ? constant : 0 }
    }
}
