import Encoder
import Foundation
import MediaCore
import MediaPackets
import MediaTestSupport
import Testing

/// A capture device whose clock runs 0.1 % fast: it claims 48000 Hz but
/// delivers 48048 samples per second of the session clock. Uncorrected, the
/// audio would run 0.6 s long after 10 minutes (18 video frames).
@Suite struct AudioDriftTests {
    @Test func compensationKeepsTheSampleCountOnTheClockForTenMinutes() throws {
        TestMedia.quietLibav
        let outputRate = 44_100
        let claimed = AudioFormat(sampleFormat: .s16, sampleRate: 48_000, channels: 2)
        let actualRate = 48_048.0
        let encoder = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: outputRate), inputFormat: claimed)

        // One chunk of tone reused throughout: the content does not matter
        // here, only the sample counts (960 frames = one 50 Hz period).
        let chunkFrames = 960
        let chunk = UnsafeMutablePointer<Int16>.allocate(capacity: chunkFrames * 2)
        defer { chunk.deallocate() }
        for frame in 0..<chunkFrames {
            let value = Int16(8_000 * sin(2 * Double.pi * Double(frame) / Double(chunkFrames)))
            chunk[2 * frame] = value
            chunk[2 * frame + 1] = value
        }

        var packetSamples: Int64 = 0
        var packetCount = 0
        var lastEnd: Int64 = .min
        var orderedAndContiguous = true
        let emit: (consuming Packet) -> Void = { packet in
            let pts = packet.pointer.pointee.pts, duration = packet.pointer.pointee.duration
            if lastEnd != .min && pts != lastEnd { orderedAndContiguous = false }
            lastEnd = pts + duration
            packetSamples += duration
            packetCount += 1
        }

        let oneVideoFrame = Double(outputRate) / 30
        var inputFrames = 0
        var worstDrift = 0.0
        var firstDrift = 0.0
        var totalCorrection = 0
        let seconds = 600
        for second in 1...seconds {
            while Double(inputFrames) < Double(second) * actualRate {
                try encoder.encode(interleaved: chunk, frameCount: chunkFrames, emit: emit)
                inputFrames += chunkFrames
            }
            // What the engine does once a second: compare the samples the
            // encoder has (made or still in the resampler) with those the
            // session clock says should exist, and correct the difference
            // over the next second of output.
            let clockSeconds = Double(inputFrames) / actualRate
            let expected = clockSeconds * Double(outputRate)
            let produced = Double(encoder.outputSampleCount + encoder.resamplerDelay)
            let drift = produced - expected
            if second == 1 { firstDrift = drift }
            worstDrift = max(worstDrift, abs(drift))
            let correction = -Int(drift.rounded())
            totalCorrection += correction
            try encoder.setCompensation(sampleDelta: correction, distance: outputRate)
        }
        try encoder.flush(emit: emit)

        // The device really was fast: a second in, the audio is ~44 samples long.
        #expect(firstDrift > 30 && firstDrift < 60, "drift after 1 s: \(firstDrift)")
        #expect(worstDrift <= oneVideoFrame, "worst drift \(worstDrift) samples")
        // About 0.1 % of 10 minutes was taken out, gradually.
        let uncorrected = 0.001 * Double(seconds * outputRate)
        #expect(abs(Double(-totalCorrection) - uncorrected) < oneVideoFrame,
                "corrected \(-totalCorrection) samples of \(uncorrected)")
        // And the packets the muxer gets say the same: contiguous pts, and as
        // many samples as the clock's timeline holds, within one video frame.
        let expectedTotal = Double(inputFrames) / actualRate * Double(outputRate)
        #expect(orderedAndContiguous)
        #expect(abs(Double(packetSamples) - expectedTotal) <= oneVideoFrame,
                "packets hold \(packetSamples) samples, the clock \(expectedTotal)")
        #expect(packetCount >= seconds * outputRate / 1024)
        #expect(encoder.packetPool.overflowCount == 0)
        #expect(encoder.packetPool.availableCount == encoder.packetPool.capacity)
    }
}
