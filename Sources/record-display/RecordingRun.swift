import Foundation
import Logging
import RecorderEngine
import ServiceLifecycle

/// Runs a session to its end for the command line: a `ServiceGroup` stops it
/// gracefully on SIGINT and SIGTERM; the events become a one-line live status
/// on a terminal and a summary, and the final statistics a JSON file.
struct RecordingRun {
    let session: RecordingSession
    let statsPath: String?
    let logger: Logger
    private let interactive = isatty(STDERR_FILENO) != 0

    init(session: RecordingSession, statsPath: String?, logger: Logger) {
        self.session = session
        self.statsPath = statsPath
        self.logger = logger
    }

    /// Records until the session stops; returns the process exit code: 0,
    /// 1 for a failure after the start (the file is kept) or an X server
    /// that does not answer, 2 when the recording could not start otherwise
    /// (nothing was written).
    func execute() async -> Int32 {
        // Subscribed before the start, so no event is missed.
        let events = session.events
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: session, successTerminationBehavior: .gracefullyShutdownGroup,
                             failureTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "record-display.lifecycle") { _ in SwiftLogNoOpLogHandler() }))
        async let reported = report(events)
        let pauseSignals = PauseSignals(session: session, log: { [self] line in log(line) })
        defer { withExtendedLifetime(pauseSignals) {} }
        do {
            try await group.run()
        } catch let error as RecordingError where session.result == nil {
            // It never started: nothing was written. A server that does not
            // answer is a fault of the host, not of the command line.
            _ = await reported
            log(OptionError.describe(error))
            if case let .display(display) = error, display.isNotAnswering { return 1 }
            return 2
        } catch {
            // A failure after the start is in the result, reported below.
        }
        return await reported ?? 1
    }

    /// Shows the events; the exit code once `.stopped` came, nil when the
    /// session never started.
    private func report(_ events: AsyncStream<RecordingEvent>) async -> Int32? {
        var exitCode: Int32?
        for await event in events {
            switch event {
            case let .started(info):
                let audio = info.audio.map { " + \($0.device) (\($0.format))" } ?? ", no audio"
                let destinations = (info.output.map { [$0] } ?? []) + info.streams + (info.hls.map { [$0] } ?? [])
                guard info.hasVideo else {
                    log("recording sound alone from \(info.audio.map { "\($0.device) (\($0.format))" } ?? "")"
                        + " to \(destinations.joined(separator: ", "))")
                    break
                }
                let renditions = info.renditions.count < 2 ? ""
                    : ", renditions " + info.renditions.map { "\($0.names.joined(separator: "="))=\($0.width)x\($0.height)" }
                        .joined(separator: ", ")
                log("recording \(info.display) \(info.width)x\(info.height)@\(info.framesPerSecond) via \(info.grabMethod)"
                    + "\(audio) to \(destinations.joined(separator: ", ")), H.264 level \(info.level)\(renditions)")
            case let .statistics(statistics):
                if interactive { showStatus(statistics) }
            case let .warning(warning):
                log("warning: \(warning)")
            case let .stream(event):
                log("stream \(event.url): \(Self.describe(event.change))")
            case let .noMedia(event):
                log("\(event.change == .began ? "no media" : "media back"): \(event)")
            case let .stopped(result):
                exitCode = summarize(result)
            }
        }
        return exitCode
    }

    private func showStatus(_ statistics: RecordingStatistics) {
        FileHandle.standardError.write(Data(StatisticsText.status(statistics).utf8))
    }

    private func summarize(_ result: RecordingResult) -> Int32 {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        writeStatistics(result)
        let statistics = result.statistics
        let summary = StatisticsText.summary(statistics)
        if let output = result.output {
            let seconds = StatisticsText.fixed(result.finalizeDuration?.seconds ?? 0, 2)
            let state = result.outputState.map { "\($0.rawValue) in \(seconds) s" } ?? "finalized in \(seconds) s"
            if statistics.segments.count > 1 {
                // The recording's figures, then the last segment's own.
                let bytes = result.outputBytes.map { "; \($0) bytes on disk" } ?? ""
                log("wrote \(statistics.segments.count) segments: \(summary); the last, \(output)\(bytes), \(state)")
            } else {
                let bytes = result.outputBytes.map { "; \($0) bytes on disk" } ?? ""
                log("wrote \(output): \(summary)\(bytes), \(state)")
            }
        } else {
            log("\(statistics.streams.isEmpty ? "wrote nothing" : "streamed"): \(summary)")
        }
        for stream in statistics.streams {
            log(StatisticsText.stream(stream))
        }
        if statistics.segments.count > 1 {
            log("\(statistics.segments.count) segments: " + statistics.segments.map {
                "\(($0.path as NSString).lastPathComponent) (\(StatisticsText.fixed($0.duration, 2)) s)"
            }.joined(separator: ", "))
        }
        if statistics.hlsSegments > 0 { log("HLS: \(statistics.hlsSegments) segments listed") }
        if let script = result.finalizeScript { log("finalize script \(script)") }
        if let error = result.error {
            log("error: \(OptionError.describe(error))")
            return 1
        }
        return 0
    }

    private static func describe(_ change: NetworkSinkEvent) -> String {
        switch change {
        case .connected:
            return "connected"
        case let .connectionFailed(attempt, failure, retryIn?):
            return "connection attempt \(attempt) failed: \(failure); retrying in \(String(format: "%.1f", retryIn.seconds)) s"
        case let .connectionFailed(attempt, failure, nil):
            return "connection attempt \(attempt) failed: \(failure); no more attempts"
        case let .disconnected(failure):
            return "disconnected: \(failure)"
        case let .reconnected(downtime, attempts):
            return "reconnected after \(String(format: "%.1f", downtime.seconds)) s (\(attempts) attempt(s)), resuming at a keyframe"
        case let .gaveUp(attempts):
            return "gave up after \(attempts) failed attempt(s) (--max-reconnects)"
        }
    }

    /// The statistics file: the command line's contract since the first
    /// version (seconds as numbers, the same keys).
    private func writeStatistics(_ result: RecordingResult) {
        guard let statsPath else { return }
        let statistics = result.statistics
        let summary: [String: Any?] = [
            "output": result.output,
            "error": result.error.map(OptionError.describe),
            "stopReason": "\(result.stopReason)",
            "finalizeSeconds": result.finalizeDuration?.seconds,
            "finalizeScriptStatus": result.finalizeScript.flatMap { if case let .exited(status) = $0 { Int(status) } else { nil } },
            "outputBytes": result.outputBytes,
            "outputState": result.outputState?.rawValue,
            "statistics": [
                "mediaSeconds": statistics.mediaDuration.seconds,
                "elapsedSeconds": statistics.elapsed.seconds,
                "framesCaptured": statistics.framesCaptured,
                "framesEncoded": statistics.framesEncoded,
                "framesDropped": statistics.framesDropped,
                "framesDuplicated": statistics.framesDuplicated,
                "lateGrabs": statistics.lateGrabs,
                "framesUnchanged": statistics.framesUnchanged,
                "framesConverted": statistics.framesConverted,
                "framesScaled": statistics.framesScaled,
                "renditions": statistics.renditions.map {
                    ["names": $0.names, "width": $0.width, "height": $0.height, "encoderThreads": $0.encoderThreads,
                     "bytes": $0.bytes] as [String: Any]
                },
                "segments": statistics.segments.map {
                    ["path": $0.path, "start": $0.start, "duration": $0.duration, "bytes": $0.bytes,
                     "state": $0.outcome?.rawValue ?? "writing"] as [String: Any]
                },
                "hlsSegments": statistics.hlsSegments,
                "skipPictures": statistics.skipPictures,
                "pixelsGrabbed": statistics.pixelsGrabbed,
                "damageChecks": statistics.damageChecks,
                "screenSizeChanges": statistics.screenSizeChanges,
                "audioOverruns": statistics.audioOverruns,
                "audioSilenceFrames": statistics.audioSilenceFrames,
                "audioFramesDropped": statistics.audioFramesDropped,
                "bytesWritten": statistics.bytesWritten,
                "framesPerSecond": statistics.framesPerSecond,
                "bitrate": statistics.bitrate,
                "audioVideoOffset": statistics.audioVideoOffset.seconds,
                "cpuSeconds": statistics.cpuTime.seconds,
                "encoderThreads": statistics.encoderThreads,
                "streams": statistics.streams.map(Self.json),
                "paused": statistics.paused,
                "pauses": statistics.pauses,
                "pausedSeconds": statistics.pausedDuration.seconds,
            ] as [String: Any],
        ]
        do {
            let data = try JSONSerialization.data(withJSONObject: summary.compactMapValues { $0 },
                                                  options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: statsPath))
        } catch {
            log("warning: cannot write \(statsPath): \(error)")
        }
    }

    private static func json(_ stream: NetworkSinkStatistics) -> [String: Any] {
        [
            "url": stream.url, "connected": stream.connected, "connections": stream.connections,
            "disconnects": stream.disconnects, "failedAttempts": stream.failedAttempts, "gaveUp": stream.gaveUp,
            "packetsSent": stream.packetsSent, "bytesSent": stream.bytesSent,
            "videoPacketsDroppedDisposable": stream.videoPacketsDroppedDisposable,
            "videoPacketsDroppedToKeyframe": stream.videoPacketsDroppedToKeyframe,
            "packetsDroppedQueueFull": stream.packetsDroppedQueueFull,
            "packetsDiscardedOffline": stream.packetsDiscardedOffline,
            "queuedSeconds": stream.queued.seconds, "maximumQueuedSeconds": stream.maximumQueued.seconds,
            "threadCPUSeconds": stream.threadCPUTime.seconds,
        ]
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("record-display: \(message)\n".utf8))
    }
}
