import Dispatch
import JibriDropIn
import RecorderEngine
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every call jibri-ffmpeg makes into the engine: one `RecordingSession` for
/// one Jibri command, run to its end, its events turned into the lines Jibri
/// reads (see `JibriLine`).
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
final class JibriRun: @unchecked Sendable {
    private let command: JibriCommand
    private let console: JibriConsole
    private let session: RecordingSession
    private let stopSignal = Atomic<Int32>(0)
    private var signalSources: [any DispatchSourceSignal] = []

    /// Opens the display, the PCM and the encoders; throws, with nothing
    /// written, what `RecordingSession.init` throws for a bad value.
    init(command: JibriCommand, console: JibriConsole) throws {
        self.command = command
        self.console = console
        // libav* and alsa-lib print errors only; the console filters what they print.
        RecordingSession.quietLibraryLogs()
        session = try RecordingSession(configuration: command.configuration)
    }

    /// Records until a signal, the duration (`-t`) or a failure ends it; the
    /// exit status.
    func execute() async -> Int32 {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                // The first signal is the one ffmpeg would name.
                _ = stopSignal.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
                session.stop()
            }
            source.resume()
            signalSources.append(source)
        }
        do {
            try session.start()
        } catch {
            say(.error, "error: \(error)")
            console.finish()
            return 1
        }

        var streamUp = false
        var refusedStream: String?
        var result: RecordingResult?
        for await event in session.events {
            switch event {
            case let .started(info):
                say(.info, describe(info))
                if let note = command.levelNote(chosen: info.level, width: info.width, height: info.height,
                                                framesPerSecond: info.framesPerSecond) {
                    say(.warning, note)
                }
            case let .statistics(statistics):
                if !command.isStream || streamUp { printProgress(statistics) }
            case let .warning(message):
                say(.warning, "warning: \(message)")
            case let .stream(change):
                switch change.change {
                case .connected:
                    streamUp = true
                    say(.info, "stream \(change.url): connected")
                case let .connectionFailed(_, failure, _) where !streamUp:
                    // Refused before it was ever up: a bad URL or key, as ffmpeg reports it.
                    if refusedStream == nil {
                        refusedStream = change.url
                        say(.error, "stream \(change.url): the server refused it (\(failure))")
                        session.stop()
                    }
                default:
                    say(change.change.isTrouble ? .warning : .info, "stream \(change.url): \(describe(change.change))")
                }
            case let .stopped(final):
                result = final
            }
        }
        guard let result else {
            console.finish()
            return 1
        }
        if !command.isStream || streamUp { printProgress(result.statistics) }
        say(.info, summary(result))
        if let error = result.error, refusedStream == nil { say(.error, "error: \(error)") }
        // Everything the libraries had to say comes before Jibri's last line.
        console.finish()
        if let refusedStream {
            if command.logLevel >= .error { console.print(JibriLine.badURL(refusedStream)) }
            return 1
        }
        let signalNumber = stopSignal.load(ordering: .relaxed)
        if signalNumber != 0 && command.logLevel >= .info { console.print(JibriLine.finished(signal: signalNumber)) }
        return result.error == nil ? 0 : 1
    }

    private func printProgress(_ statistics: RecordingStatistics) {
        guard command.printsProgress else { return }
        console.print(ProgressLine(frames: statistics.framesEncoded, bytes: statistics.bytesWritten,
                                   mediaSeconds: statistics.mediaSeconds, elapsedSeconds: statistics.elapsedSeconds,
                                   duplicated: statistics.framesDuplicated, dropped: statistics.framesDropped).text)
    }

    private func say(_ level: FFmpegLogLevel, _ message: String) {
        if command.logLevel >= level { console.note(message) }
    }

    private func describe(_ info: RecordingStarted) -> String {
        let sound = info.audioDevice.map { "\($0) (\(info.audioFormat ?? "?"))" } ?? "no sound"
        let destination = info.output ?? info.streams.joined(separator: ", ")
        let video = command.configuration.video
        var encoding = "libx264 \(video.preset.rawValue) \(video.profile.rawValue) level \(info.level)"
        if let crf = video.crf { encoding += " crf \(crf)" } else if let bitrate = video.bitrate { encoding += " \(bitrate / 1000)k" }
        let audio = command.configuration.audioEncoding
        return "recording \(info.display) \(info.width)x\(info.height) at \(info.framesPerSecond) fps via \(info.grabMethod)"
            + " and \(sound) to \(destination): \(encoding), AAC \(audio.bitrate / 1000)k \(audio.sampleRate) Hz"
    }

    private func describe(_ change: RTMPSinkEvent) -> String {
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
        var text = "\(Self.tenths(statistics.mediaSeconds)) s, \(statistics.framesEncoded) frames"
            + " (\(statistics.framesDropped) dropped, \(statistics.framesDuplicated) duplicated), \(statistics.bytesWritten) bytes,"
            + " x264 on \(statistics.encoderThreads) thread(s)"
        if let output = result.output {
            text = "wrote \(output): " + text
            if let seconds = result.finalizeSeconds { text += "; finalized in \(Self.hundredths(seconds)) s" }
        } else {
            text = "streamed: " + text
        }
        for stream in statistics.streams {
            text += "; \(stream.url): \(stream.packetsSent) packets over \(stream.connections) connection(s),"
                + " \(stream.disconnects) disconnect(s), \(stream.videoPacketsDropped) video packets dropped"
        }
        return text
    }

    private static func tenths(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    private static func hundredths(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let fraction = abs(hundredths % 100)
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

extension RTMPSinkEvent {
    /// A lost or failing connection (said at warning level).
    fileprivate var isTrouble: Bool {
        switch self {
        case .connected, .reconnected: return false
        case .connectionFailed, .disconnected, .gaveUp: return true
        }
    }
}
