import Foundation
import RecorderEngine

extension Recorder {
    /// Checks a request, admits it and starts its recording; returns it once
    /// it records (or failed to start, or `startTimeoutSeconds` passed).
    /// A refused request starts and writes nothing. `meeting`: the Jitsi
    /// room of a `page.jitsi` request when the caller built it (a Jibri
    /// start, from its XMPP environment) rather than the daemon's `jitsi`.
    func start(_ request: RecordingRequest, meeting given: JitsiMeeting? = nil) async throws(RecorderError) -> Recording {
        guard !isDraining else { throw .draining }
        let id = "rec-" + randomHex(12)
        // A page's display and sound are the workspace made for it below.
        var display = ""
        var audioDevice: String? = request.page == nil ? nil : "workspace"
        if request.page == nil { (display, audioDevice) = try await devices(for: request) }
        let meeting = try request.page.map { page throws(RecorderError) in try checkPage(page, meeting: given) } ?? nil
        try checkStreams(request.streams)
        let noVideo = request.outputs.noVideo
        // Sound alone is AAC in an MP4: `.m4a` or `.mp4`.
        let file = try recordingFile(request.file ?? "\(id)/\(id)" + (noVideo ? ".m4a" : ".mp4"),
                                     extensions: noVideo ? [".m4a", ".mp4"] : [".mp4"])
        let playlist = try request.outputs.hlsPlaylist.map { relative throws(RecorderError) in
            try recordingFile(relative, field: "hls.playlist", extensions: [".m3u8"])
        }

        // The size is the page's or the region's; without one, the health
        // probe's stands in for the cost until the display is open. A page
        // adds its browser's estimate.
        let width = request.page?.width ?? request.region?.width ?? configuration.probeWidth
        let height = request.page?.height ?? request.region?.height ?? configuration.probeHeight
        let browserCores = request.page.map { pageCost.estimate(width: $0.width, height: $0.height) } ?? 0
        // Sound alone: AAC's cost (0.05 CPU-s/s at 128 kbit/s, measured in DESIGN.md).
        let cores = (noVideo ? 0.05
            : costs.estimate(width: width, height: height, fps: request.fps, preset: request.video.preset.rawValue))
            + browserCores
        let bitrate = noVideo ? Double(request.audioBitrate)
            : expectedBitrate(width: width, height: height, fps: request.fps, maxrate: request.video.maxrate,
                              audioBitrate: audioDevice == nil ? nil : request.audioBitrate)
        // Asked early so that a refusal for want of room makes no directory;
        // asked again, with the registration, under the registry's lock.
        if let refusal = admission(cores: cores, bitrate: bitrate, beside: activeRecordings) {
            logger.notice("recording refused: \(refusal)")
            throw refusal
        }

        // A page's workspace, then the directories the file needs, then
        // the session (which checks the rest).
        var pageSession: PageSession?
        var workspaceID = request.workspace
        if let page = request.page {
            let workspace = try await pageWorkspace(page)
            display = workspace.display
            audioDevice = workspace.capturePCM
            workspaceID = workspace.id
            var pageLogger = logger
            pageLogger[metadataKey: "recording"] = "\(id)"
            var settings = PageSettings(configuration)
            settings.animationFrameRate = request.fps
            pageSession = PageSession(request: page, settings: settings, limiter: launches,
                                      logger: pageLogger, meeting: meeting,
                                      metadataBeside: meeting == nil ? nil : (file.relative, file.directory))
        }
        let made: [String]
        do {
            made = try file.createDirectories() + (playlist?.createDirectories() ?? [])
        } catch let error as FieldError {
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw .invalid(error)
        } catch {
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw .failed("\(error)")
        }
        let session: RecordingSession
        do {
            session = try RecordingSession(configuration: engineConfiguration(
                id: id, request: request, display: display, audioDevice: audioDevice, file: file, playlist: playlist))
        } catch let error as RecorderError {
            file.removeDirectories(made)
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw error
        } catch let error as RecordingError {
            file.removeDirectories(made)
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw .configuration(error, streams: request.streams)
        } catch {
            file.removeDirectories(made)
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw .failed("\(error)")
        }
        let recording = Recording(
            id: id, session: session, file: file.path, display: display, audioDevice: audioDevice,
            workspace: workspaceID, streams: request.streams.map { (try? StreamURL($0))?.redacted ?? "***" },
            metadata: request.metadata, width: request.page?.width ?? request.region?.width,
            height: request.page?.height ?? request.region?.height, fps: request.fps,
            preset: request.video.preset.rawValue, noMediaAction: request.noMediaAction ?? configuration.noMediaAction,
            estimatedCores: cores, expectedBitrate: bitrate, page: pageSession, estimatedBrowserCores: browserCores)
        do {
            try admit(recording)
        } catch {
            file.removeDirectories(made)
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            switch error {
            case .cpu, .disk: logger.notice("recording refused: \(error)")
            default: break
            }
            throw error
        }
        do {
            try journal.write(Journal.Entry(id: id, file: file.path, finalizeScript: configuration.finalizeScript,
                                            metadata: request.metadata, startedAt: Recording.iso8601(Date()),
                                            recordingsDirectory: file.directory.path))
        } catch {
            withdraw(recording)
            file.removeDirectories(made)
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw .failed("cannot write the journal in \(journal.directory): \(error)")
        }
        logger.info("recording admitted", metadata: [
            "recording": "\(id)", "display": "\(display)", "audio": "\(audioDevice ?? "none")",
            "file": "\(file.path)", "estimated_cores": "\(cores)",
        ])
        do {
            try launch(recording)
        } catch {
            withdraw(recording)
            journal.remove(id)
            file.removeDirectories(made)
            await dropWorkspace(request.page == nil ? nil : workspaceID)
            throw error
        }
        // Answer once it records, or failed to start; at the deadline it
        // fails, naming its display, and releases it. A page may take
        // longer (its browser, its load, its start gate): it answers
        // `starting` then, and keeps its own deadlines.
        let deadline = ContinuousClock.now + .seconds(configuration.startTimeoutSeconds)
        if request.page != nil {
            _ = await recording.waitUntilStartedOrEnded(deadline: deadline)
            return recording
        }
        if await !recording.waitUntilStartedOrEnded(deadline: deadline), ContinuousClock.now >= deadline,
           recording.startTimedOut(after: configuration.startTimeoutSeconds) {
            logger.warning("recording did not start within \(configuration.startTimeoutSeconds) s: failed, display released",
                           metadata: ["recording": "\(id)", "display": "\(display)"])
        }
        return recording
    }

    /// The display and sound device: the request's, or its workspace's.
    private func devices(for request: RecordingRequest) async throws(RecorderError) -> (String, String?) {
        guard let name = request.workspace else {
            // Sound alone opens no display: none is claimed (empty).
            if request.outputs.noVideo { return ("", request.audioDevice) }
            guard let display = request.display else { throw .invalid(FieldError(field: "display", reason: "required")) }
            return (display, request.audioDevice)
        }
        guard let workspace = await workspaces.workspace(name) else {
            throw .invalid(FieldError(field: "workspace", reason: "no workspace '\(name)'"))
        }
        // The daemon started that screen: a region off it is refused now,
        // before anything starts (record-display finds it when it opens
        // the display).
        if let region = request.region {
            do {
                try region.validate(screenWidth: workspace.width, screenHeight: workspace.height)
            } catch {
                throw .invalid(FieldError(field: "region", reason: "'\(region)': \(error.reason) of workspace \(name)"))
            }
        }
        return (request.outputs.noVideo ? "" : workspace.display, workspace.capturePCM)
    }

    /// Stream URLs need an allow-list, and must be URLs the engine can send to.
    func checkStreams(_ streams: [String]) throws(RecorderError) {
        if !streams.isEmpty && configuration.streamAllowList.isEmpty {
            throw .invalid(FieldError(field: "streams",
                                      reason: "streaming is not enabled here (the daemon has no stream allow-list)"))
        }
        var schemes = StreamURL.Scheme.defaultAllowed
        if configuration.allowSRT { schemes.insert(.srt) }
        for (index, url) in streams.enumerated() {
            if url.hasPrefix("srt://") && !configuration.allowSRT {
                throw .invalid(FieldError(field: "streams[\(index)]", reason: "srt:// streams are not enabled here (the daemon's allowSRT)"))
            }
            do {
                _ = try StreamURL(url, key: .stream(index: index), schemes: schemes)
            } catch {
                throw .configuration(.configuration(error), streams: streams)
            }
        }
    }

    /// The file, confined to the recordings directory.
    func recordingFile(_ relative: String, field: String = "file", extensions: [String])
        throws(RecorderError) -> RecordingFile
    {
        do {
            return try RecordingFile(relative: relative, root: configuration.recordingsDir, field: field,
                                     extensions: extensions)
        } catch let error as FieldError {
            throw .invalid(error)
        } catch let error as RecordingFile.FileExists {
            throw .exists(error.path, field: error.field)
        } catch {
            throw .failed("\(error)")
        }
    }

    /// The engine's configuration for a request, checked by the session
    /// before anything opens.
    private func engineConfiguration(id: String, request: RecordingRequest, display: String, audioDevice: String?,
                                     file: RecordingFile, playlist: RecordingFile?) throws(RecorderError)
        -> RecordingConfiguration
    {
        var capture = DisplayCaptureConfiguration(display: display, framesPerSecond: request.fps,
                                                  drawsCursor: request.drawCursor)
        capture.region = request.region
        // Every X call's deadline, well inside the start's: a server that
        // does not answer fails the start with its name before the answer.
        capture.answerTimeout = .milliseconds(Int(1000 * min(5, max(1, configuration.startTimeoutSeconds / 3))))
        let audioEncoding: AudioEncoderSettings
        do {
            audioEncoding = try AudioEncoderSettings(sampleRate: request.audioRate, channels: 2, bitrate: request.audioBitrate)
        } catch {
            throw .invalid(FieldError(field: "audio", reason: "\(error)"))
        }
        var engine = RecordingConfiguration(
            capture: capture, audio: audioDevice.map { PCMCaptureConfiguration(device: $0) }, audioEncoding: audioEncoding,
            video: request.video,
            output: FileOutput(path: file.path, rendition: request.outputs.fileRendition, segments: request.outputs.segments))
        engine.recordsVideo = !request.outputs.noVideo
        engine.renditions = request.outputs.renditions
        engine.hls = playlist.map { HLSOutput(playlist: $0.path, rendition: request.outputs.hlsRendition) }
        if configuration.allowSRT { engine.allowedStreamSchemes.insert(.srt) }
        engine.confinement = file.directory
        engine.id = id
        // The engine adds `session` (the recording's id) to its lines.
        engine.logger = logger
        engine.streams = request.streams.enumerated().map { index, url in
            request.outputs.stream(index, url: url, srtPassphraseFile: configuration.srtPassphraseFile)
        }
        engine.streamAllowList = configuration.streamAllowList
        engine.duration = request.duration.map { .seconds($0) }
        // The daemon runs the script itself, once the display is released.
        engine.statisticsInterval = .seconds(configuration.statisticsIntervalSeconds)
        engine.noMedia = configuration.noMediaDetection(
            silenceSeconds: Self.resolve(request.silenceSeconds, default: configuration.noMediaSilenceSeconds),
            frozenSeconds: Self.resolve(request.frozenSeconds, default: configuration.noMediaFrozenSeconds))
        if audioDevice == nil { engine.noMedia.silenceDuration = nil }
        if request.outputs.noVideo {
            // No picture to watch: the daemon's default does not apply; a
            // value the request gave is refused by the engine.
            if case .value = request.frozenSeconds {} else { engine.noMedia.frozenDuration = nil }
        }
        return engine
    }

    private static func resolve(_ setting: RecordingRequest.Setting<Double>, default value: Double?) -> Double? {
        switch setting {
        case .default: value
        case .off: nil
        case let .value(seconds): seconds
        }
    }
}
