import MediaCore
#if canImport(Glibc)
import Glibc
#endif

/// Finds silence in captured PCM on the audio encode thread: one pass over
/// each period for its peak sample, compared with a threshold made once.
/// A period is silent when no sample exceeds `silenceLevel` (dBFS peak, full
/// scale being the format's largest value). Allocates nothing; costs about
/// 3 µs for a 1024-frame stereo s16 period, 0.01 % of a core at 48 kHz
/// (`capbench nomedia`).
package struct SilenceDetector {
    private let format: AudioFormat
    /// The threshold in the format's own units.
    private let integerThreshold: Int32
    private let floatThreshold: Float
    /// Frames of the current silent run.
    package private(set) var silentFrames = 0

    package init(format: AudioFormat, silenceLevel: Double) {
        self.format = format
        let linear = pow(10, silenceLevel / 20)
        floatThreshold = Float(linear)
        switch format.sampleFormat {
        case .s16: integerThreshold = Int32((linear * 32_767).rounded(.down))
        case .s32: integerThreshold = Int32(clamping: Int64((linear * 2_147_483_647).rounded(.down)))
        case .float32: integerThreshold = 0
        }
    }

    /// Looks at `frameCount` interleaved frames at `samples`; returns the
    /// length of the silent run now, in frames (0 when they were not silent).
    @inline(__always)
    package mutating func observe(_ samples: UnsafeRawPointer, frameCount: Int) -> Int {
        let count = frameCount * format.channels
        let loud: Bool
        switch format.sampleFormat {
        case .s16:
            let values = samples.assumingMemoryBound(to: Int16.self)
            var peak: Int32 = 0
            for index in 0..<count { peak = max(peak, abs(Int32(values[index]))) }
            loud = peak > integerThreshold
        case .s32:
            let values = samples.assumingMemoryBound(to: Int32.self)
            var peak: Int64 = 0
            for index in 0..<count { peak = max(peak, abs(Int64(values[index]))) }
            loud = peak > Int64(integerThreshold)
        case .float32:
            let values = samples.assumingMemoryBound(to: Float.self)
            var peak: Float = 0
            for index in 0..<count { peak = max(peak, abs(values[index])) }
            loud = peak > floatThreshold
        }
        silentFrames = loud ? 0 : silentFrames + frameCount
        return silentFrames
    }
}
