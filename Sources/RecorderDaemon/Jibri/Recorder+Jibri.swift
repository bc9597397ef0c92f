import Foundation

/// The daemon as Jibri's recording host. What runs today is a recording of
/// a private workspace at the configured size (Xvfb + PulseAudio sink), in
/// Jibri's file layout (`RECORDINGS/SESSION_ID/CALLNAME_yyyy-MM-dd-HH-mm-ss.mp4`
/// and `metadata.json`), finalized by the daemon's finalize script with
/// that directory. The meeting itself is not on it yet: the page recording
/// (a browser joining `meetingURL` in the workspace) replaces
/// `jibriRecordingRequest(for:workspace:file:)`.
extension Recorder: JibriRecordingHost {
    func jibriCapacity(width: Int, height: Int, fps: Int) async -> JibriCapacity {
        let active = activeRecordings
        let cores = costs.estimate(width: width, height: height, fps: fps, preset: configuration.probePreset)
        let bitrate = expectedBitrate(width: width, height: height, fps: fps, maxrate: nil, audioBitrate: 128_000)
        var reasons: [String] = []
        if access(configuration.recordingsDir, W_OK | X_OK) != 0 {
            reasons.append("recordings directory \(configuration.recordingsDir) is not writable")
        }
        if configuration.workspacesEnabled == false { reasons.append("workspaces are disabled") }
        // How many more fit: admission asked for 1, 2, ... at once.
        let limit = configuration.xmpp?.slots ?? 1
        var more = 0
        let host = (cores: capacityCores, freeBytes: HostResources.freeBytes(configuration.recordingsDir))
        while more < limit, admission(cores: cores * Double(more + 1), bitrate: bitrate * Double(more + 1),
                                      beside: active, host: host) == nil {
            more += 1
        }
        if isDraining { more = 0 }
        return JibriCapacity(more: more, healthy: reasons.isEmpty, reasons: reasons)
    }

    func startJibriRecording(_ request: JibriRecordingRequest) async throws(JibriStartFailure) -> any JibriRecordingHandle {
        let workspace: WorkspaceView
        do {
            workspace = try await createWorkspace(width: request.width, height: request.height)
        } catch RecorderError.draining {
            throw .busy("shutting down")
        } catch {
            throw .failed("workspace: \(error)", retry: true)
        }
        let directory = request.directoryName
        let stamp = Self.jibriTimestamp(Date())
        let suffix = "_\(stamp).mp4"
        let file = "\(directory)/\(request.callName.prefix(125 - suffix.count))\(suffix)"
        do {
            try FileManager.default.createDirectory(atPath: "\(configuration.recordingsDir)/\(directory)",
                                                    withIntermediateDirectories: true)
            try Self.jibriMetadata(request).write(to: URL(fileURLWithPath: "\(configuration.recordingsDir)/\(directory)/metadata.json"))
        } catch {
            try? await deleteWorkspace(workspace.id)
            throw .failed("cannot write \(directory)/metadata.json: \(error)", retry: true)
        }
        let recording: Recording
        do {
            recording = try await start(jibriRecordingRequest(for: request, workspace: workspace, file: file))
        } catch {
            try? await deleteWorkspace(workspace.id)
            switch error {
            case .cpu(let reason), .disk(let reason), .busy(let reason, _): throw .busy(reason)
            case .draining: throw .busy("shutting down")
            case .workspaces: throw .busy("\(error)")
            // A stream refused (allow-list, scheme) or a bad value: no other recorder would do better.
            case .configuration, .invalid: throw .failed("\(error)", retry: false)
            default: throw .failed("\(error)", retry: true)
            }
        }
        if recording.state != .recording {
            let error = recording.snapshot().error ?? "did not start"
            _ = await recording.waitUntilDone(deadline: .now + .seconds(configuration.stopTimeoutSeconds))
            try? await deleteWorkspace(workspace.id)
            throw .failed(error, retry: true)
        }
        return JibriRecordingOnWorkspace(recorder: self, recording: recording, workspace: workspace.id)
    }

    /// What the daemon records for a Jibri session. Today: the workspace's
    /// display and sound. With page recordings: the meeting page
    /// (`request.meetingURL`, `request.callLogin`) opened in it.
    func jibriRecordingRequest(for request: JibriRecordingRequest, workspace: WorkspaceView, file: String) -> RecordingRequest {
        var recording = RecordingRequest()
        recording.workspace = workspace.id
        recording.fps = request.fps
        recording.file = file
        if let stream = request.streamURL { recording.streams = [stream] }
        recording.metadata = ["jibri_session": request.sessionID, "environment": request.environment]
        return recording
    }

    /// Jibri's file name stamp, `yyyy-MM-dd-HH-mm-ss` (local time).
    static func jibriTimestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
        return formatter.string(from: date)
    }

    /// Jibri's metadata.json: `meeting_url` (no hash), `participants` (the
    /// page gives them; none yet), and each key of app_data's
    /// `file_recording_metadata` at the top level.
    static func jibriMetadata(_ request: JibriRecordingRequest) throws -> Data {
        var object: [String: Any] = ["meeting_url": request.meetingURL, "participants": [Any]()]
        if let appData = request.appData, let data = appData.data(using: .utf8),
           let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let extra = parsed["file_recording_metadata"] as? [String: Any] {
            for (key, value) in extra { object[key] = value }
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}

/// A Jibri session's recording on its own workspace, removed at the end.
struct JibriRecordingOnWorkspace: JibriRecordingHandle {
    let recorder: Recorder
    let recording: Recording
    let workspace: String

    func stop() { recording.requestStop(.stopRequested) }

    func ended() async -> JibriRecordingOutcome {
        while !Task.isCancelled, await !recording.waitUntilDone(deadline: .now + .seconds(3600)) {}
        try? await recorder.deleteWorkspace(workspace)
        let outcome = recording.snapshot()
        if outcome.state == .failed { return .failed(outcome.error ?? "failed", retry: true) }
        return .finished
    }
}
