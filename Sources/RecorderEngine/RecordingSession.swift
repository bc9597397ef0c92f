@_exported public import CaptureALSA
@_exported public import CaptureX11
@_exported public import Encoder
@_exported public import MediaCore
import CFFmpeg
import Mux
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One recording: display and sound captured on one clock, encoded once to
/// H.264 and AAC, written to a crash-safe MP4 that is finalized on stop.
///
/// This is the API a recorder daemon embeds, and the one `record-display` uses:
///
/// ```swift
/// let session = try RecordingSession(configuration: configuration)  // checks everything, writes nothing
/// try session.start()
/// for await event in session.events { ... }                          // started, statistics, warnings, stopped
/// session.stop()                                                      // or let `duration` end it
/// ```
///
/// Threads: video capture, audio capture, one encoder thread each, a mux thread,
/// and a control thread that reports statistics and runs the stop sequence.
/// They hand media to each other through lock-free rings and never wait on a lock.
public final class RecordingSession: @unchecked Sendable {
    /// Events in order; the stream finishes after `.stopped`.
    public let events: AsyncStream<RecordingEvent>
    private let continuation: AsyncStream<RecordingEvent>.Continuation
    public let configuration: RecordingConfiguration

    private let state = SessionState()
    private let clock = MonotonicClock()
    private let video: DisplayCapture<MonotonicClock>
    private let audio: PCMCapture<MonotonicClock>?
    private let videoEncoder: VideoEncoder
    private let audioEncoder: AudioEncoder?
    private let videoSettings: VideoEncoderSettings
    private let videoPackets = SPSCRing<Packet>(minimumCapacity: 512)
    private let audioPackets = SPSCRing<Packet>(minimumCapacity: 512)
    private var threads: [MediaThread] = []
    private var control: MediaThread?
    private let result = Mutex<RecordingResult?>(nil)
    private let finished = Atomic<Bool>(false)

    /// Checks the whole configuration and opens the display, the PCM and the
    /// encoders, but creates no file: a bad value throws before anything is
    /// written (`InvalidArgument`, `XError`, `ALSAError` or `AVError`, each
    /// naming the value).
    public init(configuration: RecordingConfiguration) throws {
        self.configuration = configuration
        if let duration = configuration.duration, !(duration > 0) || !duration.isFinite {
            throw InvalidArgument(name: "--duration", value: "\(duration)", reason: "must be a positive number of seconds")
        }
        try MP4FileSink.validateOutputPath(configuration.output.path, overwrite: configuration.output.overwrite)
        if let script = configuration.finalizeScript, access(script, X_OK) != 0 {
            throw InvalidArgument(name: "--finalize-script", value: script, reason: "is not an executable file")
        }

        video = try DisplayCapture(configuration: configuration.capture, clock: clock, counters: state.counters)
        let options = configuration.video
        videoSettings = try VideoEncoderSettings(
            width: video.width, height: video.height, fps: video.framesPerSecond, preset: options.preset,
            tune: options.tune, profile: options.profile, crf: options.crf, maxrate: options.maxrate,
            bufsize: options.bufsize, gop: options.gop)
        videoEncoder = try VideoEncoder(settings: videoSettings, inputWidth: video.width, inputHeight: video.height)
        if let audioConfiguration = configuration.audio {
            let capture = try PCMCapture(configuration: audioConfiguration, clock: clock, counters: state.counters)
            audio = capture
            audioEncoder = try AudioEncoder(settings: configuration.audioEncoding, inputFormat: capture.format)
        } else {
            audio = nil
            audioEncoder = nil
        }
        (events, continuation) = AsyncStream.makeStream(of: RecordingEvent.self, bufferingPolicy: .unbounded)
    }

    /// Creates the output file and starts every thread.
    public func start() throws {
        precondition(control == nil, "a session starts once")
        var streams = [videoEncoder.parameters]
        if let audioEncoder { streams.append(audioEncoder.parameters) }
        let sink = try MP4FileSink(path: configuration.output.path, streams: streams,
                                   overwrite: configuration.output.overwrite)
        let startTime = clock.now()
        let cpuAtStart = Self.cpuSeconds()

        let mux = MuxWorker(sink: sink, videoPackets: videoPackets, audioPackets: audioEncoder == nil ? nil : audioPackets,
                            state: state)
        let frameLimit = configuration.duration.map { Int64(($0 * Double(video.framesPerSecond)).rounded()) }
        let videoWorker = VideoEncodeWorker(capture: video, encoder: videoEncoder, packets: videoPackets,
                                            state: state, frameLimit: frameLimit)
        threads.append(MediaThread(name: "mux") { mux.run() })
        threads.append(MediaThread(name: "encode-video") { videoWorker.run() })
        if let audio, let audioEncoder {
            let audioWorker = AudioEncodeWorker(capture: audio, encoder: audioEncoder, packets: audioPackets, state: state,
                                                outputRate: configuration.audioEncoding.sampleRate,
                                                duration: configuration.duration)
            threads.append(MediaThread(name: "encode-audio") { audioWorker.run() })
            audio.start { [state] event in
                if case let .failed(error) = event { state.fail("audio capture: \(error)") }
            }
        }
        video.start { [state] event in
            if case let .failed(error) = event { state.fail("video capture: \(error)") }
        }
        continuation.yield(.started(RecordingStarted(
            display: video.displayName, width: video.width, height: video.height, framesPerSecond: video.framesPerSecond,
            grabMethod: video.method.rawValue, audioDevice: configuration.audio?.device,
            audioFormat: audio.map { "\($0.format)" }, output: configuration.output.path,
            level: videoSettings.level.description)))
        control = MediaThread(name: "session") { [self] in
            runControl(sink: sink, startTime: startTime, cpuAtStart: cpuAtStart)
        }
    }

    /// Asks the session to stop: capture ends, queued media is encoded, and the
    /// file is finalized. Returns at once; `.stopped` follows.
    public func stop() {
        state.stopRequested.store(true, ordering: .releasing)
    }

    /// Blocks until the session has stopped and returns how it ended.
    public func waitUntilStopped() -> RecordingResult {
        control?.join()
        return result.withLock { $0 }!
    }

    /// Lets libav* print only errors (its default prints every encoder's
    /// settings banner). libav's log level is process-wide, so this is the
    /// embedding program's choice, not the session's.
    public static func quietLibraryLogs() {
        av_log_set_level(AV_LOG_ERROR)
    }

    // MARK: The control thread

    private func runControl(sink: MP4FileSink, startTime: Int64, cpuAtStart: Double) {
        var lastReport = startTime
        var lastFrames = 0, lastBytes = 0
        let interval = Int64(configuration.statisticsInterval * 1e9)
        while !state.stopRequested.load(ordering: .acquiring) {
            clock.sleep(until: clock.now() + 20_000_000)
            let now = clock.now()
            if now - lastReport >= interval {
                var statistics = snapshot(startTime: startTime, cpuAtStart: cpuAtStart)
                let seconds = Double(now - lastReport) / 1e9
                statistics.framesPerSecond = Double(statistics.framesEncoded - lastFrames) / seconds
                statistics.bitrate = Double(statistics.bytesWritten - lastBytes) * 8 / seconds
                lastFrames = statistics.framesEncoded
                lastBytes = statistics.bytesWritten
                lastReport = now
                continuation.yield(.statistics(statistics))
            }
        }
        // Stop sequence: capture first, then let encoders and mux drain.
        video.stop()
        audio?.stop()
        state.captureEnded.store(true, ordering: .releasing)
        for thread in threads { thread.join() }
        threads.removeAll()

        var finalizeSeconds: Double?
        var output: String? = configuration.output.path
        do {
            let report = try sink.finish()
            finalizeSeconds = report.finalizingSeconds
        } catch {
            state.fail("finalizing \(configuration.output.path): \(error)")
            output = FileExists(configuration.output.path) ? configuration.output.path : nil
        }
        var scriptStatus: Int32?
        if let script = configuration.finalizeScript, output != nil {
            scriptStatus = FinalizeScript.run(script, directory: Self.directory(of: configuration.output.path))
            if scriptStatus != 0 {
                continuation.yield(.warning("finalize script \(script) exited with status \(scriptStatus ?? -1)"))
            }
        }
        var statistics = snapshot(startTime: startTime, cpuAtStart: cpuAtStart)
        if statistics.mediaSeconds > 0 {
            statistics.framesPerSecond = Double(statistics.framesEncoded) / max(statistics.elapsedSeconds, statistics.mediaSeconds)
            statistics.bitrate = Double(statistics.bytesWritten) * 8 / statistics.mediaSeconds
        }
        let final = RecordingResult(
            statistics: statistics, output: output,
            finalizeSeconds: finalizeSeconds, error: state.failure.withLock { $0 }, finalizeScriptStatus: scriptStatus)
        result.withLock { $0 = final }
        continuation.yield(.stopped(final))
        continuation.finish()
    }

    private func snapshot(startTime: Int64, cpuAtStart: Double) -> RecordingStatistics {
        let counters = state.counters.snapshot()
        var statistics = RecordingStatistics()
        statistics.framesEncoded = state.framesEncoded.load(ordering: .relaxed)
        statistics.mediaSeconds = Double(statistics.framesEncoded) / Double(video.framesPerSecond)
        statistics.elapsedSeconds = Double(clock.now() - startTime) / 1e9
        statistics.framesCaptured = counters.videoFramesCaptured
        statistics.framesDropped = counters.videoFramesDroppedQueueFull + state.framesDroppedExcess.load(ordering: .relaxed)
        statistics.framesDuplicated = state.framesDuplicated.load(ordering: .relaxed)
        statistics.lateGrabs = counters.videoLateGrabs
        statistics.audioOverruns = counters.audioOverruns
        statistics.audioSilenceFrames = counters.audioSilenceFrames
        statistics.audioFramesDropped = counters.audioFramesDropped
        statistics.bytesWritten = state.bytesWritten.load(ordering: .relaxed)
        statistics.audioVideoOffset = Double(state.audioOffsetMicroseconds.load(ordering: .relaxed)) / 1e6
        statistics.cpuSeconds = Self.cpuSeconds() - cpuAtStart
        return statistics
    }

    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

private func FileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }
