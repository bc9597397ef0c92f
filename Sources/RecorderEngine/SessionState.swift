import MediaCore
import Synchronization

/// What the session's threads share: stop flags, the timeline anchor and the
/// counters. Every field is an atomic, so no thread ever waits on a lock.
final class SessionState: Sendable {
    /// Someone asked the session to stop (stop(), a signal, the duration).
    let stopRequested = Atomic<Bool>(false)
    /// The capture threads have stopped; encoders drain what is queued and flush.
    let captureEnded = Atomic<Bool>(false)
    let videoEncodingDone = Atomic<Bool>(false)
    let audioEncodingDone = Atomic<Bool>(false)
    /// Session time of output frame 0 (the first frame's capture time); the
    /// audio thread waits for it. `Int64.min` until known.
    let anchor = Atomic<Int64>(.min)
    let counters = MediaCounters()
    let framesEncoded = Atomic<Int>(0)
    let framesDuplicated = Atomic<Int>(0)
    let framesDroppedExcess = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    /// The x264 threads the video encoder runs now.
    let encoderThreads = Atomic<Int>(0)
    /// Audio minus video, in microseconds, as the drift correction last measured.
    let audioOffsetMicroseconds = Atomic<Int>(0)
    /// The first fatal error's message; set once.
    let failure = Mutex<String?>(nil)

    func fail(_ message: String) {
        failure.withLock { if $0 == nil { $0 = message } }
        stopRequested.store(true, ordering: .releasing)
    }
}

/// Sleeps a little while a worker has nothing to do. Five milliseconds keeps a
/// frame's extra latency far below its 33 ms (and half an audio period) while
/// costing about 200 wake-ups a second per worker (at 2 ms the three workers
/// woke 1500 times a second; `capbench pipeline` at 720p veryfast went from
/// 0.81x to 0.75x ffmpeg's CPU with this change, within that run's noise).
@inline(__always)
func idle() {
    var request = timespec(tv_sec: 0, tv_nsec: 5_000_000)
    nanosleep(&request, nil)
}

extension SPSCRing where Element: ~Copyable {
    /// Pushes from an encoder thread, waiting while the ring is full. Packets
    /// are never dropped between encoder and mux (a hole would break decoding);
    /// the mux thread only hands them to sinks that never block, so a full
    /// ring clears within milliseconds.
    @inline(__always)
    func pushWaiting(_ element: consuming Element) {
        var pending = push(element)
        while let refused = pending.take() {
            idle()
            pending = push(refused)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
