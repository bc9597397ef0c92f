public import MediaCore

/// Makes BGRA frames of a test scene: four quadrants (red, green / blue,
/// white) and a black bar moving along the top eighth, away from the
/// quadrant centres the tests sample.
public final class TestScene {
    public let width: Int
    public let height: Int
    public let bytesPerRow: Int
    private let pool: BufferPool
    private let background: UnsafeMutableRawPointer

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        bytesPerRow = width * 4
        pool = BufferPool(count: 2, byteCount: bytesPerRow * height)
        background = .allocate(byteCount: bytesPerRow * height, alignment: 64)
        // Drawn once; each frame copies it, so debug builds stay fast.
        for y in 0..<height {
            let row = (background + y * bytesPerRow).assumingMemoryBound(to: UInt32.self)
            let left = y < height / 2 ? TestMedia.red : TestMedia.blue
            let right = y < height / 2 ? TestMedia.green : TestMedia.white
            row.update(repeating: left, count: width / 2)
            (row + width / 2).update(repeating: right, count: width - width / 2)
        }
    }

    deinit { background.deallocate() }

    /// A frame that brings no change (as X DAMAGE reports a still screen).
    public func unchangedFrame(_ index: Int) -> VideoFrame {
        guard let buffer = pool.acquire() else { fatalError("test scene pool exhausted") }
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: bytesPerRow,
                          captureTime: Int64(index) * Int64.nanosecondsPerSecond / 30, sequence: index,
                          damage: .unchanged)
    }

    /// Frame number `index` of the scene.
    public func frame(_ index: Int) -> VideoFrame {
        guard let buffer = pool.acquire() else { fatalError("test scene pool exhausted") }
        buffer.baseAddress.copyMemory(from: background, byteCount: bytesPerRow * height)
        let barWidth = max(8, width / 40)
        let barX = (index * 8) % (width - barWidth)
        for y in 0..<(height / 8) {
            let row = (buffer.baseAddress + y * bytesPerRow).assumingMemoryBound(to: UInt32.self)
            (row + barX).update(repeating: 0xFF00_0000, count: barWidth)
        }
        return VideoFrame(buffer: buffer, width: width, height: height, bytesPerRow: bytesPerRow,
                          captureTime: Int64(index) * Int64.nanosecondsPerSecond / 30, sequence: index)
    }
}
