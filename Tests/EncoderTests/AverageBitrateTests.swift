import CFFmpeg
import Encoder
import MediaCore
import MediaPackets
import MediaTestSupport
import Testing

/// `-b:v` as ffmpeg gives it to libx264: an average bit rate (ABR), and no
/// effect when a CRF is given too (libx264.c sets CRF after ABR).
@Suite struct AverageBitrateTests {
    /// Encodes three seconds of a busy picture (noise over a moving ramp);
    /// the bytes of every packet.
    private func encode(crf: Int?, bitrate: Int?) throws -> [Int] {
        TestMedia.quietLibav
        let settings = try VideoEncoderSettings(width: 320, height: 240, fps: 30, preset: .ultrafast, crf: crf,
                                                bitrate: bitrate, gop: 30, threads: 1)
        let encoder = try VideoEncoder(settings: settings, inputWidth: 320, inputHeight: 240)
        var generator = SplitMix(seed: 7)
        var sizes: [Int] = []
        let emit: (consuming Packet) -> Void = { packet in sizes.append(Int(packet.pointer.pointee.size)) }
        for index in 0..<90 {
            try encoder.encodeI420(frameIndex: Int64(index), fill: { planes in
                for y in 0..<planes.height {
                    let row = planes.y + y * planes.strideY
                    for x in 0..<planes.width { row[x] = UInt8(truncatingIfNeeded: x + index * 3) &+ UInt8(generator.next() & 0x3F) }
                }
                for y in 0..<planes.chromaHeight {
                    (planes.u + y * planes.strideU).update(repeating: 128, count: planes.chromaWidth)
                    (planes.v + y * planes.strideV).update(repeating: 128, count: planes.chromaWidth)
                }
            }, emit: emit)
        }
        try encoder.flush(emit: emit)
        return sizes
    }

    @Test func anAverageBitRateIsHeldWithoutCRF() throws {
        let target = 400_000
        let bits = try encode(crf: nil, bitrate: target).reduce(0, +) * 8
        let rate = Double(bits) / 3
        #expect(abs(rate - Double(target)) / Double(target) < 0.35, "ABR \(target) b/s gave \(Int(rate)) b/s")
        // What ignoring the bit rate would give: x264's default CRF 23.
        let defaultBits = try encode(crf: nil, bitrate: nil).reduce(0, +) * 8
        #expect(Double(defaultBits) / 3 > 2 * Double(target), "x264's default gave \(defaultBits / 3) b/s: too close to tell")
    }

    /// libavcodec gives x264 the rate in kbit/s, rounded down: below 1000
    /// bits/s it would be 0 and ABR silently off.
    @Test func aBitRateBelowOneKilobitIsRefusedByName() throws {
        #expect(throws: InvalidSetting.self) {
            try VideoEncoderSettings(width: 320, height: 240, crf: nil, bitrate: 999)
        }
        do {
            _ = try VideoEncoderSettings(width: 320, height: 240, crf: nil, bitrate: 999)
        } catch let error as InvalidSetting {
            #expect(error.key == .bitrate && error.value == "999")
        }
        _ = try VideoEncoderSettings(width: 320, height: 240, crf: nil, bitrate: 1_000)
    }

    @Test func aCRFGivenTooWinsAsInFFmpeg() throws {
        #expect(try encode(crf: 18, bitrate: 400_000) == (try encode(crf: 18, bitrate: nil)))
    }
}

/// A small deterministic generator (SplitMix64), for the same picture each run.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
