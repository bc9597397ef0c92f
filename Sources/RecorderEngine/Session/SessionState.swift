import MediaCore
import MediaPackets
import Synchronization

/// What a running session's threads share: how it is to stop, the timeline
/// anchor, the counters, and the wake-ups between stages. Every field the
/// media threads touch is an atomic, so none of them waits on a lock.
final class SessionState: Sendable {
    /// How a stop was asked for, strongest last: a request never weakens.
    enum StopKind: Int, Comparable {
        case none = 0
        /// The duration was reached, `stop()` or a graceful shutdown: encode
        /// what is queued, finish the file and the streams, run the script.
        case graceful = 1
        /// Task cancellation: drop what is queued, finish the file with what
        /// was encoded, close the streams at once, skip the script.
        case immediately = 2

        static func < (lhs: StopKind, rhs: StopKind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let stop = Atomic<Int>(StopKind.none.rawValue)
    /// Why the recording stopped, first reason wins.
    let stopReason = LockedValue<RecordingResult.StopReason?>(nil)
    /// The capture threads have stopped; encoders drain what is queued and flush.
    let captureEnded = Atomic<Bool>(false)
    let videoEncodingDone = Atomic<Bool>(false)
    let audioEncodingDone = Atomic<Bool>(false)
    /// Session time of output frame 0 (grab 0's deadline); the audio thread
    /// waits for it. `Int64.min` until known.
    let anchor = Atomic<Int64>(.min)
    let counters = MediaCounters()
    /// Silent and unchanged runs, from the encode threads.
    let noMedia = NoMediaState()
    let framesEncoded = Atomic<Int>(0)
    /// Where a graceful stop ends the sound, session time: the video's end
    /// as the control thread estimates it once the video capture stopped.
    /// `Int64.max` until then.
    let audioEnd = Atomic<Int64>(.max)
    /// The audio encoder has placed sound up to `audioEnd`.
    let audioReachedEnd = Atomic<Bool>(false)
    /// Wakes the control thread waiting for the sound to reach `audioEnd`.
    let audioEndWake = WakeSignal()
    /// Input frames (device rate) the audio encoder placed on the timeline:
    /// the media time of a recording of sound alone.
    let audioFramesPlaced = Atomic<Int>(0)
    let framesDuplicated = Atomic<Int>(0)
    let framesDroppedExcess = Atomic<Int>(0)
    let bytesWritten = Atomic<Int>(0)
    /// The x264 threads the video encoder runs now.
    let encoderThreads = Atomic<Int>(0)
    /// Audio minus video, in microseconds, as the drift correction last measured.
    let audioOffsetMicroseconds = Atomic<Int>(0)
    /// Nanoseconds each video frame took to convert and encode, for the
    /// encode-time metric: written by the encode thread, drained by the
    /// control thread at each statistics tick (full: the sample is skipped).
    let encodeTimes = SPSCRing<Int64>(minimumCapacity: 512)
    /// The first fatal error; set once.
    let failure = LockedValue<RecordingError?>(nil)
    /// The paused stretches of the timeline (`RecordingSession.pause()`).
    let pauses: PauseSchedule

    /// `pauseUnitRate`: the units pauses are cut in (the frame rate; for
    /// sound alone, milliseconds).
    init(pauseUnitRate: Int = 1000) {
        pauses = PauseSchedule(unitRate: pauseUnitRate)
    }

    /// Wakes the control thread: a stop request, a failure, the end.
    let controlWake = WakeSignal()
    /// Wakes the mux thread: a packet was queued or an encoder finished.
    let packetsReady = WakeSignal()
    /// Wakes an encoder waiting for room in its packet ring (the mux took some).
    let packetSpace = WakeSignal()
    /// Wakes the audio encoder waiting for the video anchor.
    let anchorReady = WakeSignal()

    var stopKind: StopKind { StopKind(rawValue: stop.load(ordering: .acquiring)) ?? .none }
    var stopRequested: Bool { stop.load(ordering: .acquiring) != StopKind.none.rawValue }

    /// Asks for a stop of `kind` (kept if a stronger one was asked before)
    /// and wakes the control thread.
    func requestStop(_ kind: StopKind, reason: RecordingResult.StopReason) {
        stopReason.withLock { if $0 == nil { $0 = reason } }
        var current = stop.load(ordering: .relaxed)
        while current < kind.rawValue {
            let (exchanged, original) = stop.compareExchange(expected: current, desired: kind.rawValue,
                                                             ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        controlWake.notify()
    }

    /// Records the first fatal error and asks for a graceful stop: what was
    /// recorded is finished and kept.
    func fail(_ error: RecordingError) {
        failure.withLock { if $0 == nil { $0 = error } }
        requestStop(.graceful, reason: .failed)
    }
}

extension SPSCRing where Element: ~Copyable {
    /// Pushes from an encoder thread, sleeping while the ring is full.
    /// Packets are never dropped between encoder and mux (a hole would break
    /// decoding); the mux thread hands them to sinks that never block, so a
    /// full ring clears within milliseconds, and it signals `space` as it does.
    ///
    /// `notify`: whether to wake the consumer for this element (a producer
    /// whose elements the consumer cannot use alone may leave it asleep).
    @inline(__always)
    func pushWaiting(_ element: consuming Element, ready: WakeSignal, space: WakeSignal, notify: Bool = true) {
        var pending = push(element)
        while let refused = pending.take() {
            let ticket = space.prepareToWait()
            pending = push(refused)
            if let stillRefused = pending.take() {
                space.wait(ticket)
                pending = push(stillRefused)
            } else {
                space.cancelWait()
            }
        }
        if notify { ready.notify() }
    }

    /// Pops from a capture ring on an encoder thread, sleeping on `ready`
    /// while it is empty. Nil once capture has ended and the ring is empty,
    /// or at once when the session is cancelled (what is queued is dropped).
    @inline(__always)
    func popWaiting(ready: WakeSignal, state: SessionState) -> Element? {
        while true {
            if state.stopKind == .immediately { return nil }
            if let element = pop() { return element }
            let ticket = ready.prepareToWait()
            if let element = pop() {
                ready.cancelWait()
                return element
            }
            if state.captureEnded.load(ordering: .acquiring) || state.stopKind == .immediately {
                ready.cancelWait()
                if state.stopKind == .immediately { return nil }
                // The capture thread has been joined: what it queued is here.
                return pop()
            }
            ready.wait(ticket)
        }
    }
}
