import Logging
import MediaCore
import Metrics
import Synchronization

/// Turns the encode threads' silent and unchanged runs (`NoMediaState`)
/// into `RecordingEvent.noMedia` events, log lines and metrics, on the
/// control thread: a `began` when a run reaches its threshold, an `ended`
/// when media returns after that. Metrics, with the `session` dimension:
/// gauges `recorder_audio_silent` and `recorder_video_frozen` (1 while the
/// condition holds) and counters `recorder_audio_silence_periods_total`,
/// `recorder_video_frozen_periods_total`; destroyed with the session (or
/// sooner, `RecordingSession.releaseMetrics()`).
final class NoMediaReporter: Sendable {
    private let detection: NoMediaDetection
    private let framesPerSecond: Int
    private let silent: Gauge
    private let frozen: Gauge
    private let silencePeriods: Counter
    private let frozenPeriods: Counter
    private let active = LockedValue(Active())
    private let destroyed = Atomic(false)

    /// Media time at which each condition began, while it holds.
    private struct Active {
        var silence: Duration?
        var frozen: Duration?
    }

    init(session: String, detection: NoMediaDetection, framesPerSecond: Int) {
        self.detection = detection
        self.framesPerSecond = framesPerSecond
        let dimensions = [("session", session)]
        silent = Gauge(label: "recorder_audio_silent", dimensions: dimensions)
        frozen = Gauge(label: "recorder_video_frozen", dimensions: dimensions)
        silencePeriods = Counter(label: "recorder_audio_silence_periods_total", dimensions: dimensions)
        frozenPeriods = Counter(label: "recorder_video_frozen_periods_total", dimensions: dimensions)
    }

    deinit { destroyMetrics() }

    /// Takes the four series out of the backend (once; later calls do nothing).
    func destroyMetrics() {
        guard !destroyed.exchange(true, ordering: .relaxed) else { return }
        silent.destroy()
        frozen.destroy()
        silencePeriods.destroy()
        frozenPeriods.destroy()
    }

    /// The current silent and unchanged runs as durations.
    static func runs(_ state: NoMediaState, framesPerSecond: Int) -> (silence: Duration, frozen: Duration) {
        let rate = state.silentFrameRate.load(ordering: .relaxed)
        let silence: Duration = rate > 0
            ? .nanoseconds(Int64(state.silentFrames.load(ordering: .relaxed)) * .nanosecondsPerSecond / Int64(rate)) : .zero
        let frozen: Duration = .nanoseconds(Int64(state.unchangedFrames.load(ordering: .relaxed)) * .nanosecondsPerSecond
                                            / Int64(max(1, framesPerSecond)))
        return (silence, frozen)
    }

    /// Compares the runs with the thresholds and reports what changed.
    func check(_ state: NoMediaState, mediaTime: Duration, events: EventBroadcast, logger: Logger) {
        let runs = Self.runs(state, framesPerSecond: framesPerSecond)
        let silenceNow = detection.silenceDuration.map { runs.silence >= $0 } ?? false
        let frozenNow = detection.frozenDuration.map { runs.frozen >= $0 } ?? false
        // Each condition's media-time start while it holds: `ended` reports
        // how long it lasted, which the threads' reset run no longer says.
        let changes = active.withLock { active -> [NoMediaEvent] in
            [Self.transition(.silence, holds: silenceNow, run: runs.silence, since: &active.silence, at: mediaTime),
             Self.transition(.frozenPicture, holds: frozenNow, run: runs.frozen, since: &active.frozen, at: mediaTime)]
                .compactMap { $0 }
        }
        for event in changes {
            let began = event.change == .began
            switch event.kind {
            case .silence:
                silent.record(began ? 1 : 0)
                if began { silencePeriods.increment() }
            case .frozenPicture:
                frozen.record(began ? 1 : 0)
                if began { frozenPeriods.increment() }
            }
            report(event, events: events, logger: logger)
        }
    }

    /// The event when a condition starts or stops holding; `since` keeps the
    /// media time it began while it holds.
    private static func transition(_ kind: NoMediaEvent.Kind, holds: Bool, run: Duration, since: inout Duration?,
                                   at mediaTime: Duration) -> NoMediaEvent? {
        guard holds != (since != nil) else { return nil }
        if holds {
            since = mediaTime - run
            return NoMediaEvent(kind: kind, change: .began, lasted: run, mediaTime: mediaTime)
        }
        defer { since = nil }
        return NoMediaEvent(kind: kind, change: .ended, lasted: mediaTime - run - since!, mediaTime: mediaTime)
    }

    private func report(_ event: NoMediaEvent, events: EventBroadcast, logger: Logger) {
        if event.change == .began {
            logger.warning("no media: \(event)", metadata: ["kind": "\(event.kind.rawValue)"])
        } else {
            logger.notice("media back: \(event)", metadata: ["kind": "\(event.kind.rawValue)"])
        }
        events.send(.noMedia(event))
    }
}
