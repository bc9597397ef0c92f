import CX264
import Encoder
import Foundation
import MediaPackets
import Testing
import TestSupport

/// The per-macroblock hints reach x264 and it obeys them: a macroblock
/// said to be constant keeps the previous picture's pixels even where the
/// new picture differs (so hints must never lie: `VideoEncoder` derives
/// them from the DAMAGE rectangles), and the others take the new picture.
@Suite(.tags(.bench)) struct MacroblockHintTests {
    static let width = 320, height = 240

    /// Encodes picture A (dark) then picture B (bright) with `hints` on B,
    /// decodes, and returns B's decoded luma.
    private func secondPicture(hints: ((Int, Int) -> Bool)?) throws -> [UInt8] {
        let settings = try VideoEncoderSettings(width: Self.width, height: Self.height, crf: 25, threads: 1)
        let x264 = try X264Context(settings: settings, threads: 1, macroblockHints: true, packetPool: PacketPool(capacity: 8))
        let picture = try I420Picture(width: Self.width, height: Self.height)
        var stream = Data(x264.extradata)
        let collect: (consuming Packet) -> Void = { packet in
            let pointer = packet.pointer
            stream.append(UnsafeBufferPointer(start: pointer.pointee.data, count: Int(pointer.pointee.size)))
        }
        let columns = Self.width / 16, rows = Self.height / 16
        let array = UnsafeMutablePointer<UInt8>.allocate(capacity: columns * rows)
        defer { array.deallocate() }
        for (index, level) in [UInt8(40), 210].enumerated() {
            let planes = picture.planes
            for y in 0..<Self.height {
                for x in 0..<Self.width { planes.y[y * planes.strideY + x] = level &+ UInt8((x + y) % 16) }
            }
            for y in 0..<Self.height / 2 {
                for x in 0..<Self.width / 2 {
                    planes.u[y * planes.strideU + x] = 128
                    planes.v[y * planes.strideV + x] = 128
                }
            }
            var given: UnsafeMutablePointer<UInt8>?
            if index == 1, let hints {
                for row in 0..<rows {
                    for column in 0..<columns { array[row * columns + column] = hints(column, row) ? UInt8(X264_MBINFO_CONSTANT) : 0 }
                }
                given = array
            }
            try x264.encode(planes, pts: Int64(index), keyframe: index == 0, hints: given, emit: collect)
        }
        try x264.drain(emit: collect)
        let path = NSTemporaryDirectory() + "hints-\(UUID().uuidString).h264"
        try stream.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let decoded = try Subprocess.runBinary(["ffmpeg", "-nostdin", "-v", "error", "-f", "h264", "-i", path,
                                                "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"])
        let size = Self.width * Self.height
        try #require(decoded.count == 2 * size, "decoded \(decoded.count) bytes")
        return [UInt8](decoded[size..<2 * size])
    }

    private func meanLuma(_ luma: [UInt8], columns: Range<Int>) -> Double {
        var sum = 0, count = 0
        for y in 0..<Self.height {
            for x in columns.lowerBound * 16..<columns.upperBound * 16 {
                sum += Int(luma[y * Self.width + x])
                count += 1
            }
        }
        return Double(sum) / Double(count)
    }

    @Test func constantMacroblocksKeepThePreviousPictureAndTheOthersTakeTheNewOne() throws {
        // No hints: the whole second picture is bright.
        let plain = try secondPicture(hints: nil)
        #expect(meanLuma(plain, columns: 0..<20) > 200, "\(meanLuma(plain, columns: 0..<20))")
        // The left half said constant: it stays dark, the right half is bright.
        let hinted = try secondPicture(hints: { column, _ in column < 10 })
        #expect(meanLuma(hinted, columns: 0..<10) < 60, "left \(meanLuma(hinted, columns: 0..<10))")
        #expect(meanLuma(hinted, columns: 10..<20) > 200, "right \(meanLuma(hinted, columns: 10..<20))")
    }
}

/// Rectangles of pixels to the macroblocks x264 is told changed.
@Suite(.tags(.bench)) struct MacroblockChangesTests {
    private func constant(_ changes: MacroblockChanges) -> [Bool] {
        let hints = UnsafeMutablePointer<UInt8>.allocate(capacity: changes.count)
        defer { hints.deallocate() }
        changes.writeHints(into: hints)
        return (0..<changes.count).map { hints[$0] == UInt8(X264_MBINFO_CONSTANT) }
    }

    @Test func aRectangleMarksEveryMacroblockItTouchesAndNoOther() {
        // 50x34 pixels: 4x3 macroblocks, the last column and row partial.
        let changes = MacroblockChanges(width: 50, height: 34)
        #expect(changes.columns == 4 && changes.rows == 3)
        #expect(constant(changes).allSatisfy { $0 })
        // Pixels 15-16 of row 31: macroblocks (0,1) and (1,1), not row 2.
        changes.mark(x: 15, y: 31, width: 2, height: 1)
        #expect(constant(changes) == [true, true, true, true, false, false, true, true, true, true, true, true])
        // The partial last column and row; a rectangle hanging off the picture is clipped.
        changes.clear()
        changes.mark(x: 48, y: 32, width: 20, height: 20)
        #expect(constant(changes) == [true, true, true, true, true, true, true, true, true, true, true, false])
        // Merging, then everything.
        let other = MacroblockChanges(width: 50, height: 34)
        other.mark(x: 0, y: 0, width: 1, height: 1)
        changes.formUnion(other)
        #expect(constant(changes) == [false, true, true, true, true, true, true, true, true, true, true, false])
        changes.markAll()
        #expect(changes.isAllMarked && constant(changes).allSatisfy { !$0 })
        // A whole new picture merged in marks everything (the encoder then
        // gives x264 no hints at all).
        let whole = MacroblockChanges(width: 50, height: 34)
        whole.markAll()
        other.formUnion(whole)
        #expect(other.isAllMarked && constant(other).allSatisfy { !$0 })
        // Empty and off-picture rectangles mark nothing.
        changes.clear()
        #expect(!changes.isAllMarked)
        changes.mark(x: 10, y: 10, width: 0, height: 5)
        changes.mark(x: 60, y: 0, width: 10, height: 10)
        #expect(constant(changes).allSatisfy { $0 })
    }
}
