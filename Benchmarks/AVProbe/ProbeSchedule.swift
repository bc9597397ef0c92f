/// When the sync probe's events happen, on the monotonic clock: about one a
/// period, each late by a fixed pseudo-random amount of up to `jitter`.
///
/// Why irregular: with events exactly a second apart, a recorder at 30 fps
/// would show every flash the same part of a frame late (a second is a
/// whole number of frames), a constant bias that averaging cannot reveal;
/// spread over many frames it averages to half a frame and shows as the
/// spread it is. And the irregular gaps (0.6 to 1.4 s by default) make the
/// sequence of flashes in a file match the sequence of beeps at one shift
/// only, so an offset of more than half a period is still paired right.
package struct ProbeSchedule: Sendable {
    /// The nominal time of event 0, in nanoseconds.
    package let start: Int64
    /// Nanoseconds between nominal event times.
    package let period: Int64
    /// Each event is late by a fixed pseudo-random amount in [0, jitter).
    package let jitter: Int64

    package init(start: Int64, period: Int64 = 1_000_000_000, jitter: Int64) {
        precondition(period > 0 && jitter >= 0 && jitter < period / 2)
        self.start = start
        self.period = period
        self.jitter = jitter
    }

    /// The instant event `k` flashes and beeps.
    package func time(of k: Int) -> Int64 {
        start + Int64(k) * period + phase(k)
    }

    /// The event whose instant is nearest `time` (may be negative).
    package func event(near time: Int64) -> Int {
        let k = Int(((Double(time - start) - Double(jitter) / 2) / Double(period)).rounded())
        return [k - 1, k, k + 1].min { abs(self.time(of: $0) - time) < abs(self.time(of: $1) - time) }!
    }

    /// SplitMix64 of `k`: reproducible, evenly spread phases.
    private func phase(_ k: Int) -> Int64 {
        guard jitter > 0 else { return 0 }
        var z = UInt64(bitPattern: Int64(k)) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int64(z % UInt64(jitter))
    }
}
