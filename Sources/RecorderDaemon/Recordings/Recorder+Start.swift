import Foundation
import RecorderEngine

extension Recorder {
    /// Checks a request, admits it and starts its recording; returns it once
    /// it records (or failed to start, or `startTimeoutSeconds` passed).
    /// A refused request starts and writes nothing.
    func start(_ request: RecordingRequest) async throws(APIError) -> Recording {
        guard !isDraining else {
            metrics.refused("draining")
            throw APIError(status: 503, message: "shutting down: no new recordings", reason: "draining",
                           retryAfter: configuration.retryAfterSeconds)
        }
        let id = "rec-" + randomHex(12)
        var display = request.display
        var audioDevice = request.audioDevice
        if let name = request.workspace {
            guard let workspace = await workspaces.workspace(name) else {
                metrics.refused("invalid")
                throw .badRequest(FieldError(field: "workspace", reason: "no workspace '\(name)'"))
            }
            display = workspace.display
            audioDevice = workspace.capturePCM
        }
        guard let display else { throw .badRequest(FieldError(field: "display", reason: "required")) }
        if !request.streams.isEmpty && configuration.streamAllowList.isEmpty {
            metrics.refused("invalid")
            throw .badRequest(FieldError(field: "streams",
                                         reason: "streaming is not enabled here (the daemon has no stream allow-list)"))
        }

        for (index, url) in request.streams.enumerated() {
            do {
                _ = try StreamURL(url, option: "streams[\(index)]")
            } catch {
                metrics.refused("invalid")
                throw .badRequest(FieldError(field: error.name, reason: "\(error.value): \(error.reason)"))
            }
        }

        // The file, confined to the recordings directory.
        var file: RecordingFile?
        do {
            file = try RecordingFile(relative: request.file ?? "\(id)/\(id).mp4", root: configuration.recordingsDir)
        } catch let error as FieldError {
            metrics.refused("invalid")
            throw .badRequest(error)
        } catch let error as RecordingFile.FileExists {
            metrics.refused("invalid")
            throw APIError(status: 409, message: "file '\(error.path)' exists already", field: "file", reason: "exists")
        } catch {
            throw APIError(status: 500, message: "\(error)")
        }

        // The engine's configuration, checked by the session before anything opens.
        var capture = DisplayCaptureConfiguration(display: display, framesPerSecond: request.fps,
                                                  drawsCursor: request.drawCursor)
        capture.region = request.region
        let audioEncoding: AudioEncoderSettings
        do {
            audioEncoding = try AudioEncoderSettings(sampleRate: request.audioRate, channels: 2, bitrate: request.audioBitrate)
        } catch {
            throw .badRequest(FieldError(field: "audio", reason: "\(error)"))
        }
        var engine = RecordingConfiguration(
            capture: capture, audio: audioDevice.map { PCMCaptureConfiguration(device: $0) }, audioEncoding: audioEncoding,
            video: request.video, output: file.map { FileOutput(path: $0.path) })
        engine.id = id
        // The engine adds `session` (the recording's id) to its lines.
        engine.logger = logger
        engine.streams = request.streams.map { StreamOutput(url: $0) }
        engine.streamAllowList = configuration.streamAllowList
        engine.duration = request.duration.map { .seconds($0) }
        engine.finalizeScript = configuration.finalizeScript
        engine.statisticsInterval = .seconds(configuration.statisticsIntervalSeconds)
        engine.noMedia = configuration.noMediaDetection(
            silenceSeconds: Self.resolve(request.silenceSeconds, default: configuration.noMediaSilenceSeconds),
            frozenSeconds: Self.resolve(request.frozenSeconds, default: configuration.noMediaFrozenSeconds))
        if audioDevice == nil { engine.noMedia.silenceDuration = nil }

        // The size is the region's; without one, the health probe's stands
        // in for the cost until the display is open.
        let width = request.region?.width ?? configuration.probeWidth
        let height = request.region?.height ?? configuration.probeHeight
        let cores = costs.estimate(width: width, height: height, fps: request.fps, preset: request.video.preset.rawValue)
        let bitrate = expectedBitrate(width: width, height: height, fps: request.fps, maxrate: request.video.maxrate,
                                      audioBitrate: audioDevice == nil ? nil : request.audioBitrate)
        if let refusal = admission(cores: cores, bitrate: bitrate) {
            metrics.refused(refusal.reason)
            logger.notice("recording refused: \(refusal.message)")
            throw APIError(status: 503, message: refusal.message, reason: refusal.reason,
                           retryAfter: configuration.retryAfterSeconds)
        }

        // Directories the file needs, then the session (which checks the rest).
        let made: [String]
        do {
            made = try file?.createDirectories() ?? []
        } catch let error as FieldError {
            throw APIError(status: 500, message: error.description, field: error.field)
        } catch {
            throw APIError(status: 500, message: "\(error)")
        }
        let session: RecordingSession
        do {
            session = try RecordingSession(configuration: engine)
        } catch {
            file?.removeDirectories(made)
            metrics.refused("invalid")
            throw .badRequest(Self.field(for: error, streams: request.streams))
        }
        let recording = Recording(
            id: id, session: session, file: file?.path, display: display, audioDevice: audioDevice,
            workspace: request.workspace, streams: request.streams.map { (try? StreamURL($0))?.redacted ?? "***" },
            metadata: request.metadata, width: request.region?.width, height: request.region?.height, fps: request.fps,
            preset: request.video.preset.rawValue, noMediaAction: request.noMediaAction ?? configuration.noMediaAction,
            estimatedCores: cores, expectedBitrate: bitrate)
        do {
            try admit(recording)
        } catch {
            file?.removeDirectories(made)
            metrics.refused(error.reason)
            throw APIError(status: error.reason == "busy" ? 409 : 503, message: error.message, reason: error.reason,
                           retryAfter: error.reason == "busy" ? nil : configuration.retryAfterSeconds)
        }
        if let path = file?.path {
            do {
                try journal.write(Journal.Entry(id: id, file: path, finalizeScript: configuration.finalizeScript,
                                                metadata: request.metadata, startedAt: Recording.iso8601(Date())))
            } catch {
                withdraw(recording)
                file?.removeDirectories(made)
                throw APIError(status: 500, message: "cannot write the journal in \(journal.directory): \(error)")
            }
        }
        logger.info("recording admitted", metadata: [
            "recording": "\(id)", "display": "\(display)", "audio": "\(audioDevice ?? "none")",
            "file": "\(file?.path ?? "none")", "estimated_cores": "\(cores)",
        ])
        await launch(recording)
        // Answer once it records, or failed to start.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await recording.waitUntilStartedOrEnded() }
            group.addTask { try? await Task.sleep(for: .seconds(self.configuration.startTimeoutSeconds)) }
            await group.next()
            group.cancelAll()
        }
        return recording
    }

    private static func resolve(_ setting: RecordingRequest.Setting<Double>, default value: Double?) -> Double? {
        switch setting {
        case .default: value
        case .off: nil
        case let .value(seconds): seconds
        }
    }

    /// The request field an engine refusal concerns.
    static func field(for error: RecordingError, streams: [String]) -> FieldError {
        guard case let .configuration(invalid) = error else { return FieldError(field: "body", reason: "\(error)") }
        let names: [String: String] = [
            "--fps": "fps", "fps": "fps", "--region": "region", "crf": "video.crf", "maxrate": "video.maxrate",
            "bufsize": "video.bufsize", "gop": "video.gop", "width": "region", "height": "region",
            "audio device": "audioDevice", "audio rate": "audio.rate", "audio bitrate": "audio.bitrate",
            "output": "file", "--duration": "duration", "silence level": "noMedia",
            "silence duration": "noMedia.silenceSeconds", "frozen duration": "noMedia.frozenSeconds",
        ]
        if invalid.name == "--stream" || invalid.name == "--allow" {
            let index = streams.firstIndex { (try? StreamURL($0))?.redacted == invalid.value }
            return FieldError(field: index.map { "streams[\($0)]" } ?? "streams", reason: "\(invalid.value): \(invalid.reason)")
        }
        return FieldError(field: names[invalid.name] ?? invalid.name, reason: "\(invalid.value): \(invalid.reason)")
    }
}
