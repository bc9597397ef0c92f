@testable import CaptureALSA
import Encoder
import Foundation
import MediaCore
@testable import RecorderEngine
import Testing

/// Issue 11, part 6: hours, not seconds. The engine's two timelines (the
/// capture's `SampleTimeline`, which places periods and fills what the device
/// did not deliver, and the encoder's `AudioTimeline`, which places chunks by
/// index and drives the resampler's compensation) and the real AAC encoder,
/// on a `ManualClock`, for four simulated hours of a device whose clock runs
/// 0.5 % fast for two hours, then 0.5 % slow, with a 2 s stall every 20
/// minutes. The A/V offset is measured after every chunk: the time its last
/// frame has in the encoder's output (samples produced, those still in the
/// resampler included), less the time the simulated device really captured
/// it. It stays within one video frame throughout and within 40 ms right
/// after each stall.
///
/// Half the stalls lose what the device captured meanwhile (a suspended
/// device, a server that discards); the other half deliver it late, in a
/// burst behind a full-looking buffer, as PulseAudio's null sink does when a
/// frozen server resumes.
///
/// 8 kHz mono in and out, and digital silence as the content: the timing
/// does not depend on the rate or on what is encoded, and silence encodes
/// five times faster than a tone, so four hours take seconds.
@Suite struct HoursOfAudioTimingTests {
    /// The simulated device: its frames' true capture times, its stalls.
    struct Device {
        static let rate = 8_000
        static let period = 80  // 10 ms
        let start: Int64
        /// Frames per second of the session clock it really delivers: 0.5 %
        /// fast for the first two hours, 0.5 % slow after.
        let fastRate = Double(rate) * 1.005, slowRate = Double(rate) * 0.995
        let switchAt: Int64 = 2 * 3600 * 1_000_000_000
        var framesAtSwitch: Double { Double(switchAt) / 1e9 * fastRate }

        /// When frame `n` was captured, on the session clock.
        func time(ofFrame n: Int64) -> Int64 {
            let frames = Double(n)
            if frames <= framesAtSwitch { return start + Int64(frames / fastRate * 1e9) }
            return start + switchAt + Int64((frames - framesAtSwitch) / slowRate * 1e9)
        }

        /// The stall (its start, clock ns) that covers `time`, and its number.
        static let stallEvery: Int64 = 20 * 60 * 1_000_000_000, stallLength: Int64 = 2_000_000_000
        func stall(at time: Int64) -> (start: Int64, number: Int64)? {
            let since = time - start
            let number = since / Self.stallEvery
            guard number > 0, since - number * Self.stallEvery < Self.stallLength else { return nil }
            return (start + number * Self.stallEvery, number)
        }
    }

    /// One chunk as the capture queues it.
    struct Chunk {
        var captureTime: Int64
        var firstFrameIndex: Int64
        var frames: Int
        /// The device frame after its last one, for a chunk of captured frames.
        var deviceEnd: Int64?
    }

    @Test func fourHoursOfADriftingDeviceWithAStallEveryTwentyMinutesStayWithinOneFrame() throws {
        let rate = Device.rate, period = Device.period
        let clock = ManualClock(start: 1_000_000_000)
        let device = Device(start: clock.now())
        let encoder = try AudioEncoder(settings: try AudioEncoderSettings(sampleRate: rate, channels: 1, bitrate: 16_000),
                                       inputFormat: AudioFormat(sampleFormat: .s16, sampleRate: rate, channels: 1))
        let zeros = [Int16](repeating: 0, count: 1024)
        // The capture's timeline, its stall threshold the device buffer's
        // 200 ms (as `CaptureLoop` makes it).
        var capture = SampleTimeline(sampleRate: rate, periodFrames: period, stallNanoseconds: 200_000_000)
        var encoding = AudioTimeline(inputRate: rate, outputRate: rate)
        let anchor = device.start
        let bufferFrames = rate / 5

        var worst = 0.0, worstAfterStall = 0.0, largestStep = 0
        var offsetsAfterStalls: [Int64: Double] = [:]
        var silence: Int64 = 0, dropped = 0, chunks = 0
        var lastStall: Int64 = -1
        var stallEnd: Int64 = 0

        func encode(_ chunk: Chunk) throws {
            let placement = encoding.place(captureTime: chunk.captureTime, firstFrameIndex: chunk.firstFrameIndex,
                                           frameCount: chunk.frames, anchor: anchor)
            var remaining = placement.silence
            while remaining > 0 {
                let count = min(remaining, zeros.count)
                try zeros.withUnsafeBytes { try encoder.encode(interleaved: $0.baseAddress!, frameCount: count) { _ in } }
                remaining -= count
            }
            if let correction = placement.correction {
                largestStep = max(largestStep, abs(correction.sampleDelta))
                try encoder.setCompensation(sampleDelta: correction.sampleDelta, distance: correction.distance)
            }
            guard placement.count > 0 else { return }
            try zeros.withUnsafeBytes { try encoder.encode(interleaved: $0.baseAddress!, frameCount: placement.count) { _ in } }
            chunks += 1
            guard let end = chunk.deviceEnd else { return }
            // Where the chunk's end is in the output, against when it was captured.
            let produced = Double(encoder.outputSampleCount + encoder.resamplerDelay) / Double(rate)
            let offset = produced - Double(device.time(ofFrame: end) - anchor) / 1e9
            if clock.now() - stallEnd < 1_000_000_000 && lastStall > 0 {
                worstAfterStall = max(worstAfterStall, abs(offset))
                offsetsAfterStalls[lastStall] = max(offsetsAfterStalls[lastStall] ?? 0, abs(offset))
            } else {
                worst = max(worst, abs(offset))
            }
        }

        /// What the capture loop does with silence: period-sized chunks.
        func fill(frames: Int64, from start: Int64) throws {
            silence += frames
            var remaining = frames, time = start
            while remaining > 0 {
                let count = Int(min(remaining, Int64(period)))
                let (stamp, index) = capture.advance(frames: count, stampedAt: time)
                try encode(Chunk(captureTime: stamp, firstFrameIndex: index, frames: count, deviceEnd: nil))
                time += capture.nanoseconds(frames: Int64(count))
                remaining -= Int64(count)
            }
        }

        /// A period read at `now` (the clock is there), `waiting` device
        /// frames still in the buffer as ALSA shows it.
        func read(period first: Int64, waiting: Int, caughtUp: Bool) throws {
            let now = clock.now()
            let measured = now - capture.nanoseconds(frames: Int64(waiting + period))
            let placement = capture.place(frames: period, measured: measured, bufferFull: waiting >= bufferFrames - period,
                                          caughtUp: caughtUp)
            if placement.gapFrames > 0 { try fill(frames: placement.gapFrames, from: placement.gapStart) }
            dropped += placement.dropFrames
            let frames = period - placement.dropFrames
            guard frames > 0 else { return }
            let (stamp, index) = capture.advance(frames: frames, stampedAt: placement.captureTime)
            try encode(Chunk(captureTime: stamp, firstFrameIndex: index, frames: frames, deviceEnd: first + Int64(period)))
        }

        let end = device.start + 4 * 3600 * 1_000_000_000
        var next: Int64 = 0        // the next device frame to deliver
        var lastRead = clock.now()
        var backlog: [Int64] = []  // periods held back during a burst-kind stall
        while clock.now() < end {
            let complete = device.time(ofFrame: next + Int64(period))
            // Delivered up to 2 ms after it is complete (the server's jitter).
            var due = complete + Int64((next / Int64(period) * 7919) % 2_000_000)
            if let stall = device.stall(at: complete) {
                if stall.number != lastStall {
                    lastStall = stall.number
                }
                if stall.number % 2 == 0 { backlog.append(next) }
                next += Int64(period)
                due = stall.start + Device.stallLength
                stallEnd = due
                // While nothing comes, the capture thread's waits time out
                // every 100 ms and the timeline follows the clock.
                while lastRead + 100_000_000 < min(due, complete) {
                    lastRead += 100_000_000
                    clock.sleep(until: lastRead)
                    if let gap = capture.idle(at: lastRead) { try fill(frames: gap.frames, from: gap.start) }
                }
                continue
            }
            while lastRead + 100_000_000 < due {
                lastRead += 100_000_000
                clock.sleep(until: lastRead)
                if let gap = capture.idle(at: lastRead) { try fill(frames: gap.frames, from: gap.start) }
            }
            clock.sleep(until: due)
            if !backlog.isEmpty {
                // The burst: read back to back, the buffer refilled from the
                // server's queue as it is read (it looks full, then short).
                var remaining = (backlog.count + 1) * period
                for first in backlog {
                    remaining -= period
                    try read(period: first, waiting: min(remaining, bufferFrames - 1), caughtUp: first == backlog[0])
                }
                backlog.removeAll()
                try read(period: next, waiting: 0, caughtUp: false)
            } else {
                try read(period: next, waiting: 0, caughtUp: due - lastRead > 1_000_000)
            }
            lastRead = clock.now()
            next += Int64(period)
        }
        try encoder.flush { _ in }

        let frame = 1.0 / 30
        print(String(format: "four hours: worst offset %.2f ms (after stalls %.2f ms), largest step %d samples, "
                     + "%.1f s silence, %.1f s dropped, %d chunks", worst * 1000, worstAfterStall * 1000, largestStep,
                     Double(silence) / Double(rate), Double(dropped) / Double(rate), chunks))
        #expect(worst <= frame, "the offset reached \(worst * 1000) ms")
        #expect(offsetsAfterStalls.count == 11, "stalls seen: \(offsetsAfterStalls.keys.sorted())")
        for (stall, offset) in offsetsAfterStalls.sorted(by: { $0.key < $1.key }) {
            #expect(offset <= 0.040, "after stall \(stall) the offset was \(offset * 1000) ms")
        }
        // Every stall is 2 s of silence; the burst-kind ones drop what came late.
        let silenceSeconds = Double(silence) / Double(rate)
        #expect(abs(silenceSeconds - 22) < 0.5, "\(silenceSeconds) s of silence for 11 stalls of 2 s")
        let droppedSeconds = Double(dropped) / Double(rate)
        #expect(abs(droppedSeconds - 10) < 0.5, "\(droppedSeconds) s dropped for 5 bursts of 2 s")
        // Never a jump: each correction is at most 1 % of its second.
        #expect(largestStep <= rate / 100, "a correction of \(largestStep) samples")
    }
}
