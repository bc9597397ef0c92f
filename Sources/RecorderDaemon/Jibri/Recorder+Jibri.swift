import Foundation
import PageBrowser

/// The daemon as Jibri's recording host: a start records the meeting's page
/// as Jibri joins it (a page recording of a Jitsi room, `Browser/Jitsi/`),
/// in Jibri's file layout (`RECORDINGS/SESSION_ID/CALLNAME_yyyy-MM-dd-HH-mm-ss.mp4`
/// and `metadata.json`), finalized by the daemon's finalize script with
/// that directory.
extension Recorder: JibriRecordingHost {
    func jibriCapacity(width: Int, height: Int, fps: Int) async -> JibriCapacity {
        let active = activeRecordings
        // A page recording: the engine's and its browser's estimates.
        let cores = costs.estimate(width: width, height: height, fps: fps, preset: configuration.probePreset)
            + pageCost.estimate(width: width, height: height)
        let bitrate = expectedBitrate(width: width, height: height, fps: fps, maxrate: nil, audioBitrate: 128_000)
        var reasons: [String] = []
        if access(configuration.recordingsDir, W_OK | X_OK) != 0 {
            reasons.append("recordings directory \(configuration.recordingsDir) is not writable")
        }
        if configuration.workspacesEnabled == false { reasons.append("workspaces are disabled") }
        if Self.executablePath(configuration.browserPath) == nil {
            reasons.append("browser \(configuration.browserPath) is not installed")
        }
        if geteuid() == 0 && !configuration.browserNoSandbox {
            reasons.append("the daemon runs as root, where the browser cannot keep its sandbox (browserNoSandbox)")
        }
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

    /// Opens the meeting (`jibriMeeting`) in a page recording of its own
    /// workspace and returns once the page has joined and the first frame
    /// is encoded. Failures as Jibri answers them: the page never joined
    /// (or the browser failed) is `error` with retry; a stream the
    /// allow-list refuses, or a room or login that cannot be used, is
    /// `error` without retry (no other recorder would do better).
    func startJibriRecording(_ request: JibriRecordingRequest) async throws(JibriStartFailure) -> any JibriRecordingHandle {
        let began = ContinuousClock.now
        let meeting = try Self.jibriMeeting(request, jitsi: configuration.jitsi)
        let stamp = Self.jibriTimestamp(Date())
        let suffix = "_\(stamp).mp4"
        let file = "\(request.directoryName)/\(request.callName.prefix(125 - suffix.count))\(suffix)"
        let recording: Recording
        do {
            recording = try await start(jibriRecordingRequest(for: request, meeting: meeting, file: file), meeting: meeting)
        } catch {
            switch error {
            case .cpu(let reason), .disk(let reason), .busy(let reason, _): throw .busy(reason)
            case .draining: throw .busy("shutting down")
            case .workspaces: throw .busy("\(error)")
            // A stream refused (allow-list, scheme) or a bad value: no other recorder would do better.
            case .configuration, .invalid: throw .failed("\(error)", retry: false)
            default: throw .failed("\(error)", retry: true)
            }
        }
        // The session starts once the page has joined (its start gate); `on`
        // waits for its first encoded frame too. The page keeps its own
        // deadlines (browser launch, navigation, join); this one is a backstop.
        let deadline = began + .seconds(configuration.jitsi.joinTimeoutSeconds + 120)
        _ = await recording.waitUntilStartedOrEnded(deadline: deadline)
        while recording.state == .recording, recording.session.statistics.framesEncoded == 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard recording.state == .recording, recording.session.statistics.framesEncoded > 0 else {
            if recording.state.isActive { recording.requestStop(.stopRequested) }
            let error = recording.snapshot().error ?? "did not start within \(Int((deadline - began).seconds)) s"
            _ = await recording.waitUntilDone(deadline: .now + .seconds(configuration.stopTimeoutSeconds))
            throw .failed(error, retry: true)
        }
        logger.notice("jibri recording on: \(Self.describeStart(began: began, phases: recording.page?.startPhases))",
                      metadata: ["recording": "\(recording.id)", "session": "\(request.sessionID)"])
        return JibriPageRecording(recording: recording)
    }

    /// The room as Jibri joins it: `callName` (and tenant) under the
    /// environment's base URL, the environment's `call-login` as the hidden
    /// recorder with Jibri's empty display name; the join deadline, the
    /// call-status checks and the legacy localStorage login from the
    /// daemon's `jitsi` key (`jitsi`); app_data's `file_recording_metadata`
    /// as metadata.json's extra keys (none when app_data is not Jibri's
    /// JSON object). Throws `.failed` without retry when no call login is
    /// configured or the room cannot be opened, with retry when the
    /// password file cannot be read now.
    static func jibriMeeting(_ request: JibriRecordingRequest, jitsi daemon: JitsiConfiguration) throws(JibriStartFailure) -> JitsiMeeting {
        guard let login = request.callLogin else {
            throw .failed("environment \(request.environment) has no call-login: the recorder cannot join the meeting", retry: false)
        }
        let password: String
        do {
            password = try login.password()
        } catch {
            throw .failed("cannot read the call-login password file \(login.passwordFile)", retry: true)
        }
        var jitsi = daemon
        jitsi.baseURL = request.baseURL
        jitsi.callLogin = JitsiConfiguration.CallLogin(domain: login.domain, username: login.username, passwordFile: login.passwordFile)
        jitsi.displayName = ""
        let metadata = request.appData.flatMap { try? MeetingMetadata.additional(fromAppData: $0) } ?? [:]
        do {
            return try JitsiMeeting(room: request.callName, tenant: request.tenant.isEmpty ? nil : request.tenant,
                                    configuration: jitsi, password: password, appData: metadata)
        } catch {
            throw .failed("the room cannot be opened: \(error)", retry: false)
        }
    }

    /// The page recording of a Jibri session: the meeting at the
    /// configured size, its file in the session's directory, the stream
    /// (stream mode), stopped at `usage-timeout`.
    func jibriRecordingRequest(for request: JibriRecordingRequest, meeting: JitsiMeeting, file: String) -> RecordingRequest {
        var page = PageRequest(kind: .jitsi(JitsiRequest(room: request.callName, tenant: request.tenant.isEmpty ? nil : request.tenant,
                                                         metadata: meeting.appData)))
        page.width = request.width
        page.height = request.height
        var recording = RecordingRequest()
        recording.page = page
        recording.fps = request.fps
        recording.file = file
        recording.duration = request.usageTimeout.map { $0.seconds }
        if let stream = request.streamURL { recording.streams = [stream] }
        recording.metadata = ["jibri_session": request.sessionID, "environment": request.environment]
        return recording
    }

    /// `after 4.1 s: workspace+admission 0.9, browser 1.2, page 0.4, join 1.1, first frame 0.5`.
    static func describeStart(began: ContinuousClock.Instant, phases: PageSession.StartPhases?) -> String {
        let now = ContinuousClock.now
        func seconds(_ from: ContinuousClock.Instant?, _ to: ContinuousClock.Instant?) -> String {
            guard let from, let to else { return "?" }
            return String(format: "%.2f", (to - from).seconds)
        }
        let phases = phases ?? PageSession.StartPhases()
        return "after \(seconds(began, now)) s: workspace+admission \(seconds(began, phases.opening)), "
            + "browser \(seconds(phases.opening, phases.launched)), page \(seconds(phases.launched, phases.loaded)), "
            + "join \(seconds(phases.loaded, phases.gateOpen)), first frame \(seconds(phases.gateOpen, now))"
    }

    /// `program` as the browser launch finds it (a path, or a name on `PATH`).
    static func executablePath(_ program: String) -> String? {
        if program.contains("/") { return access(program, X_OK) == 0 ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(program)" }.first { access($0, X_OK) == 0 }
    }

    /// Jibri's file name stamp, `yyyy-MM-dd-HH-mm-ss` (local time).
    static func jibriTimestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
        return formatter.string(from: date)
    }
}

/// A Jibri session's page recording. Its workspace and browser go with it;
/// its `metadata.json` is written once the file is final, before the
/// finalize script.
struct JibriPageRecording: JibriRecordingHandle {
    let recording: Recording

    func stop() { recording.requestStop(.stopRequested) }

    func ended() async -> JibriRecordingOutcome {
        while !Task.isCancelled, await !recording.waitUntilDone(deadline: .now + .seconds(3600)) {}
        let outcome = recording.snapshot()
        if outcome.state == .failed { return .failed(outcome.error ?? "failed", retry: true) }
        return .finished
    }
}
