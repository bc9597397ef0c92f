import Encoder
import Foundation
import MediaCore
@testable import RecorderEngine
import Testing

/// The engine's drift correction (AudioTimeline) driving the real AAC encoder
/// and resampler, on an injected clock, with a device 0.1 % fast, run faster
/// than real time: the encoded sample count stays within one video frame of the
/// clock, where uncorrected it drifts by 120 ms (3.6 frames) over the two simulated minutes.
@Suite struct AudioDriftCorrectionTests {
    @Test func aDeviceZeroPointOnePercentFastStaysWithinOneFrame() throws {
        let inputRate = 48_000, outputRate = 44_100
        let format = AudioFormat(sampleFormat: .s16, sampleRate: inputRate, channels: 2)
        let encoder = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: outputRate), inputFormat: format)
        var timeline = AudioTimeline(inputRate: inputRate, outputRate: outputRate)
        let clock = ManualClock(start: 1_000_000_000)
        let trueRate = Double(inputRate) * 1.001
        let period = 480
        let samples = UnsafeMutablePointer<Int16>.allocate(capacity: period * 2)
        defer { samples.deallocate() }
        for frame in 0..<period {
            let value = Int16(8_000 * sin(2 * Double.pi * 440 * Double(frame) / Double(inputRate)))
            samples[2 * frame] = value
            samples[2 * frame + 1] = value
        }
        let anchor = clock.now()
        _ = timeline.align(anchor: anchor, firstCaptureTime: anchor)
        var delivered = 0
        var worst = 0.0, largestStep = 0
        let minutes = 2
        for chunk in 0..<(minutes * 60 * Int(trueRate) / period) {
            // The device's sample clock runs 0.1 % fast against the session clock,
            // and each stamp jitters by up to ±2 ms.
            let exact = anchor + Int64(Double(delivered) / trueRate * 1e9)
            let jitter = Int64((chunk * 7919) % 5 - 2) * 1_000_000
            clock.sleep(until: exact)
            let stamp = clock.now() + (chunk == 0 ? 0 : jitter)
            if let correction = timeline.measure(captureTime: stamp) {
                largestStep = max(largestStep, abs(correction.sampleDelta))
                try encoder.setCompensation(sampleDelta: correction.sampleDelta, distance: correction.distance)
            }
            try encoder.encode(interleaved: samples, frameCount: period) { _ in }
            timeline.advance(by: period)
            delivered += period
            if chunk > 500 {
                let expected = Double(clock.now() - anchor) / 1e9 * Double(outputRate)
                let produced = Double(encoder.outputSampleCount + encoder.resamplerDelay)
                worst = max(worst, abs(produced - expected) / Double(outputRate))
            }
        }
        let uncorrected = Double(minutes * 60) * 0.001
        print("drift correction: worst \(worst * 1000) ms, largest step \(largestStep) samples")
        #expect(worst < 1.0 / 30, "audio strayed \(worst * 1000) ms from the clock (uncorrected: \(uncorrected * 1000) ms)")
        #expect(largestStep <= Int(0.005 * Double(outputRate)), "a correction was a jump: \(largestStep) samples")
    }
}
