/// One captured picture: pixels in the screen's format (`pixelFormat`;
/// usually BGRA, bytes B, G, R, X in memory) in a pooled buffer, stamped with
/// the `MediaClock` time of its grab.
public struct VideoFrame: ~Copyable, Sendable {
    /// The pixels; returns to its pool when the frame is destroyed.
    public var buffer: PooledBuffer
    public let width: Int
    public let height: Int
    /// Bytes from one row's start to the next.
    public let bytesPerRow: Int
    /// Nanoseconds on the session clock when the grab was issued.
    public let captureTime: Int64
    /// Grab number since capture started (0, 1, ...), gaps included.
    public let sequence: Int
    /// What the buffer holds: the whole picture (`full`, rows of
    /// `bytesPerRow`), nothing new (`unchanged`) or some rectangles.
    public let damage: FrameDamage
    /// How the buffer's pixels are laid out (rectangles included).
    public let pixelFormat: PixelFormat
    /// Where the pointer is and which shape it has, when the capture draws
    /// it (`DisplayCaptureConfiguration.drawsCursor`) and it is over the
    /// region; not part of the pixels (see `CursorPlacement`).
    public let cursor: CursorPlacement?

    public init(buffer: consuming PooledBuffer, width: Int, height: Int, bytesPerRow: Int,
                captureTime: Int64, sequence: Int, damage: FrameDamage = .full,
                pixelFormat: PixelFormat = .xrgb8888, cursor: CursorPlacement? = nil) {
        self.buffer = buffer
        self.width = width
        self.height = height
        self.bytesPerRow = bytesPerRow
        self.captureTime = captureTime
        self.sequence = sequence
        self.damage = damage
        self.pixelFormat = pixelFormat
        self.cursor = cursor
    }

    /// The pixel at (`x`, `y`) as 0xXXRRGGBB (a `full` 32-bit frame's).
    public func pixel(x: Int, y: Int) -> UInt32 {
        precondition(damage.kind == .full, "only a full frame holds every pixel")
        precondition(pixelFormat == .xrgb8888, "only 32-bit BGRX pixels read as 0xXXRRGGBB")
        precondition(x >= 0 && x < width && y >= 0 && y < height)
        return buffer.baseAddress.load(fromByteOffset: y * bytesPerRow + x * 4, as: UInt32.self)
    }
}

/// Sample formats the engine carries between capture and encoder (interleaved).
public enum SampleFormat: String, Sendable, CaseIterable {
    case s16, s32, float32

    /// Bytes per sample of one channel.
    public var bytesPerSample: Int {
        switch self {
        case .s16: 2
        case .s32, .float32: 4
        }
    }
}

/// What a stream of PCM chunks holds.
public struct AudioFormat: Sendable, Equatable, CustomStringConvertible {
    public var sampleFormat: SampleFormat
    public var sampleRate: Int
    public var channels: Int

    public init(sampleFormat: SampleFormat, sampleRate: Int, channels: Int) {
        self.sampleFormat = sampleFormat
        self.sampleRate = sampleRate
        self.channels = channels
    }

    /// Bytes of one frame (one sample of every channel).
    public var bytesPerFrame: Int { sampleFormat.bytesPerSample * channels }

    public var description: String { "\(sampleFormat.rawValue) \(sampleRate) Hz \(channels) ch" }
}

/// One period of interleaved PCM in a pooled buffer.
public struct AudioChunk: ~Copyable, Sendable {
    /// The samples; returns to its pool when the chunk is destroyed.
    public var buffer: PooledBuffer
    /// Frames (samples per channel) held.
    public let frameCount: Int
    /// Nanoseconds on the session clock at which the first frame was captured.
    public let captureTime: Int64
    /// Frames captured before this chunk since capture started (silence that
    /// filled overruns included), so the sample timeline has no holes.
    public let firstFrameIndex: Int64
    /// True when the chunk is silence inserted for frames lost in an overrun.
    public let isGapFill: Bool

    public init(buffer: consuming PooledBuffer, frameCount: Int, captureTime: Int64,
                firstFrameIndex: Int64, isGapFill: Bool) {
        self.buffer = buffer
        self.frameCount = frameCount
        self.captureTime = captureTime
        self.firstFrameIndex = firstFrameIndex
        self.isGapFill = isGapFill
    }
}
