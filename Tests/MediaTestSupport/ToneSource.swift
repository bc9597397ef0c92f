import Foundation
public import MediaCore

/// Makes a 440 Hz sine (or another frequency) as interleaved s16 chunks.
public final class ToneSource {
    public let format: AudioFormat
    public let frequency: Double
    public let chunkFrames: Int
    private let pool: BufferPool
    private var nextFrame: Int64 = 0

    public init(frequency: Double = 440, sampleRate: Int = 48_000, channels: Int = 2, chunkFrames: Int = 960) {
        format = AudioFormat(sampleFormat: .s16, sampleRate: sampleRate, channels: channels)
        self.frequency = frequency
        self.chunkFrames = chunkFrames
        pool = BufferPool(count: 2, byteCount: chunkFrames * format.bytesPerFrame)
    }

    /// Frames produced so far.
    public var framesProduced: Int64 { nextFrame }

    /// The next chunk of the tone.
    public func next() -> AudioChunk {
        guard let buffer = pool.acquire() else { fatalError("tone pool exhausted") }
        let samples = buffer.baseAddress.assumingMemoryBound(to: Int16.self)
        let step = 2 * Double.pi * frequency / Double(format.sampleRate)
        for frame in 0..<chunkFrames {
            let value = Int16(12_000 * sin(step * Double(nextFrame + Int64(frame))))
            for channel in 0..<format.channels { samples[frame * format.channels + channel] = value }
        }
        let chunk = AudioChunk(buffer: buffer, frameCount: chunkFrames,
                               captureTime: nextFrame * Int64.nanosecondsPerSecond / Int64(format.sampleRate),
                               firstFrameIndex: nextFrame, isGapFill: false)
        nextFrame += Int64(chunkFrames)
        return chunk
    }
}
