package import MediaCore
import Foundation

/// When a running playback stream's sample 0 is heard, on the monotonic
/// clock: once a stream runs, sample `s` is heard at `t0 + s / rate` for one
/// `t0`, so a beep can be placed at any instant to the sample.
///
/// `t0` is estimated after every clean write as `now - (written - delay) /
/// rate` (ALSA's `delay` through the `pulse` plugin includes the sound
/// server's latency); the median of the last hundred estimates is used,
/// which rejects a preempted measurement. Fifty estimates are needed first:
/// the server's latency estimate is unreliable while a stream starts.
package struct StreamOrigin {
    private var estimates: [Int64] = []

    package init() {}

    /// Enough estimates to place a beep.
    package var isSettled: Bool { estimates.count >= 50 }
    /// The median estimate, ns (meaningful once settled).
    package var value: Int64 { estimates.sorted()[estimates.count / 2] }
    /// Largest less smallest of the kept estimates, ns: how far a placement may be off.
    package var spread: Int64 { (estimates.max() ?? 0) - (estimates.min() ?? 0) }

    /// Forgets every estimate: the stream restarted (an underrun) and its origin moved.
    package mutating func reset() { estimates.removeAll() }

    /// Adds an estimate after a clean write of `written` frames in all at
    /// `rate`: `delay` is read between two clock readings, and a reading the
    /// thread was preempted in (the two more than 1 ms apart) is not used.
    package mutating func measure(written: Int64, rate: Int64, clock: MonotonicClock, delay: () -> Int?) {
        let before = clock.now()
        let frames = delay()
        let after = clock.now()
        guard let frames, after - before < 1_000_000 else { return }
        let now = before + (after - before) / 2
        estimates.append(now - (written - Int64(frames)) * 1_000_000_000 / rate)
        if estimates.count > 100 { estimates.removeFirst() }
    }

    /// Adds the part of a beep starting at sample `first` (a 1 kHz cosine at
    /// half scale, `frames` long: it starts at full amplitude, a sharp,
    /// findable onset) that falls in the chunk of `buffer.count / channels`
    /// frames starting at sample `written`.
    package static func addBeep(startingAt first: Int64, frames: Int64, into buffer: inout [Int16], written: Int64,
                                channels: Int, rate: Int64, frequency: Double = 1000, amplitude: Double = 0.5) {
        let chunk = Int64(buffer.count / channels)
        let from = max(first, written), to = min(first + frames, written + chunk)
        guard from < to else { return }
        for sample in from..<to {
            let phase = 2 * Double.pi * frequency * Double(sample - first) / Double(rate)
            let value = Int16(amplitude * 32767 * cos(phase))
            let offset = Int(sample - written) * channels
            for channel in 0..<channels { buffer[offset + channel] = value }
        }
    }
}
