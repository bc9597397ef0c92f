import Dispatch
import JibriDropIn
import RecorderEngine
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every call jibri-ffmpeg makes into the engine: one `RecordingSession` for
/// one Jibri command, recorded to its end, its events turned into the lines
/// Jibri reads (see `JibriLine`).
///
/// - Progress lines about twice a second, from the session's statistics. For
///   a stream they start once the server took it, as ffmpeg's do (ffmpeg opens
///   its output before it encodes): Jibri moves to running only then.
/// - SIGINT (what Jibri sends to stop) or SIGTERM: the session stops and
///   finishes the file; then `Exiting normally, received signal N.` is the
///   last line, and the exit status is 0 (1 if the recording failed).
/// - A stream the server refuses before it was ever up: the session stops,
///   and the last line is `URL: Input/output error` (key redacted), Jibri's
///   bad-URL rule, which it does not retry; exit status 1. A stream that was
///   up and dropped reconnects (the engine's backoff) while the progress
///   lines go on, so Jibri keeps the session.
/// - A recording that cannot start (no such display or PCM, a size larger
///   than the screen): one line, exit status 2, nothing written.
final class JibriRun: Sendable {
    private let command: JibriCommand
    private let console: JibriConsole
    private let session: RecordingSession
    /// The first signal that asked to stop (0: none), the one ffmpeg would name.
    private let stopSignal = Atomic<Int32>(0)

    /// What the events said, for the last line.
    private struct Report {
        var streamUp = false
        /// The redacted URL of a stream refused before it was ever up.
        var refusedStream: String?
    }

    /// Checks the configuration; throws, with nothing opened or written,
    /// what `RecordingSession.init` throws for a bad value.
    init(command: JibriCommand, console: JibriConsole) throws(RecordingError) {
        self.command = command
        self.console = console
        var configuration = command.configuration
        configuration.logger = JibriLogHandler.logger(console: console, level: command.logLevel)
        LogTarget.processLogger = configuration.logger
        session = try RecordingSession(configuration: configuration)
    }

    /// Records until a signal, the duration (`-t`) or a failure ends it; the
    /// exit status.
    func execute() async -> Int32 {
        let signals = [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                _ = stopSignal.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
                session.stop()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        // Subscribed before the start, so no event is missed.
        let events = session.events
        async let reported = report(events)
        let outcome: Result<RecordingResult, RecordingError>
        do {
            outcome = .success(try await session.record())
        } catch {
            outcome = .failure(error)
        }
        let report = await reported
        // Everything the libraries had to say comes before Jibri's last line.
        console.finish()
        switch outcome {
        case let .failure(error):
            // It never started: nothing was written; bad input, as ffmpeg's refusals are.
            console.print("jibri-ffmpeg: \(JibriCommand.describe(error))")
            return 2
        case let .success(result):
            if let refused = report.refusedStream {
                if command.logLevel >= .error { console.print(JibriLine.badURL(refused)) }
                return 1
            }
            let signalNumber = stopSignal.load(ordering: .relaxed)
            if signalNumber != 0 && command.logLevel >= .info { console.print(JibriLine.finished(signal: signalNumber)) }
            return result.error == nil ? 0 : 1
        }
    }

    /// Prints the events as they come; what they said, once `.stopped` came.
    private func report(_ events: AsyncStream<RecordingEvent>) async -> Report {
        var report = Report()
        for await event in events {
            switch event {
            case let .started(info):
                say(.info, describe(info))
                if let note = command.levelNote(chosen: info.level, width: info.width, height: info.height,
                                                framesPerSecond: info.framesPerSecond) {
                    say(.warning, note)
                }
            case let .statistics(statistics):
                if !command.isStream || report.streamUp { printProgress(statistics) }
            case let .warning(warning):
                say(.warning, "warning: \(warning)")
            case let .noMedia(event):
                say(.warning, "\(event)")
            case let .stream(change):
                switch change.change {
                case .connected:
                    report.streamUp = true
                    say(.info, "stream \(change.url): connected")
                case let .connectionFailed(_, failure, _) where !report.streamUp:
                    // Refused before it was ever up: a bad URL or key, as ffmpeg reports it.
                    if report.refusedStream == nil {
                        report.refusedStream = change.url
                        say(.error, "stream \(change.url): the server refused it (\(failure))")
                        session.stop()
                    }
                default:
                    say(change.change.isTrouble ? .warning : .info, "stream \(change.url): \(describe(change.change))")
                }
            case let .stopped(result):
                if !command.isStream || report.streamUp { printProgress(result.statistics) }
                say(.info, summary(result))
                if let error = result.error, report.refusedStream == nil { say(.error, "error: \(error)") }
            }
        }
        return report
    }

    private func printProgress(_ statistics: RecordingStatistics) {
        guard command.printsProgress else { return }
        console.print(ProgressLine(frames: statistics.framesEncoded, bytes: statistics.bytesWritten,
                                   mediaSeconds: Self.seconds(statistics.mediaDuration),
                                   elapsedSeconds: Self.seconds(statistics.elapsed),
                                   duplicated: statistics.framesDuplicated, dropped: statistics.framesDropped).text)
    }

    private func say(_ level: FFmpegLogLevel, _ message: String) {
        if command.logLevel >= level { console.note(message) }
    }

    private func describe(_ info: RecordingStarted) -> String {
        let sound = info.audio.map { "\($0.device) (\($0.format))" } ?? "no sound"
        let destination = info.output ?? info.streams.joined(separator: ", ")
        let video = command.configuration.video
        var encoding = "libx264 \(video.preset.rawValue) \(video.profile.rawValue) level \(info.level)"
        if let crf = video.crf { encoding += " crf \(crf)" } else if let bitrate = video.bitrate { encoding += " \(bitrate / 1000)k" }
        let audio = command.configuration.audioEncoding
        return "recording \(info.display) \(info.width)x\(info.height) at \(info.framesPerSecond) fps via \(info.grabMethod)"
            + " and \(sound) to \(destination): \(encoding), AAC \(audio.bitrate / 1000)k \(audio.sampleRate) Hz"
    }

    private func describe(_ change: NetworkSinkEvent) -> String {
        switch change {
        case .connected:
            return "connected"
        case let .connectionFailed(attempt, failure, retryIn?):
            return "connection attempt \(attempt) failed (\(failure)); retrying in \(Self.tenths(retryIn)) s"
        case let .connectionFailed(attempt, failure, nil):
            return "connection attempt \(attempt) failed (\(failure)); no more attempts"
        case let .disconnected(failure):
            return "disconnected (\(failure)); reconnecting"
        case let .reconnected(downtime, attempts):
            return "reconnected after \(Self.tenths(downtime)) s and \(attempts) attempt(s), resuming at a keyframe"
        case let .gaveUp(attempts):
            return "gave up after \(attempts) failed attempt(s)"
        }
    }

    private func summary(_ result: RecordingResult) -> String {
        let statistics = result.statistics
        var text = "\(Self.tenths(statistics.mediaDuration)) s, \(statistics.framesEncoded) frames"
        text += " (\(statistics.framesDropped) dropped, \(statistics.framesDuplicated) duplicated), \(statistics.bytesWritten) bytes,"
        text += " x264 on \(statistics.encoderThreads) thread(s)"
        if let output = result.output {
            text = "wrote \(output): " + text
            if let finishing = result.finalizeDuration { text += "; finalized in \(Self.hundredths(finishing)) s" }
        } else {
            text = "streamed: " + text
        }
        for stream in statistics.streams {
            text += "; \(stream.url): \(stream.packetsSent) packets over \(stream.connections) connection(s),"
            text += " \(stream.disconnects) disconnect(s), \(stream.videoPacketsDropped) video packets dropped"
        }
        return text
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }

    private static func tenths(_ duration: Duration) -> String {
        let tenths = Int((seconds(duration) * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    private static func hundredths(_ duration: Duration) -> String {
        let hundredths = Int((seconds(duration) * 100).rounded())
        let fraction = abs(hundredths % 100)
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension NetworkSinkEvent {
    /// A lost or failing connection (said at warning level).
    fileprivate var isTrouble: Bool {
        switch self {
        case .connected, .reconnected: return false
        case .connectionFailed, .disconnected, .gaveUp: return true
        }
    }
}
