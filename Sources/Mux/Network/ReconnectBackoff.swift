/// How long a network sink waits before each attempt to reconnect:
/// exponential backoff with jitter, capped.
///
/// Retry `n` (1, 2, ...) of one outage waits
/// `min(maximumDelay, initialDelay * multiplier^(n-1))`, less a random part
/// of up to `jitter` of it: with the defaults 1.5-2 s, 3-4 s, 6-8 s, 12-16 s,
/// then 22.5-30 s for every later retry. The jitter only shortens the wait,
/// so a restarted server is found again no later than the nominal delay,
/// while many recorders that lost the same server do not return in lockstep.
public struct ReconnectBackoff: Sendable, Equatable {
    /// Seconds before the first retry.
    public var initialDelay: Double
    /// Growth from one retry to the next.
    public var multiplier: Double
    /// The longest wait, in seconds.
    public var maximumDelay: Double
    /// The largest fraction of a wait taken off at random (0...1).
    public var jitter: Double

    public init(initialDelay: Double = 2, multiplier: Double = 2, maximumDelay: Double = 30, jitter: Double = 0.25) {
        precondition(initialDelay >= 0 && multiplier >= 1 && maximumDelay >= initialDelay && (0...1).contains(jitter))
        self.initialDelay = initialDelay
        self.multiplier = multiplier
        self.maximumDelay = maximumDelay
        self.jitter = jitter
    }

    /// The nominal wait before retry `retry` (1-based), without jitter.
    public func nominalDelay(beforeRetry retry: Int) -> Double {
        precondition(retry >= 1)
        var delay = initialDelay
        var step = 1
        while step < retry && delay < maximumDelay {
            delay *= multiplier
            step += 1
        }
        return min(delay, maximumDelay)
    }

    /// The wait before retry `retry`, with `unitRandom` (0..<1) choosing
    /// how much jitter to take off.
    public func delay(beforeRetry retry: Int, unitRandom: Double) -> Double {
        nominalDelay(beforeRetry: retry) * (1 - jitter * unitRandom)
    }

    /// The wait before retry `retry`, with fresh randomness.
    public func delay(beforeRetry retry: Int) -> Double {
        delay(beforeRetry: retry, unitRandom: Double.random(in: 0..<1))
    }
}
