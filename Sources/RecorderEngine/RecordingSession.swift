@_exported public import CaptureALSA
@_exported public import CaptureX11
@_exported public import Encoder
@_exported public import MediaCore
@_exported public import Mux
import CALSA
import CFFmpeg
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One recording: display and sound captured on one clock, encoded once to
/// H.264 and AAC, written to a crash-safe MP4 that is finalized on stop and
/// streamed live to any number of RTMP(S) servers from the same encode.
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
/// one thread per live stream, and a control thread that reports statistics
/// and runs the stop sequence. They hand media to each other through lock-free
/// rings and never wait on a lock; nothing waits on a live stream's network.
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
    /// The live streams' checked URLs, and the CA bundles some of them add.
    private let streamURLs: [StreamURL]
    private let streamAuthorities: [CertificateAuthorityBundle?]
    private var streamSinks: [RTMPSink] = []
    private var control: MediaThread?
    private let result = Mutex<RecordingResult?>(nil)
    private let finished = Atomic<Bool>(false)
    private let openSession = OpenSessionCount.Member()

    /// Checks the whole configuration and opens the display, the PCM and the
    /// encoders, but creates no file and opens no connection: a bad value
    /// throws before anything is written (`InvalidArgument`, `XError`,
    /// `ALSAError` or `AVError`, each naming the value; stream URLs redacted).
    ///
    /// Stream URLs are checked first: each must be a valid `rtmp://` or
    /// `rtmps://` URL and match the allow-list.
    public init(configuration: RecordingConfiguration) throws {
        self.configuration = configuration
        if let duration = configuration.duration, !(duration > 0) || !duration.isFinite {
            throw InvalidArgument(name: "--duration", value: "\(duration)", reason: "must be a positive number of seconds")
        }
        (streamURLs, streamAuthorities) = try Self.checkStreams(configuration)
        if !streamURLs.isEmpty {
            // libavformat's own error lines may quote a stream name.
            LibraryLog.installRedactingCallback()
            streamURLs.forEach(LibraryLog.redact)
        }
        if let output = configuration.output {
            try MP4FileSink.validateOutputPath(output.path, overwrite: output.overwrite)
        } else if configuration.streams.isEmpty {
            throw InvalidArgument(name: "--output", value: "", reason: "nothing to record to: give a file, a stream or both")
        }
        if let script = configuration.finalizeScript {
            guard configuration.output != nil else {
                throw InvalidArgument(name: "--finalize-script", value: script, reason: "needs a file to finalize (--output)")
            }
            guard access(script, X_OK) == 0 else {
                throw InvalidArgument(name: "--finalize-script", value: script, reason: "is not an executable file")
            }
        }

        video = try DisplayCapture(configuration: configuration.capture, clock: clock, counters: state.counters)
        let options = configuration.video
        videoSettings = try VideoEncoderSettings(
            width: video.width, height: video.height, fps: video.framesPerSecond, preset: options.preset,
            tune: options.tune, profile: options.profile, crf: options.crf, maxrate: options.maxrate,
            bufsize: options.bufsize, gop: options.gop,
            threads: options.threads != 0 ? options.threads
                : OpenSessionCount.startingEncoderThreads(width: video.width, height: video.height,
                                                          framesPerSecond: video.framesPerSecond))
        videoEncoder = try VideoEncoder(settings: videoSettings, inputWidth: video.width, inputHeight: video.height,
                                        counters: state.counters)
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

    /// Creates the output file, starts every thread and begins connecting
    /// the live streams (a stream that cannot connect is reported in events
    /// and retried; it does not fail the start).
    public func start() throws {
        precondition(control == nil, "a session starts once")
        var streams = [videoEncoder.parameters]
        if let audioEncoder { streams.append(audioEncoder.parameters) }
        // The fan-out orders packets across streams for every sink, the file's too.
        let sink = try configuration.output.map {
            try MP4FileSink(path: $0.path, streams: streams, overwrite: $0.overwrite, arrivesInterleaved: true)
        }
        let startTime = clock.now()
        let cpuAtStart = Self.cpuSeconds()

        for (index, url) in streamURLs.enumerated() {
            let output = configuration.streams[index]
            if output.tls == .disabled && url.scheme == .rtmps {
                continuation.yield(.warning("TLS certificate verification is off for \(url.redacted) (--insecure-tls)"))
            }
            streamSinks.append(RTMPSink(
                url: url, streams: streams, tls: output.tls, authorities: streamAuthorities[index],
                maxReconnects: output.maxReconnects
            ) { [continuation] change in
                continuation.yield(.stream(StreamEvent(url: url.redacted, change: change)))
            })
        }
        streamSinks.forEach { $0.start() }
        let fanOut = PacketFanOut(parameters: streams, file: sink, streams: streamSinks)
        let mux = MuxWorker(fanOut: fanOut, videoPackets: videoPackets,
                            audioPackets: audioEncoder == nil ? nil : audioPackets, state: state)
        let frameLimit = configuration.duration.map { Int64(($0 * Double(video.framesPerSecond)).rounded()) }
        let videoWorker = VideoEncodeWorker(capture: video, encoder: videoEncoder, packets: videoPackets,
                                            state: state, frameLimit: frameLimit,
                                            adaptiveThreads: configuration.video.threads == 0)
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
        video.start { [state, continuation] event in
            if case let .failed(error) = event { state.fail("video capture: \(error)") } else { continuation.yield(.warning("\(event)")) }
        }
        continuation.yield(.started(RecordingStarted(
            display: video.displayName, width: video.width, height: video.height, framesPerSecond: video.framesPerSecond,
            grabMethod: video.method.rawValue, audioDevice: configuration.audio?.device,
            audioFormat: audio.map { "\($0.format)" }, output: configuration.output?.path,
            streams: streamURLs.map(\.redacted), level: videoSettings.level.description)))
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
        precondition(control != nil, "waitUntilStopped() before start()")
        control?.join()
        return result.withLock { $0 }!
    }

    /// Lets libav* print only errors (its default prints every encoder's
    /// settings banner), and stops alsa-lib printing its own error lines
    /// (the capture reports them as `ALSAError` values, once). Both are
    /// process-wide, so this is the embedding program's choice, not the session's.
    public static func quietLibraryLogs() {
        av_log_set_level(AV_LOG_ERROR)
        calsa_silence_library_errors()
    }

    // MARK: The control thread

    private func runControl(sink: MP4FileSink?, startTime: Int64, cpuAtStart: Double) {
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
            // Streaming only, and every stream has given up: nothing is left to do.
            if sink == nil && streamSinks.allSatisfy(\.isClosed) {
                state.fail("every stream failed")
            }
        }
        // Stop sequence: capture first, then let encoders and mux drain.
        video.stop()
        audio?.stop()
        state.captureEnded.store(true, ordering: .releasing)
        for thread in threads { thread.join() }
        threads.removeAll()
        // The streams send what they hold while the file is finalized.
        streamSinks.forEach { $0.finishInput() }

        var finalizeSeconds: Double?
        var output: String?
        if let sink, let path = configuration.output?.path {
            output = path
            do {
                let report = try sink.finish()
                finalizeSeconds = report.finalizingSeconds
            } catch {
                state.fail("finalizing \(path): \(error)")
                output = FileExists(path) ? path : nil
            }
        }
        streamSinks.forEach { $0.join() }
        for stream in streamSinks where stream.statistics.gaveUp {
            state.failure.withLock { failure in
                let message = "stream \(stream.url.redacted) gave up (--max-reconnects \(stream.maxReconnects ?? 0))"
                failure = failure.map { "\($0); \(message)" } ?? message
            }
        }
        var scriptStatus: Int32?
        if let script = configuration.finalizeScript, let output {
            scriptStatus = FinalizeScript.run(script, directory: Self.directory(of: output))
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
        statistics.framesUnchanged = counters.videoFramesUnchanged
        statistics.framesConverted = counters.videoFramesConverted
        statistics.skipPictures = counters.videoSkipPictures
        statistics.pixelsGrabbed = counters.videoPixelsGrabbed
        statistics.screenSizeChanges = counters.videoScreenSizeChanges
        statistics.audioOverruns = counters.audioOverruns
        statistics.audioSilenceFrames = counters.audioSilenceFrames
        statistics.audioFramesDropped = counters.audioFramesDropped
        statistics.bytesWritten = state.bytesWritten.load(ordering: .relaxed)
        statistics.audioVideoOffset = Double(state.audioOffsetMicroseconds.load(ordering: .relaxed)) / 1e6
        statistics.cpuSeconds = Self.cpuSeconds() - cpuAtStart
        statistics.encoderThreads = state.encoderThreads.load(ordering: .relaxed)
        statistics.streams = streamSinks.map(\.statistics)
        return statistics
    }

    /// Checks every stream URL against the scheme rules and the allow-list,
    /// before any socket opens, and builds the CA bundles `--tls-ca` asks for.
    private static func checkStreams(_ configuration: RecordingConfiguration) throws
        -> ([StreamURL], [CertificateAuthorityBundle?])
    {
        let allowList = try StreamAllowList(patterns: configuration.streamAllowList)
        var urls: [StreamURL] = []
        var bundles: [String: CertificateAuthorityBundle] = [:]
        var authorities: [CertificateAuthorityBundle?] = []
        for output in configuration.streams {
            let url = try StreamURL(output.url)
            try allowList.check(url)
            if let maxReconnects = output.maxReconnects, maxReconnects < 0 {
                throw InvalidArgument(name: "--max-reconnects", value: "\(maxReconnects)", reason: "cannot be negative")
            }
            urls.append(url)
            if case let .addingAuthority(path) = output.tls {
                let bundle = try bundles[path] ?? CertificateAuthorityBundle(adding: path)
                bundles[path] = bundle
                authorities.append(bundle)
            } else {
                authorities.append(nil)
            }
        }
        return (urls, authorities)
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
