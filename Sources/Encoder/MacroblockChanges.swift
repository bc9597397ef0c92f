import CX264

/// Which 16x16 macroblocks of a picture changed, one byte each in raster
/// order: what the encoder tells x264 (`mb_info`) so that it spends no
/// analysis on the others (`X264_MBINFO_CONSTANT`; x264 then codes such a
/// macroblock as skipped, or with a zero vector, when its reference is the
/// previous picture and its QP allows: `x264_macroblock_analyse`).
///
/// Made once at the picture's size; marking, merging and writing hints
/// allocate nothing.
package final class MacroblockChanges {
    /// Macroblocks per row and rows of them.
    package let columns: Int
    package let rows: Int
    package var count: Int { columns * rows }
    private let pictureWidth: Int
    private let pictureHeight: Int
    private let changed: UnsafeMutableBufferPointer<UInt8>
    /// Every macroblock is marked (a full-motion frame): no hint to give.
    package private(set) var isAllMarked = false

    /// For a picture of `width`x`height` pixels; nothing marked.
    package init(width: Int, height: Int) {
        pictureWidth = width
        pictureHeight = height
        columns = (width + 15) / 16
        rows = (height + 15) / 16
        changed = .allocate(capacity: columns * rows)
        changed.initialize(repeating: 0)
    }

    deinit {
        changed.deallocate()
    }

    /// Marks the macroblocks a rectangle of pixels touches (the part of it
    /// on the picture).
    package func mark(x: Int, y: Int, width: Int, height: Int) {
        let x0 = max(0, x), y0 = max(0, y)
        let x1 = min(pictureWidth, x + width), y1 = min(pictureHeight, y + height)
        guard x0 < x1, y0 < y1 else { return }
        let column0 = x0 / 16, column1 = (x1 - 1) / 16
        let row0 = y0 / 16, row1 = (y1 - 1) / 16
        for row in row0...row1 {
            for column in column0...column1 { changed[row * columns + column] = 1 }
        }
    }

    package func markAll() {
        guard !isAllMarked else { return }
        changed.update(repeating: 1)
        isAllMarked = true
    }

    package func clear() {
        changed.update(repeating: 0)
        isAllMarked = false
    }

    /// Marks every macroblock `other` (of the same size) has marked.
    package func formUnion(_ other: MacroblockChanges) {
        precondition(other.count == count, "macroblock maps of different sizes")
        guard !isAllMarked else { return }
        if other.isAllMarked { return markAll() }
        for index in 0..<count { changed[index] |= other.changed[index] }
    }

    /// Writes x264's `mb_info` for these changes into `hints` (`count`
    /// bytes): `X264_MBINFO_CONSTANT` for every macroblock not marked.
    package func writeHints(into hints: UnsafeMutablePointer<UInt8>) {
        let constant = UInt8(X264_MBINFO_CONSTANT)
        for index in 0..<count { hints[index] = changed[index] == 0 ? constant : 0 }
    }
}
