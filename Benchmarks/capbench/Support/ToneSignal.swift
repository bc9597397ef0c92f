import Foundation

/// A sine tone as 16-bit stereo PCM: what the benchmarks play into a loopback
/// and feed the AAC encoders.
struct ToneSignal {
    var frequency = 440.0
    var amplitude = 0.5
    var sampleRate = 48_000
    var channels = 2

    /// `seconds` of the tone, interleaved signed 16-bit little-endian.
    func pcm(seconds: Double) -> [Int16] {
        let frames = Int(seconds * Double(sampleRate))
        var samples = [Int16](repeating: 0, count: frames * channels)
        let step = 2 * Double.pi * frequency / Double(sampleRate)
        for frame in 0..<frames {
            let value = Int16(amplitude * 32767 * sin(step * Double(frame)))
            for channel in 0..<channels { samples[frame * channels + channel] = value }
        }
        return samples
    }

    /// Writes `seconds` of the tone as raw PCM (`-f s16le`).
    func writeRaw(to path: String, seconds: Double) throws {
        try pcm(seconds: seconds).withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
    }

    /// Writes `seconds` of the tone as a WAV file (what `aplay` plays).
    func writeWAV(to path: String, seconds: Double) throws {
        let samples = pcm(seconds: seconds)
        let dataBytes = samples.count * 2
        var header = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8)); append(UInt32(36 + dataBytes))
        header.append(contentsOf: Array("WAVEfmt ".utf8)); append(UInt32(16)); append(UInt16(1)); append(UInt16(channels))
        append(UInt32(sampleRate)); append(UInt32(sampleRate * channels * 2)); append(UInt16(channels * 2)); append(UInt16(16))
        header.append(contentsOf: Array("data".utf8)); append(UInt32(dataBytes))
        samples.withUnsafeBytes { header.append(contentsOf: $0) }
        try header.write(to: URL(fileURLWithPath: path))
    }
}
