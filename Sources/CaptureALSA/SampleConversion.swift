import MediaCore

/// Converts interleaved samples between the formats the engine carries, for a
/// device that was reopened and agreed to another sample format than it did
/// at the start: the chunks keep the format the consumer was opened with
/// (`PCMCapture.format`), so nothing downstream (the encoder's resampler) has
/// to change in the middle of a recording. Rate and channel count are asked
/// for exactly at every open, so only the sample format can differ.
///
/// Scaling follows libswresample's: s16 and s32 are full-scale at ±2^15 and
/// ±2^31, float at ±1; narrowing rounds and clamps.
enum SampleConversion {
    /// Converts `samples` samples (frames × channels) at `source`, in format
    /// `from`, to format `to` at `destination`. The two may not overlap.
    static func convert(_ samples: Int, from: SampleFormat, _ source: UnsafeRawPointer,
                        to: SampleFormat, _ destination: UnsafeMutableRawPointer) {
        if from == to {
            destination.copyMemory(from: source, byteCount: samples * from.bytesPerSample)
            return
        }
        for index in 0..<samples {
            let value: Float = switch from {
            case .s16: Float(source.load(fromByteOffset: index * 2, as: Int16.self)) / 32_768
            case .s32: Float(Double(source.load(fromByteOffset: index * 4, as: Int32.self)) / 2_147_483_648)
            case .float32: source.load(fromByteOffset: index * 4, as: Float.self)
            }
            switch to {
            case .s16:
                let scaled = (value * 32_768).rounded()
                destination.storeBytes(of: Int16(max(-32_768, min(32_767, scaled))), toByteOffset: index * 2, as: Int16.self)
            case .s32:
                if from == .s16 {
                    // Exact: the 16 bits become the top of the 32.
                    let sample = Int32(source.load(fromByteOffset: index * 2, as: Int16.self)) << 16
                    destination.storeBytes(of: sample, toByteOffset: index * 4, as: Int32.self)
                } else {
                    let scaled = (Double(value) * 2_147_483_648).rounded()
                    let clamped = max(-2_147_483_648, min(2_147_483_647, scaled))
                    destination.storeBytes(of: Int32(clamped), toByteOffset: index * 4, as: Int32.self)
                }
            case .float32:
                destination.storeBytes(of: value, toByteOffset: index * 4, as: Float.self)
            }
        }
    }
}
