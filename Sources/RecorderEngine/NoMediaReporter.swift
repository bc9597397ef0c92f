import Logging
import MediaCore
import Metrics

/// Turns the encode threads' silent and unchanged runs (`NoMediaState`)
/// into `RecordingEvent.noMedia` events, log lines and metrics, on the
/// control thread: a `began` when a run reaches its threshold, an `ended`
/// when media returns after that. Metrics, with the `session` dimension:
/// gauges `recorder_audio_silent` and `recorder_video_frozen` (1 while the
/// condition holds) and counters `recorder_audio_silence_periods_total`,
/// `recorder_video_frozen_periods_total`; destroyed with the session.
final class NoMediaReporter: Sendable {
    private let detection: NoMediaDetection
    private let framesPerSecond: Int
    private let silent: Gauge
    private let frozen: Gauge
    private let silencePeriods: Counter
    private let frozenPeriods: Counter
    private let active = LockedValue(Active())

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

    deinit {
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
            var changes: [NoMediaEvent] = []
            if silenceNow != (active.silence != nil) {
                if silenceNow {
                    active.silence = mediaTime - runs.silence
                    changes.append(NoMediaEvent(kind: .silence, change: .began, lasted: runs.silence, mediaTime: mediaTime))
                } else {
                    changes.append(NoMediaEvent(kind: .silence, change: .ended,
                                                lasted: mediaTime - runs.silence - active.silence!, mediaTime: mediaTime))
                    active.silence = nil
                }
            }
            if frozenNow != (active.frozen != nil) {
                if frozenNow {
                    active.frozen = mediaTime - runs.frozen
                    changes.append(NoMediaEvent(kind: .frozenPicture, change: .began, lasted: runs.frozen, mediaTime: mediaTime))
                } else {
                    changes.append(NoMediaEvent(kind: .frozenPicture, change: .ended,
                                                lasted: mediaTime - runs.frozen - active.frozen!, mediaTime: mediaTime))
                    active.frozen = nil
                }
            }
            return changes
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

    private func report(_ event: NoMediaEvent, events: EventBroadcast, logger: Logger) {
        if event.change == .began {
            logger.warning("no media: \(event)", metadata: ["kind": "\(event.kind.rawValue)"])
        } else {
            logger.notice("media back: \(event)", metadata: ["kind": "\(event.kind.rawValue)"])
        }
        events.send(.noMedia(event))
    }
}
