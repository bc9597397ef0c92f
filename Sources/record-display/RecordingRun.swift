import Foundation
import RecorderEngine

/// Runs a session to its end for the command line: stops it on SIGINT and
/// SIGTERM, shows a one-line live status on a terminal, and writes the
/// statistics file.
final class RecordingRun: @unchecked Sendable {
    private let session: RecordingSession
    private let statsPath: String?
    private let interactive = isatty(STDERR_FILENO) != 0
    private var signalSources: [any DispatchSourceSignal] = []

    init(session: RecordingSession, statsPath: String?) {
        self.session = session
        self.statsPath = statsPath
    }

    /// Records until the session stops; returns the process exit code.
    func execute() -> Int32 {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [session] in session.stop() }
            source.resume()
            signalSources.append(source)
        }
        do {
            try session.start()
        } catch {
            FileHandle.standardError.write(Data("record-display: \(error)\n".utf8))
            return 1
        }
        let events = session.events
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var exitCode: Int32 = 0
        Task.detached { [self] in
            for await event in events { exitCode = handle(event) ?? exitCode }
            done.signal()
        }
        done.wait()
        return exitCode
    }

    private func handle(_ event: RecordingEvent) -> Int32? {
        switch event {
        case let .started(info):
            let audio = info.audioDevice.map { " + \($0) (\(info.audioFormat ?? "?"))" } ?? ", no audio"
            let destinations = (info.output.map { [$0] } ?? []) + info.streams
            log("recording \(info.display) \(info.width)x\(info.height)@\(info.framesPerSecond) via \(info.grabMethod)"
                + "\(audio) to \(destinations.joined(separator: ", ")), H.264 level \(info.level)")
        case let .statistics(statistics):
            if interactive {
                var line = String(format: "\r%7.1fs  %5.1f fps  dropped %d  duplicated %d  %6.0f kb/s  A/V %+5.0f ms ",
                                  statistics.mediaSeconds, statistics.framesPerSecond, statistics.framesDropped,
                                  statistics.framesDuplicated, statistics.bitrate / 1000, statistics.audioVideoOffset * 1000)
                if !statistics.streams.isEmpty {
                    let up = statistics.streams.filter(\.connected).count
                    let dropped = statistics.streams.reduce(0) { $0 + $1.videoPacketsDropped }
                    let queued = statistics.streams.map(\.queuedSeconds).max() ?? 0
                    line += String(format: " streams %d/%d up, %d dropped, queue %.1f s ", up, statistics.streams.count,
                                   dropped, queued)
                }
                FileHandle.standardError.write(Data(line.utf8))
            }
        case let .warning(message):
            log("warning: \(message)")
        case let .stream(event):
            log("stream \(event.url): \(Self.describe(event.change))")
        case let .stopped(result):
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            writeStatistics(result)
            let statistics = result.statistics
            let summary = String(format: "%.2f s, %d frames (%d dropped, %d duplicated), %d bytes encoded",
                                 statistics.mediaSeconds, statistics.framesEncoded, statistics.framesDropped,
                                 statistics.framesDuplicated, statistics.bytesWritten)
            if let output = result.output {
                let state = result.outputState.map { "\($0.rawValue) in \(String(format: "%.2f", result.finalizeSeconds ?? 0)) s" }
                    ?? "finalized in \(String(format: "%.2f", result.finalizeSeconds ?? 0)) s"
                let bytes = result.outputBytes.map { "; \($0) bytes on disk" } ?? ""
                log("wrote \(output): \(summary)\(bytes), \(state)")
            } else {
                log("\(statistics.streams.isEmpty ? "wrote nothing" : "streamed"): \(summary)")
            }
            for stream in statistics.streams {
                log(String(format: "stream %@: sent %d packets (%d bytes) over %d connection(s), %d disconnect(s); "
                           + "dropped %d video packets (%d disposable, %d to a keyframe), %d with the queue full, "
                           + "%d discarded while offline; longest queue %.2f s; %.2f CPU s",
                           stream.url, stream.packetsSent, stream.bytesSent, stream.connections, stream.disconnects,
                           stream.videoPacketsDropped, stream.videoPacketsDroppedDisposable,
                           stream.videoPacketsDroppedToKeyframe, stream.packetsDroppedQueueFull,
                           stream.packetsDiscardedOffline, stream.maximumQueuedSeconds, stream.threadCPUSeconds))
            }
            if let status = result.finalizeScriptStatus { log("finalize script exited with status \(status)") }
            if let error = result.error {
                log("error: \(error)")
                return 1
            }
            return 0
        }
        return nil
    }

    private static func describe(_ change: RTMPSinkEvent) -> String {
        switch change {
        case .connected:
            return "connected"
        case let .connectionFailed(attempt, failure, retryIn?):
            return "connection attempt \(attempt) failed: \(failure); retrying in \(String(format: "%.1f", retryIn)) s"
        case let .connectionFailed(attempt, failure, nil):
            return "connection attempt \(attempt) failed: \(failure); no more attempts"
        case let .disconnected(failure):
            return "disconnected: \(failure)"
        case let .reconnected(downtime, attempts):
            return "reconnected after \(String(format: "%.1f", downtime)) s (\(attempts) attempt(s)), resuming at a keyframe"
        case let .gaveUp(attempts):
            return "gave up after \(attempts) failed attempt(s) (--max-reconnects)"
        }
    }

    private func writeStatistics(_ result: RecordingResult) {
        guard let statsPath else { return }
        struct Summary: Encodable {
            var output: String?
            var error: String?
            var finalizeSeconds: Double?
            var finalizeScriptStatus: Int32?
            var outputBytes: Int64?
            var outputState: String?
            var statistics: RecordingStatistics
        }
        let summary = Summary(output: result.output, error: result.error, finalizeSeconds: result.finalizeSeconds,
                              finalizeScriptStatus: result.finalizeScriptStatus, outputBytes: result.outputBytes,
                              outputState: result.outputState?.rawValue, statistics: result.statistics)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(summary).write(to: URL(fileURLWithPath: statsPath))
        } catch {
            log("warning: cannot write \(statsPath): \(error)")
        }
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("record-display: \(message)\n".utf8))
    }
}
