public import CaptureX11
public import Logging
public import MediaCore
public import MediaPackets
public import Mux
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One recording: display and sound captured on one clock, encoded once to
/// H.264 and AAC, written to a crash-safe MP4 that is finished on stop and
/// streamed live to any number of RTMP(S) servers from the same encode.
///
/// A session is a swift-service-lifecycle `Service`, the API a recorder
/// daemon embeds and the one `record-display` uses:
///
/// ```swift
/// let session = try RecordingSession(configuration: configuration)  // checks the values, opens nothing
/// let group = ServiceGroup(services: [session], logger: logger)       // or: try await session.run()
/// for await event in session.events { ... }                          // started, statistics, warnings, stopped
/// session.stop()                                                      // or graceful shutdown, or `duration`
/// ```
///
/// - `run()` records until the configured duration, `stop()` or a graceful
///   shutdown (then encodes what is queued and finishes the file, the streams
///   and the finalize script), or until the task is cancelled (then it stops
///   at once and still finishes the file with what was encoded). It returns
///   when every thread it started has ended and every resource is released,
///   and throws the `RecordingError` that kept the recording from starting
///   (nothing written) or ended it early (what was recorded is kept).
///   `record()` does the same and returns the `RecordingResult`.
/// - An X server that does not answer (stopped, wedged) fails the start
///   after `capture.answerTimeout` (`RecordingError.display`, whose
///   `XError.isNotAnswering`), and ends a running recording the same way,
///   as a server that went away does; a stop ends the capture within about
///   a second whatever the server does (`DisplayCapture.stop()`), then
///   finishes the file as usual.
/// - A session records once.
/// - `events` may be read by any number of consumers; `statistics` at any
///   moment, from any thread.
///
/// Its threads, rings and stop sequence: docs/ARCHITECTURE.md.
public final class RecordingSession: Service, Sendable {
    /// The session's id (`RecordingConfiguration.id`, or one made up).
    public let id: String
    public let configuration: RecordingConfiguration
    let runner: SessionRunner
    private let broadcast = EventBroadcast()
    private let phase = LockedValue<Phase>(.ready)

    private enum Phase {
        case ready, recording, finished(Result<RecordingResult, RecordingError>)
    }

    /// Checks every value of `configuration` that can be checked without
    /// opening a device: rates and sizes, encoder options, stream URLs against
    /// the allow-list, the output path (its directory writable, no file there
    /// unless overwriting), the finalize script. Opens and writes nothing.
    ///
    /// - Throws: `RecordingError.configuration` naming the bad value (stream
    ///   URLs redacted).
    public init(configuration: RecordingConfiguration) throws(RecordingError) {
        do {
            try Self.validate(configuration)
        } catch let error as InvalidSetting {
            throw .configuration(error)
        } catch {
            preconditionFailure("validation throws InvalidSetting only: \(error)")
        }
        let destinations: [StreamDestination]
        do {
            destinations = try Self.checkStreams(configuration)
        } catch let error as InvalidSetting {
            throw .configuration(error)
        } catch {
            preconditionFailure("stream checks throw InvalidSetting only: \(error)")
        }
        let serial = Self.serials.add(1, ordering: .relaxed).newValue
        let tag = String(serial, radix: 36)
        id = configuration.id ?? "rec-" + Self.randomHex(8)
        self.configuration = configuration
        var logger = configuration.logger
        logger[metadataKey: "session"] = "\(id)"
        runner = SessionRunner(id: id, configuration: configuration, logger: logger, events: broadcast,
                               streamDestinations: destinations, tag: tag)
    }

    /// The session's events: each access returns a new stream that begins
    /// with `.started` (also when the session started before) and ends after
    /// `.stopped`; see `RecordingEvent`. A session that fails to start, or
    /// is asked to stop before it started, finishes every stream with no
    /// event.
    public var events: AsyncStream<RecordingEvent> { broadcast.subscribe() }

    /// The statistics now (zero before the start, final after the end).
    public var statistics: RecordingStatistics { runner.statistics }

    /// Takes the session's metric series (`recorder_*{session="ID"}`) out of
    /// the metrics backend now rather than when the session is released: a
    /// daemon that keeps a finished session for its answers need not keep
    /// its series in every scrape. Idempotent. Meant for a session that has
    /// ended: updates made after it reach no scrape.
    public func releaseMetrics() {
        runner.metrics.destroy()
        runner.noMedia.destroyMetrics()
    }

    /// How the recording ended, once it has.
    public var result: RecordingResult? {
        phase.withLock { if case let .finished(.success(result)) = $0 { result } else { nil } }
    }

    /// Asks the session to stop: capture ends, queued media is encoded, the
    /// file is finished and the finalize script runs. Returns at once; `run()`
    /// returns when all is done. Before `run()`, the session will not start.
    public func stop() {
        runner.state.requestStop(.graceful, reason: .stopRequested)
    }

    /// Records (see the type's description); throws the error that kept it
    /// from starting or ended it early.
    public func run() async throws {
        let result = try await record()
        if let error = result.error { throw error }
    }

    /// Records (see the type's description) and returns how it ended. Throws
    /// only when the recording could not start: nothing was written then.
    public func record() async throws(RecordingError) -> RecordingResult {
        let claimed = phase.withLock { phase in
            guard case .ready = phase else { return false }
            phase = .recording
            return true
        }
        precondition(claimed, "a RecordingSession records once")
        let runner = self.runner
        let control = ControlThread()
        let outcome = await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { continuation in
                    control.expect(continuation)
                    // The control thread carries the session's tag: libraries
                    // it opens start their threads under the session's name.
                    control.started(MediaThread(role: "ctl", context: MediaThread.Context(
                        tag: runner.account.tag, logTarget: runner.logTarget, account: runner.account)) {
                        control.finished(runner.run())
                    })
                }
            } onGracefulShutdown: {
                runner.state.requestStop(.graceful, reason: .stopRequested)
            }
        } onCancel: {
            runner.state.requestStop(.immediately, reason: .cancelled)
        }
        // The body has returned; the thread is ending.
        control.join()
        phase.withLock { $0 = .finished(outcome) }
        return try outcome.get()
    }

    // MARK: Checks before anything opens

    private static let serials = Atomic<Int>(0)

    private static func validate(_ configuration: RecordingConfiguration) throws {
        if let id = configuration.id {
            let allowed = id.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            }
            guard !id.isEmpty, id.utf8.count <= 64, allowed else {
                throw InvalidSetting(.sessionID, value: id, reason: "expected 1 to 64 characters from A-Z a-z 0-9 . _ -")
            }
        }
        if let duration = configuration.duration, duration <= .zero {
            throw InvalidSetting(.duration, value: "\(duration.seconds)", reason: "must be a positive number of seconds")
        }
        let interval = configuration.statisticsInterval
        guard interval >= .milliseconds(100), interval <= .seconds(3600) else {
            throw InvalidSetting(.statisticsInterval, value: "\(interval.seconds)", reason: "must be from 0.1 to 3600 seconds")
        }
        if configuration.recordsVideo { try configuration.capture.validate() }
        try configuration.noMedia.validate()
        try configuration.audio?.validate()
        // Renditions, the outputs and what they take (RecordingConfiguration+Outputs).
        try configuration.validateOutputs()
        if let script = configuration.finalizeScript {
            guard configuration.output != nil || configuration.hls != nil else {
                throw InvalidSetting(.finalizeScript, value: script, reason: "needs a file to finalize (--output)")
            }
            guard access(script, X_OK) == 0 else {
                throw InvalidSetting(.finalizeScript, value: script, reason: "is not an executable file")
            }
        }
    }

    /// Checks every stream URL against the allowed schemes and the
    /// allow-list, before any socket opens, builds the CA bundles `--tls-ca`
    /// asks for, reads SRT passphrases from their files and checks SRT
    /// latencies.
    private static func checkStreams(_ configuration: RecordingConfiguration) throws -> [StreamDestination] {
        let allowList = try StreamAllowList(patterns: configuration.streamAllowList)
        var bundles: [String: CertificateAuthorityBundle] = [:]
        var destinations: [StreamDestination] = []
        for (index, output) in configuration.streams.enumerated() {
            destinations.append(try checkStream(output, index: index, configuration: configuration,
                                                allowList: allowList, bundles: &bundles))
        }
        return destinations
    }

    /// Checks one stream (numbered `index` in errors) as `checkStreams` does.
    static func checkStream(_ output: StreamOutput, index: Int, configuration: RecordingConfiguration,
                            allowList: StreamAllowList,
                            bundles: inout [String: CertificateAuthorityBundle]) throws -> StreamDestination {
        let url = try StreamURL(output.url, key: .stream(index: index), schemes: configuration.allowedStreamSchemes)
        try allowList.check(url, key: .stream(index: index))
        if let maxReconnects = output.maxReconnects, maxReconnects < 0 {
            throw InvalidSetting(.maxReconnects(index: index), value: "\(maxReconnects)", reason: "cannot be negative")
        }
        if url.scheme == .srt {
            var options = SRTOptions()
            if let latency = output.srtLatency {
                guard SRTOptions.latencyRange.contains(latency) else {
                    throw InvalidSetting(.srtLatency(index: index), value: "\(Int((latency.seconds * 1000).rounded()))",
                                         reason: "must be 10 to 10000 milliseconds")
                }
                options.latency = latency
            }
            options.passphrase = try output.srtPassphraseFile.map { try SRTPassphrase(contentsOfFile: $0, key: .srtPassphraseFile(index: index)) }
            return .srt(url, options)
        }
        if output.srtLatency != nil || output.srtPassphraseFile != nil {
            throw InvalidSetting(output.srtLatency != nil ? .srtLatency(index: index) : .srtPassphraseFile(index: index),
                                 value: url.redacted, reason: "applies to srt:// streams only")
        }
        var authorities: CertificateAuthorityBundle?
        if case let .addingAuthority(path) = output.tls {
            let bundle = try bundles[path] ?? CertificateAuthorityBundle(adding: path, key: .tlsAuthority(index: index))
            bundles[path] = bundle
            authorities = bundle
        }
        return .rtmp(url, tls: output.tls, authorities: authorities)
    }

    private static func randomHex(_ digits: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<digits).map { _ in String(generator.next(upperBound: UInt8(16)), radix: 16) }.joined()
    }
}

/// Hands the control thread's result to `record()`, and the thread itself,
/// so that `record()` can join it: the result is passed on only once both the
/// thread (stored by whoever started it) and the result (from the thread's
/// body) are in, whichever comes first.
private final class ControlThread: Sendable {
    typealias Outcome = Result<RecordingResult, RecordingError>

    private struct State {
        var continuation: CheckedContinuation<Outcome, Never>?
        var thread: MediaThread?
        var outcome: Outcome?
    }

    private let state = LockedValue(State())

    func expect(_ continuation: CheckedContinuation<Outcome, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func started(_ thread: MediaThread) {
        resumeIfComplete(state.withLock { state in
            state.thread = thread
            return Self.take(&state)
        })
    }

    func finished(_ outcome: Outcome) {
        resumeIfComplete(state.withLock { state in
            state.outcome = outcome
            return Self.take(&state)
        })
    }

    /// Waits for the thread, which has passed its body's end by now.
    func join() {
        state.withLock { $0.thread }?.join()
    }

    private static func take(_ state: inout State) -> (CheckedContinuation<Outcome, Never>, Outcome)? {
        guard state.thread != nil, let outcome = state.outcome, let continuation = state.continuation else { return nil }
        state.continuation = nil
        return (continuation, outcome)
    }

    private func resumeIfComplete(_ ready: (CheckedContinuation<Outcome, Never>, Outcome)?) {
        if let (continuation, outcome) = ready { continuation.resume(returning: outcome) }
    }
}
