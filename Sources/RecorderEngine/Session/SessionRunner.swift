import CaptureALSA
import CaptureX11
import Logging
import MediaCore
import MediaPackets
import Mux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a session runs on its control thread: open, start, report statistics
/// until a stop is asked for, stop, finish the file, run the finalize script.
///
/// The runner holds the session's shared state but not the session: the
/// public `RecordingSession` holds it, and the control thread's body holds it
/// only while it runs. The pipeline (every capture, encoder, sink and worker
/// thread) is a local of `run()`: it is stopped, joined and released before
/// `run()` returns, so when the caller hears the result, nothing of the
/// recording is left running or allocated.
final class SessionRunner: Sendable {
    let id: String
    let configuration: RecordingConfiguration
    let logger: Logger
    let events: EventBroadcast
    let state: SessionState
    let metrics: SessionMetrics
    let account: CPUAccount
    let logTarget: LogTarget
    let noMedia: NoMediaReporter
    /// The checked streams (URL, protocol and its options, CA bundles), and their URLs.
    let streamDestinations: [StreamDestination]
    let streamURLs: [StreamURL]
    let clock = MonotonicClock()
    /// What statistics are read from while recording; the final ones after.
    let source = LockedValue<StatisticsSource>(.notStarted)
    /// Held while a stream is added or removed (one change at a time), with
    /// the redaction registrations of the streams added.
    let streamChanges = LockedValue<[SecretRedaction.Token]>([])

    enum StatisticsSource {
        case notStarted
        case running(LiveParts)
        case finished(RecordingStatistics)
    }

    /// The pieces of a running pipeline that statistics read (all
    /// thread-safe), and the pipeline streams are added to.
    struct LiveParts: @unchecked Sendable {
        let pipeline: SessionPipeline
        let startTime: Int64
        /// The video's rate; nil for sound alone, timed by `audioRate`.
        let framesPerSecond: Int?
        let audioRate: Int
        let encodes: [VideoEncode]
        let fileSegments: SegmentLog
        let hlsSegments: SegmentLog
        /// Rates over the last statistics interval.
        var framesPerSecondNow: Double = 0
        var bitrateNow: Double = 0
    }

    init(id: String, configuration: RecordingConfiguration, logger: Logger, events: EventBroadcast,
         streamDestinations: [StreamDestination], tag: String) {
        self.id = id
        self.configuration = configuration
        self.logger = logger
        self.events = events
        self.streamDestinations = streamDestinations
        state = SessionState(pauseUnitRate: configuration.recordsVideo ? configuration.capture.framesPerSecond : 1000)
        streamURLs = streamDestinations.map(\.url)
        metrics = SessionMetrics(session: id, streamCount: streamURLs.count)
        account = CPUAccount(tag: tag)
        logTarget = LogTarget(logger: logger)
        noMedia = NoMediaReporter(session: id, detection: configuration.noMedia,
                                  framesPerSecond: configuration.capture.framesPerSecond)
    }

    /// The statistics now: live counters while recording, the final ones after.
    var statistics: RecordingStatistics {
        let current = source.withLock { $0 }
        switch current {
        case .notStarted: return RecordingStatistics()
        case let .finished(statistics): return statistics
        case let .running(parts): return snapshot(parts)
        }
    }

    // MARK: The control thread

    /// Records from start to finish on the calling thread (the session's
    /// control thread). Returns the result, or the error that kept the
    /// recording from starting (nothing was written then).
    func run() -> Result<RecordingResult, RecordingError> {
        let membership = OpenSessionCount.Member()
        defer { withExtendedLifetime(membership) {} }
        let secrets = SecretRedaction.register(streamDestinations.flatMap { destination -> [String] in
            if case let .srt(url, options) = destination { return url.secretParts + (options.passphrase?.secretParts ?? []) }
            return destination.url.secretParts
        })
        defer {
            SecretRedaction.unregister(secrets)
            for token in streamChanges.withLock({ $0 }) { SecretRedaction.unregister(token) }
        }
        LibavLog.install()
        let outcome = record()
        switch outcome {
        case let .success(result):
            source.withLock { $0 = .finished(result.statistics) }
            logger.info("recording stopped", metadata: [
                "reason": "\(result.stopReason)", "media_seconds": "\(result.statistics.mediaDuration.seconds)",
                "error": "\(result.error.map { "\($0)" } ?? "none")",
            ])
            events.send(.stopped(result))
        case let .failure(error):
            // The caller gets the error thrown; the log keeps a note of it.
            logger.info("recording did not start: \(error)")
            events.finish()
        }
        return outcome
    }

    private var context: MediaThread.Context {
        MediaThread.Context(tag: account.tag, logTarget: logTarget, account: account)
    }

    /// Everything between opening and the final result; the pipeline is
    /// released when this returns.
    private func record() -> Result<RecordingResult, RecordingError> {
        if state.stopRequested { return .success(notRecorded()) }
        let pipeline: SessionPipeline
        do {
            pipeline = try SessionPipeline(configuration: configuration, clock: clock, state: state)
            // Asked to stop while opening: nothing is written.
            if state.stopRequested { return .success(notRecorded()) }
            try pipeline.createFiles(configuration)
        } catch {
            return .failure(error)
        }
        var warnings: [RecordingWarning] = []
        for (index, url) in streamURLs.enumerated() {
            let output = configuration.streams[index]
            if output.tls == .disabled && url.scheme == .rtmps {
                warnings.append(.insecureTLS(url: url.redacted))
            }
            pipeline.addStream(NetworkSink(
                destination: streamDestinations[index],
                streams: pipeline.streamParameters(encode: pipeline.plan.streamEncodes[index]),
                maxReconnects: output.maxReconnects
            ) { [events, state, logger] change in
                logger.notice("stream \(index) \(url.redacted): \(change)")
                events.send(.stream(StreamEvent(index: index, url: url.redacted, change: change)))
                if case .gaveUp = change { state.controlWake.notify() }
            })
        }
        let startTime = clock.now()
        source.withLock {
            $0 = .running(LiveParts(pipeline: pipeline, startTime: startTime,
                                    framesPerSecond: pipeline.video?.framesPerSecond,
                                    audioRate: pipeline.audio?.format.sampleRate ?? 1,
                                    encodes: pipeline.encodes, fileSegments: pipeline.fileSegments,
                                    hlsSegments: pipeline.hlsSegments))
        }
        let started = RecordingStarted(
            session: id, display: pipeline.video?.displayName ?? "", width: pipeline.video?.width ?? 0,
            height: pipeline.video?.height ?? 0, framesPerSecond: pipeline.video?.framesPerSecond ?? 0,
            grabMethod: pipeline.video?.method ?? .automatic,
            audio: pipeline.audio.map { RecordingStarted.AudioInput(device: configuration.audio?.device ?? "", format: $0.format) },
            output: pipeline.segmentedFile?.currentPath ?? configuration.output?.path, streams: streamURLs.map(\.redacted),
            level: pipeline.videoSettings?.level ?? .none, encoderThreads: pipeline.videoEncoder?.threads ?? 0,
            renditions: pipeline.encodes.map(\.statistics), hls: configuration.hls?.playlist)
        logger.info("recording started", metadata: [
            "display": "\(started.display)", "size": "\(started.width)x\(started.height)",
            "fps": "\(started.framesPerSecond)", "grab": "\(started.grabMethod)",
            "audio": "\(started.audio.map { "\($0.device) \($0.format)" } ?? "none")",
            "output": "\(started.output ?? "none")", "level": "\(started.level)",
            "renditions": "\(started.renditions.map { "\($0.names.joined(separator: "=")) \($0.width)x\($0.height)" })",
        ])
        events.send(.started(started))
        // `.started` comes first; what was found while opening follows it.
        for warning in warnings { warn(warning) }
        pipeline.start(configuration: configuration, state: state, context: context) { [logger, events] warning in
            logger.warning("\(warning)")
            events.send(.warning(warning))
        }

        tick(until: startTime, pipeline: pipeline)

        // Stop: capture first, then the encoders and the mux drain.
        let kind = state.stopKind
        pipeline.stopAndDrain(state: state)
        // The streams send what they hold while the file is finished; a
        // cancelled session closes them at once.
        // (Streams removed while recording were finished then.)
        for entry in pipeline.liveStreams.entries {
            if kind == .immediately { entry.sink.abort() } else if !entry.removed { entry.sink.finishInput() }
        }
        var output: String?
        var finalizeDuration: Duration?
        var finish: MP4FinishReport?
        // The file, or the last of its segments (the earlier ones were
        // finished as they were cut).
        if let report = pipeline.file?.finish() ?? pipeline.segmentedFile?.finish() {
            // A failed write was reported by the mux thread; a failed
            // finishing leaves the file as written (every whole fragment).
            finish = report
            finalizeDuration = .seconds(report.finalizingSeconds)
            let keptSegment = pipeline.fileSegments.segments.first { $0.outcome == .keptAsWritten }
            if report.outcome == .keptAsWritten || keptSegment != nil, state.failure.withLock({ $0 }) == nil {
                let underlying = report.failure ?? AVError(code: AVError.ioErrorCode, operation: "finish")
                state.fail(.outputFile(OutputFileFailure(path: keptSegment?.path ?? report.path, operation: .finish,
                                                         underlying: underlying)))
            }
            output = access(report.path, F_OK) == 0 ? report.path : nil
        }
        if let hls = pipeline.hls {
            do {
                try hls.finish()
            } catch {
                let underlying = error as? AVError ?? AVError(code: AVError.ioErrorCode, operation: "finish")
                state.fail(.outputFile(OutputFileFailure(path: hls.playlistPath, operation: .finish, underlying: underlying)))
            }
            if output == nil, access(hls.playlistPath, F_OK) == 0 { output = hls.playlistPath }
        }
        pipeline.joinStreams()
        // A stream that gave up did not stop the recording (the file went
        // on), but the recording did not do all it was asked: it is the error.
        for entry in pipeline.liveStreams.entries where !entry.removed && entry.sink.statistics.gaveUp {
            let stream = entry.sink
            let report = StreamFailureReport(url: stream.url.redacted,
                                             attempts: stream.statistics.failedAttempts, lastFailure: nil)
            state.failure.withLock { if $0 == nil { $0 = .stream(report) } }
        }
        var script: FinalizeScriptOutcome?
        if let path = configuration.finalizeScript, let output {
            if kind == .immediately {
                script = .skipped
            } else {
                let outcome = FinalizeScript.run(path, directory: FinalizeScript.directory(of: output))
                script = outcome
                if !outcome.succeeded { warn(.finalizeScriptFailed(path: path, outcome: outcome)) }
            }
        }
        var statistics = snapshot(source.withLock { if case let .running(parts) = $0 { parts } else { nil } }!)
        let media = statistics.mediaDuration.seconds
        if media > 0 {
            statistics.framesPerSecond = Double(statistics.framesEncoded) / max(statistics.elapsed.seconds, media)
            statistics.bitrate = Double(statistics.bytesWritten) * 8 / media
        }
        metrics.update(with: statistics, audioRate: pipeline.audio?.format.sampleRate, videoQueued: 0, audioQueued: .zero)
        drainEncodeTimes()
        let error = state.failure.withLock { $0 }
        let reason = state.stopReason.withLock { $0 } ?? .stopRequested
        return .success(RecordingResult(statistics: statistics, stopReason: reason, output: output,
                                        finalizeDuration: finalizeDuration, error: error, finalizeScript: script,
                                        outputBytes: finish?.bytes, outputState: finish?.outcome))
    }

    /// Reports statistics every interval until a stop is asked for, sleeping
    /// in between (woken early by a stop request, a failure or a stream that
    /// gave up).
    private func tick(until startTime: Int64, pipeline: SessionPipeline) {
        let interval = max(100_000_000, configuration.statisticsInterval.nanoseconds)
        var nextTick = startTime + interval
        var last = (time: startTime, frames: 0, bytes: 0)
        while !state.stopRequested {
            let ticket = state.controlWake.prepareToWait()
            if state.stopRequested {
                state.controlWake.cancelWait()
                break
            }
            // Streaming only, and every stream has given up: nothing is left to do.
            if pipeline.file == nil && pipeline.segmentedFile == nil && pipeline.hls == nil
                && pipeline.liveStreams.all.allSatisfy(\.isClosed) {
                state.controlWake.cancelWait()
                let gaveUp = pipeline.liveStreams.all.first.map { $0.statistics }
                state.fail(.stream(StreamFailureReport(url: gaveUp?.url ?? "", attempts: gaveUp?.failedAttempts ?? 0,
                                                       lastFailure: nil)))
                break
            }
            let mediaTime = pipeline.video.map { video in
                Duration.nanoseconds(Int64(state.framesEncoded.load(ordering: .relaxed)) * .nanosecondsPerSecond
                                     / Int64(video.framesPerSecond))
            } ?? .nanoseconds(Int64(state.audioFramesPlaced.load(ordering: .relaxed)) * .nanosecondsPerSecond
                              / Int64(pipeline.audio?.format.sampleRate ?? 1))
            noMedia.check(state.noMedia, mediaTime: mediaTime, events: events, logger: logger)
            let now = clock.now()
            if now < nextTick {
                state.controlWake.wait(ticket, timeout: nextTick - now)
                continue
            }
            state.controlWake.cancelWait()
            nextTick += interval
            if nextTick <= now { nextTick = now + interval }
            let seconds = Double(now - last.time) / 1e9
            var statistics = statistics
            statistics.framesPerSecond = Double(statistics.framesEncoded - last.frames) / seconds
            statistics.bitrate = Double(statistics.bytesWritten - last.bytes) * 8 / seconds
            last = (now, statistics.framesEncoded, statistics.bytesWritten)
            source.withLock {
                if case var .running(parts) = $0 {
                    parts.framesPerSecondNow = statistics.framesPerSecond
                    parts.bitrateNow = statistics.bitrate
                    $0 = .running(parts)
                }
            }
            let audioQueued = pipeline.audio.map { capture in
                Duration.nanoseconds(Int64(capture.chunks.approximateCount) * Int64(capture.framesPerPeriod)
                                     * .nanosecondsPerSecond / Int64(capture.format.sampleRate))
            } ?? .zero
            metrics.update(with: statistics, audioRate: pipeline.audio?.format.sampleRate,
                           videoQueued: pipeline.video?.frames.approximateCount ?? 0, audioQueued: audioQueued)
            drainEncodeTimes()
            events.send(.statistics(statistics))
        }
    }

    private func drainEncodeTimes() {
        while let nanoseconds = state.encodeTimes.pop() { metrics.recordEncodeTime(nanoseconds: nanoseconds) }
    }

    private func warn(_ warning: RecordingWarning) {
        logger.warning("\(warning)")
        events.send(.warning(warning))
    }

    /// The result of a session asked to stop before it recorded anything.
    private func notRecorded() -> RecordingResult {
        let reason = state.stopReason.withLock { $0 } ?? .stopRequested
        return RecordingResult(statistics: RecordingStatistics(), stopReason: reason, output: nil,
                               finalizeDuration: nil, error: nil, finalizeScript: nil)
    }

    private func snapshot(_ parts: LiveParts) -> RecordingStatistics {
        let counters = state.counters.snapshot()
        var statistics = RecordingStatistics()
        statistics.framesEncoded = state.framesEncoded.load(ordering: .relaxed)
        if let framesPerSecond = parts.framesPerSecond {
            statistics.mediaDuration = .nanoseconds(Int64(statistics.framesEncoded) * .nanosecondsPerSecond
                                                    / Int64(framesPerSecond))
        } else {
            statistics.mediaDuration = .nanoseconds(Int64(state.audioFramesPlaced.load(ordering: .relaxed))
                                                    * .nanosecondsPerSecond / Int64(parts.audioRate))
        }
        statistics.elapsed = .nanoseconds(clock.now() - parts.startTime)
        statistics.framesCaptured = counters.videoFramesCaptured
        statistics.framesDropped = counters.videoFramesDroppedQueueFull + state.framesDroppedExcess.load(ordering: .relaxed)
        statistics.framesDuplicated = state.framesDuplicated.load(ordering: .relaxed)
        statistics.lateGrabs = counters.videoLateGrabs
        statistics.framesUnchanged = counters.videoFramesUnchanged
        statistics.framesConverted = counters.videoFramesConverted
        statistics.framesScaled = counters.videoFramesScaled
        statistics.renditions = parts.encodes.map(\.statistics)
        statistics.segments = parts.fileSegments.segments
        statistics.hlsSegments = parts.hlsSegments.segments.filter { $0.duration > 0 }.count
        statistics.skipPictures = counters.videoSkipPictures
        statistics.pixelsGrabbed = counters.videoPixelsGrabbed
        statistics.damageChecks = counters.videoDamageChecks
        statistics.screenSizeChanges = counters.videoScreenSizeChanges
        statistics.audioOverruns = counters.audioOverruns
        statistics.audioSilenceFrames = counters.audioSilenceFrames
        statistics.audioFramesDropped = counters.audioFramesDropped
        statistics.bytesWritten = state.bytesWritten.load(ordering: .relaxed)
        statistics.framesPerSecond = parts.framesPerSecondNow
        statistics.bitrate = parts.bitrateNow
        statistics.audioVideoOffset = .microseconds(state.audioOffsetMicroseconds.load(ordering: .relaxed))
        statistics.cpuTime = account.total()
        statistics.encoderThreads = state.encoderThreads.load(ordering: .relaxed)
        statistics.streams = parts.pipeline.liveStreams.entries.map { entry in
            var statistics = entry.sink.statistics
            statistics.removed = entry.removed
            return statistics
        }
        let pauses = pauseAccount()
        statistics.paused = pauses.paused
        statistics.pauses = pauses.count
        statistics.pausedDuration = pauses.duration
        let detection = configuration.noMedia
        let runs = NoMediaReporter.runs(state.noMedia, framesPerSecond: parts.framesPerSecond ?? 1)
        if detection.silenceDuration != nil { statistics.silence = runs.silence }
        if detection.frozenDuration != nil { statistics.frozenPicture = runs.frozen }
        return statistics
    }
}
