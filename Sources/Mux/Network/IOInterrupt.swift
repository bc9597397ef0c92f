import CFFmpeg
import MediaCore
import Synchronization

/// What lets a network sink get out of a blocking libavformat call: the
/// `AVIOInterruptCB` libavformat polls (about every 100 ms) while it
/// connects, handshakes, writes or closes. Any thread may arm it; the sink's
/// own thread is the one blocked.
///
/// It fires when `abort()` was called (the connection is given up: stop, or a
/// stalled queue) or when the deadline passes (connecting, or draining at
/// stop), and then libavformat returns `AVERROR_EXIT`.
final class IOInterrupt: Sendable {
    private let aborted = Atomic<Bool>(false)
    /// `CLOCK_MONOTONIC` nanoseconds; `Int64.max` for none.
    private let deadline = Atomic<Int64>(.max)
    private let clock = MonotonicClock()

    /// Makes every blocking call fail until `reset()`.
    func abort() { aborted.store(true, ordering: .releasing) }

    /// Lets blocking calls run again, with no deadline.
    func reset() {
        deadline.store(.max, ordering: .relaxed)
        aborted.store(false, ordering: .releasing)
    }

    /// Lets blocking calls run for at most `seconds` from now.
    func arm(seconds: Double) {
        deadline.store(clock.now() + Int64(seconds * 1e9), ordering: .releasing)
    }

    /// Removes the deadline.
    func disarm() { deadline.store(.max, ordering: .releasing) }

    var hasFired: Bool {
        aborted.load(ordering: .acquiring) || clock.now() > deadline.load(ordering: .acquiring)
    }

    /// The callback for libavformat; `self` must outlive the calls using it.
    var callback: AVIOInterruptCB {
        AVIOInterruptCB(callback: { opaque in
            Unmanaged<IOInterrupt>.fromOpaque(opaque!).takeUnretainedValue().hasFired ? 1 : 0
        }, opaque: Unmanaged.passUnretained(self).toOpaque())
    }
}
