import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one clock every capture source stamps media on: nanoseconds on a
/// monotonic timeline.
///
/// The pipeline is generic over the clock so that tests can drive time
/// (`ManualClock`) while production uses `MonotonicClock` with no dynamic
/// dispatch on the hot path.
public protocol MediaClock: Sendable {
    /// The current time in nanoseconds.
    func now() -> Int64
    /// Blocks the calling thread until `deadline` (absolute, on this clock).
    /// Returns at once when the deadline has passed.
    func sleep(until deadline: Int64)
}

/// `CLOCK_MONOTONIC` in nanoseconds: the clock ALSA's monotonic status
/// timestamps and `clock_nanosleep(TIMER_ABSTIME)` share.
public struct MonotonicClock: MediaClock {
    public init() {}

    @inline(__always)
    public func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    public func sleep(until deadline: Int64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        // Absolute deadlines: an interrupted sleep resumes toward the same instant,
        // so pacing never accumulates the error of relative sleeps.
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}

/// A clock that moves only when told to, for tests. `sleep(until:)` advances the
/// clock to the deadline at once, so paced loops run as fast as the CPU allows
/// on a simulated timeline.
public final class ManualClock: MediaClock {
    private let current: Atomic<Int64>

    /// Creates a clock that reads `start` nanoseconds.
    public init(start: Int64 = 0) {
        current = Atomic(start)
    }

    public func now() -> Int64 { current.load(ordering: .acquiring) }

    public func sleep(until deadline: Int64) {
        var observed = current.load(ordering: .relaxed)
        while observed < deadline {
            let (exchanged, original) = current.compareExchange(
                expected: observed, desired: deadline, ordering: .acquiringAndReleasing)
            if exchanged { return }
            observed = original
        }
    }

    /// Moves the clock forward by `nanoseconds`.
    public func advance(by nanoseconds: Int64) {
        precondition(nanoseconds >= 0, "a monotonic clock never goes back")
        current.add(nanoseconds, ordering: .acquiringAndReleasing)
    }
}

extension Int64 {
    /// Nanoseconds per second, for readable conversions.
    public static let nanosecondsPerSecond: Int64 = 1_000_000_000
}
