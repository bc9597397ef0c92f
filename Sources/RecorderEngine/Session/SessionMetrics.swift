import MediaCore
import Metrics
import Mux
import Synchronization

/// A session's metrics, through swift-metrics (the embedding program picks
/// the backend; without one they cost nothing), each with the `session`
/// dimension and, for streams, a `stream` dimension counting from 0 (never
/// the URL: it may carry a secret, and it is unbounded).
///
/// Names follow Prometheus' conventions: `_total` for counters, base units
/// (seconds, bytes). The media threads never call a backend: counters are
/// atomics they bump, and the control thread moves the increments since its
/// last tick into the metrics (`update(with:)`), so a backend's locks stay
/// off the hot paths. The encode-time timer gets every frame's sample, queued
/// by the encode thread in a lock-free ring.
///
/// The metrics live as long as the session object: a daemon can read a
/// finished recording's totals until it lets the session go, and then they are
/// destroyed, so the series do not grow with the recordings a process ran
/// (or sooner: `RecordingSession.releaseMetrics()`).
final class SessionMetrics: Sendable {
    private let framesCaptured: Counter
    private let framesEncoded: Counter
    private let framesDropped: Counter
    private let framesDuplicated: Counter
    private let lateGrabs: Counter
    /// Frames that brought no change (DAMAGE reported none, or the grab
    /// showed the same pixels; nothing converted); their share of
    /// `framesCaptured` is how still the screen was.
    private let framesUnchanged: Counter
    /// Output frames written as all-skipped pictures, without x264.
    private let skipPictures: Counter
    private let audioOverruns: Counter
    private let audioSilence: FloatingPointCounter
    private let bytesWritten: Counter
    private let avOffset: Gauge
    private let encoderThreads: Gauge
    private let videoQueue: Gauge
    private let audioQueue: Gauge
    private let encodeTime: Timer
    /// One per stream so far (configured, then added while recording).
    private let streams: LockedValue<[StreamMetrics]>
    private let pausedSeconds: FloatingPointCounter
    private let pauses: Counter
    private let session: String
    private let last = LockedValue(RecordingStatistics())
    private let destroyed = Atomic(false)

    struct StreamMetrics: Sendable {
        let connections: Counter
        let reconnects: Counter
        let droppedPackets: Counter
        let queued: Gauge

        init(session: String, index: Int) {
            let dimensions = [("session", session), ("stream", String(index))]
            connections = Counter(label: "recorder_stream_connections_total", dimensions: dimensions)
            reconnects = Counter(label: "recorder_stream_reconnects_total", dimensions: dimensions)
            droppedPackets = Counter(label: "recorder_stream_dropped_packets_total", dimensions: dimensions)
            queued = Gauge(label: "recorder_stream_queue_seconds", dimensions: dimensions)
        }

        func destroy() {
            connections.destroy()
            reconnects.destroy()
            droppedPackets.destroy()
            queued.destroy()
        }
    }

    init(session: String, streamCount: Int) {
        let dimensions = [("session", session)]
        framesCaptured = Counter(label: "recorder_video_frames_captured_total", dimensions: dimensions)
        framesEncoded = Counter(label: "recorder_video_frames_encoded_total", dimensions: dimensions)
        framesDropped = Counter(label: "recorder_video_frames_dropped_total", dimensions: dimensions)
        framesDuplicated = Counter(label: "recorder_video_frames_duplicated_total", dimensions: dimensions)
        lateGrabs = Counter(label: "recorder_video_late_grabs_total", dimensions: dimensions)
        framesUnchanged = Counter(label: "recorder_video_frames_unchanged_total", dimensions: dimensions)
        skipPictures = Counter(label: "recorder_video_skip_pictures_total", dimensions: dimensions)
        audioOverruns = Counter(label: "recorder_audio_overruns_total", dimensions: dimensions)
        audioSilence = FloatingPointCounter(label: "recorder_audio_silence_filled_seconds_total", dimensions: dimensions)
        bytesWritten = Counter(label: "recorder_written_bytes_total", dimensions: dimensions)
        avOffset = Gauge(label: "recorder_av_offset_seconds", dimensions: dimensions)
        encoderThreads = Gauge(label: "recorder_encoder_threads", dimensions: dimensions)
        videoQueue = Gauge(label: "recorder_video_queue_frames", dimensions: dimensions)
        audioQueue = Gauge(label: "recorder_audio_queue_seconds", dimensions: dimensions)
        encodeTime = Timer(label: "recorder_video_encode_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        streams = LockedValue((0..<streamCount).map { StreamMetrics(session: session, index: $0) })
        pausedSeconds = FloatingPointCounter(label: "recorder_paused_seconds_total", dimensions: dimensions)
        pauses = Counter(label: "recorder_pauses_total", dimensions: dimensions)
        self.session = session
    }

    deinit { destroy() }

    /// Takes every series out of the backend (once; later calls do nothing).
    func destroy() {
        guard !destroyed.exchange(true, ordering: .relaxed) else { return }
        for metric in [framesCaptured, framesEncoded, framesDropped, framesDuplicated, lateGrabs, framesUnchanged,
                       skipPictures, audioOverruns, bytesWritten, pauses] {
            metric.destroy()
        }
        audioSilence.destroy()
        pausedSeconds.destroy()
        for gauge in [avOffset, encoderThreads, videoQueue, audioQueue] { gauge.destroy() }
        encodeTime.destroy()
        for stream in streams.withLock({ $0 }) { stream.destroy() }
    }

    /// Moves what changed since the last call into the metrics.
    /// `audioRate` converts silence frames to seconds; the queue depths are
    /// the rings' fill now.
    func update(with now: RecordingStatistics, audioRate: Int?, videoQueued: Int, audioQueued: Duration) {
        let before = last.withLock { last in
            defer { last = now }
            return last
        }
        increment(framesCaptured, now.framesCaptured - before.framesCaptured)
        increment(framesEncoded, now.framesEncoded - before.framesEncoded)
        increment(framesDropped, now.framesDropped - before.framesDropped)
        increment(framesDuplicated, now.framesDuplicated - before.framesDuplicated)
        increment(lateGrabs, now.lateGrabs - before.lateGrabs)
        increment(framesUnchanged, now.framesUnchanged - before.framesUnchanged)
        increment(skipPictures, now.skipPictures - before.skipPictures)
        increment(audioOverruns, now.audioOverruns - before.audioOverruns)
        increment(bytesWritten, now.bytesWritten - before.bytesWritten)
        if let audioRate, now.audioSilenceFrames > before.audioSilenceFrames {
            audioSilence.increment(by: Double(now.audioSilenceFrames - before.audioSilenceFrames) / Double(audioRate))
        }
        avOffset.record(now.audioVideoOffset.seconds)
        encoderThreads.record(now.encoderThreads)
        videoQueue.record(videoQueued)
        audioQueue.record(audioQueued.seconds)
        increment(pauses, now.pauses - before.pauses)
        if now.pausedDuration > before.pausedDuration {
            pausedSeconds.increment(by: (now.pausedDuration - before.pausedDuration).seconds)
        }
        let streams = self.streams.withLock { streams in
            while streams.count < now.streams.count {
                streams.append(StreamMetrics(session: session, index: streams.count))
            }
            return streams
        }
        for (index, stream) in now.streams.enumerated() where index < streams.count {
            let previous = index < before.streams.count ? before.streams[index] : NetworkSinkStatistics(url: stream.url)
            let metrics = streams[index]
            increment(metrics.connections, stream.connections - previous.connections)
            // Every connection after the first is a reconnection.
            increment(metrics.reconnects, max(0, stream.connections - 1) - max(0, previous.connections - 1))
            increment(metrics.droppedPackets, Self.dropped(stream) - Self.dropped(previous))
            metrics.queued.record(stream.queued.seconds)
        }
    }

    /// One frame's conversion and encode time, in nanoseconds.
    func recordEncodeTime(nanoseconds: Int64) {
        encodeTime.recordNanoseconds(nanoseconds)
    }

    private static func dropped(_ stream: NetworkSinkStatistics) -> Int {
        stream.videoPacketsDropped + stream.packetsDroppedQueueFull + stream.packetsDiscardedOffline
    }

    private func increment(_ counter: Counter, _ amount: Int) {
        if amount > 0 { counter.increment(by: amount) }
    }
}
