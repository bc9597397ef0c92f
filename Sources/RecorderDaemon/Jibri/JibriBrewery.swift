import Logging
import Metrics
import XMPPClient

/// The recorders Jicofo sees: `slots` occupants of each environment's
/// brewery (one XMPP connection per slot and server host), their presence,
/// and the start/stop IQs Jicofo sends them, answered as Jibri's `XmppApi`
/// answers (see docs/ARCHITECTURE.md and `JibriIQ`).
///
/// Presence: a slot with a recording says `busy`; of the others, as many
/// say `idle` as admission would take more recordings now (`JibriCapacity`,
/// refreshed after each start and end and every `refreshInterval`), the rest
/// `busy`; draining, all say `busy`. Health is the host's. Presence is sent
/// only on change (Jicofo: "jibri does NOT periodically advertise presence"),
/// and again by the client after each reconnect.
///
/// Faults: a slot whose connection is lost while it records stops that
/// recording (the file is finished and the finalize script runs), as Jibri
/// does, because Jicofo sees the occupant leave and gives the meeting to
/// another recorder at once; recording on would record it twice.
actor JibriBrewery {
    struct SlotStatus: Sendable, Equatable {
        var environment: String
        var slot: Int
        var nickname: String
        var connected: Bool
        var joined: Bool
        var busy: Bool
        var healthy: Bool
        var sessionID: String?
        var lastError: String?
    }

    /// One environment as `/health` shows it: healthy when every slot is
    /// joined and healthy; `error` the first slot's last error (it names
    /// the login, never the password).
    struct EnvironmentStatus: Sendable, Equatable {
        var name: String
        /// The control login's JID.
        var login: String
        var slots: [SlotStatus]
        var healthy: Bool { slots.allSatisfy { $0.joined && $0.healthy } }
        var error: String? { slots.lazy.compactMap(\.lastError).first }
    }

    private struct Session {
        var id: String
        /// The connection (server host) the start came on, and Jicofo's JID.
        var connection: Int
        var jicofo: String
        var handle: (any JibriRecordingHandle)?
        var stopRequested = false
        /// Stop IQs waiting for the end, answered `off` then.
        var stopRequests: [(connection: Int, iq: XMLElement)] = []
    }

    private struct Slot {
        let environment: JibriXMPPConfiguration.Environment
        let index: Int
        let nickname: String
        let clients: [XMPPClient]
        var states: [XMPPClientState]
        var session: Session?
        var announced: JibriPresenceStatus?
        var lastError: String?

        /// In the brewery over at least one of its connections.
        var isJoined: Bool { states.contains { if case .joined = $0 { true } else { false } } }
    }

    private let configuration: JibriXMPPConfiguration
    private let host: any JibriRecordingHost
    private let logger: Logger
    private var slots: [Slot] = []
    private var capacity = JibriCapacity(more: 0, healthy: false)
    private var draining = false
    /// The last error logged per environment: a failing login is one line,
    /// not one per slot and attempt.
    private var loggedErrors: [String: String] = [:]
    private var sessionCounter = 0

    init(configuration: JibriXMPPConfiguration, host: any JibriRecordingHost, logger: Logger) {
        self.configuration = configuration
        self.host = host
        self.logger = logger
    }

    /// The clients to connect: slots x server hosts, each environment's
    /// passwords read now. Throws the unreadable password file's error.
    static func makeSlots(_ configuration: JibriXMPPConfiguration, logger: Logger)
        throws -> [(environment: JibriXMPPConfiguration.Environment, index: Int, nickname: String, clients: [XMPPClient])] {
        var made: [(JibriXMPPConfiguration.Environment, Int, String, [XMPPClient])] = []
        for environment in configuration.environments {
            let password = try environment.controlLogin.password()
            for index in 0..<configuration.slots {
                let nickname = configuration.slots == 1
                    ? environment.controlMUC.nickname : "\(environment.controlMUC.nickname)-\(index + 1)"
                let clients = environment.servers.map { server in
                    XMPPClient(configuration: XMPPClientConfiguration(
                        jid: environment.controlLogin.jid, password: password, host: server.host, port: server.port,
                        trustAllCertificates: environment.trustAllCertificates, caFile: environment.caFile),
                        tag: "\(index)", logger: logger)
                }
                made.append((environment, index, nickname, clients))
            }
        }
        return made
    }

    func adopt(_ made: [(environment: JibriXMPPConfiguration.Environment, index: Int, nickname: String, clients: [XMPPClient])]) async {
        slots = made.map { Slot(environment: $0.environment, index: $0.index, nickname: $0.nickname, clients: $0.clients,
                                states: $0.clients.map { _ in .connecting }) }
        // The counters exist at 0 from the start, for dashboards and alerts.
        let counters: [(label: String, reason: JibriIQ.FailureReason?)] = [
            ("recorderd_jibri_starts_total", nil), ("recorderd_jibri_stops_total", nil),
            ("recorderd_jibri_failures_total", .busy), ("recorderd_jibri_failures_total", .error),
        ]
        for environment in configuration.environments {
            for counter in counters {
                var labels = [("environment", environment.name)]
                if let reason = counter.reason { labels.append(("reason", reason.rawValue)) }
                Counter(label: counter.label, dimensions: labels).increment(by: 0)
            }
        }
        for index in slots.indices { recordMetrics(slot: index) }
        await refresh()
    }

    // MARK: Presence

    /// Asks the host again and sends each slot's presence if it changed.
    func refresh() async {
        let fresh = await host.jibriCapacity(width: configuration.width, height: configuration.height, fps: configuration.fps)
        capacity = fresh
        publish()
    }

    private func publish() {
        // Starts answered `pending` whose recording is not admitted yet are
        // not in the host's count.
        let reserved = slots.filter { $0.session != nil && $0.session?.handle == nil }.count
        var idleLeft: [String: Int] = [:]
        for index in slots.indices {
            let environment = slots[index].environment.name
            var left = idleLeft[environment] ?? max(0, capacity.more - reserved)
            let busy = draining || slots[index].session != nil || left == 0
            if !busy { left -= 1 }
            idleLeft[environment] = left
            let status = JibriPresenceStatus(busy: busy, healthy: capacity.healthy)
            guard status != slots[index].announced else { continue }
            slots[index].announced = status
            recordMetrics(slot: index)
            let muc = slots[index].environment.controlMUC
            for client in slots[index].clients {
                client.setRoomPresence(room: slots[index].environment.breweryJID, nickname: slots[index].nickname,
                                       extensions: [status.element])
            }
            logger.debug("jibri presence", metadata: [
                "environment": "\(environment)", "slot": "\(slots[index].index)", "room": "\(muc.roomName)",
                "busy": "\(busy)", "healthy": "\(capacity.healthy)",
            ])
        }
    }

    /// Every slot says `busy` (SIGTERM), then the running recordings are
    /// asked to stop; each reports `off` when its file is final.
    func drain() {
        guard !draining else { return }
        draining = true
        publish()
        for index in slots.indices where slots[index].session != nil {
            slots[index].session?.stopRequested = true
            slots[index].session?.handle?.stop()
        }
    }

    var activeSessions: Int { slots.filter { $0.session != nil }.count }

    func status() -> [SlotStatus] {
        slots.map { slot in
            SlotStatus(environment: slot.environment.name, slot: slot.index, nickname: slot.nickname,
                       connected: slot.states.contains { $0 != .connecting && !$0.isDisconnected },
                       joined: slot.isJoined, busy: slot.announced?.busy ?? true, healthy: capacity.healthy,
                       sessionID: slot.session?.id, lastError: slot.lastError)
        }
    }

    /// Each environment in configuration order, its slots in order.
    func environments() -> [EnvironmentStatus] {
        let all = status()
        return configuration.environments.map { environment in
            EnvironmentStatus(name: environment.name, login: environment.controlLogin.jid,
                              slots: all.filter { $0.environment == environment.name })
        }
    }

    // MARK: Metrics

    /// Per slot (labels `environment` and `slot`, both from the
    /// configuration): connected, joined, busy and healthy (as its presence
    /// says); per environment: healthy (`EnvironmentStatus.healthy`).
    private func recordMetrics(slot index: Int) {
        let slot = slots[index]
        let labels = [("environment", slot.environment.name), ("slot", "\(slot.index)")]
        Gauge(label: "recorderd_xmpp_connected", dimensions: labels)
            .record(slot.states.contains { $0 != .connecting && !$0.isDisconnected } ? 1 : 0)
        Gauge(label: "recorderd_xmpp_joined", dimensions: labels).record(slot.isJoined ? 1 : 0)
        Gauge(label: "recorderd_jibri_slot_busy", dimensions: labels).record(slot.announced?.busy ?? true ? 1 : 0)
        Gauge(label: "recorderd_jibri_slot_healthy", dimensions: labels).record(slot.announced?.healthy == true ? 1 : 0)
        let environment = slots.filter { $0.environment.name == slot.environment.name }
        Gauge(label: "recorderd_xmpp_environment_healthy", dimensions: [("environment", slot.environment.name)])
            .record(environment.allSatisfy { $0.isJoined && $0.announced?.healthy == true } ? 1 : 0)
    }

    /// One `off` with Jibri's failure reason sent (an answer or a report).
    private func countFailure(environment: String, _ reason: JibriIQ.FailureReason) {
        Counter(label: "recorderd_jibri_failures_total", dimensions: [("environment", environment), ("reason", reason.rawValue)])
            .increment()
    }

    // MARK: Connection states

    func stateChanged(slot index: Int, connection: Int, _ state: XMPPClientState) {
        slots[index].states[connection] = state
        recordMetrics(slot: index)
        let environment = slots[index].environment.name
        switch state {
        case .disconnected(let error):
            let text = "\(error)"
            slots[index].lastError = text
            Counter(label: "recorderd_xmpp_errors_total", dimensions: [("environment", environment)]).increment()
            if loggedErrors[environment] != text {
                loggedErrors[environment] = text
                logger.error("xmpp environment \(environment): \(text)", metadata: ["environment": "\(environment)"])
            }
            if var session = slots[index].session, session.connection == connection, !session.stopRequested {
                logger.warning("connection lost while recording: stopping the recording (Jicofo gives the meeting to another recorder)",
                               metadata: ["environment": "\(environment)", "slot": "\(slots[index].index)", "session": "\(session.id)"])
                session.stopRequested = true
                session.handle?.stop()
                slots[index].session = session
            }
        case .joined:
            slots[index].lastError = nil
            if loggedErrors.removeValue(forKey: environment) != nil {
                logger.notice("xmpp environment \(environment): joined again", metadata: ["environment": "\(environment)"])
            }
        case .joinRefused(let room, let condition):
            let text = "brewery \(room) refused \(slots[index].nickname): \(condition)"
            slots[index].lastError = text
            logger.error("xmpp environment \(environment): \(text)", metadata: ["environment": "\(environment)"])
        case .connecting, .connected, .closed:
            break
        }
    }

    // MARK: IQs

    func received(slot index: Int, connection: Int, _ stanza: XMLElement) {
        guard stanza.name == "iq", stanza.type == "set" || stanza.type == "get" else { return }
        let client = slots[index].clients[connection]
        guard stanza.type == "set", let iq = JibriIQ(iq: stanza), !JibriIQ.hasUnknownAction(stanza) else {
            // Jibri: not a JibriIq, or an unknown action.
            client.send(.error(to: stanza, errorType: "modify", condition: "bad-request"))
            return
        }
        switch iq.action {
        case .start: start(slot: index, connection: connection, request: stanza, iq: iq)
        case .stop: stop(slot: index, connection: connection, request: stanza, iq: iq)
        case nil: client.send(.error(to: stanza, errorType: "modify", condition: "bad-request"))
        }
    }

    private func answer(_ request: XMLElement, slot index: Int, connection: Int, _ iq: JibriIQ) {
        if let reason = iq.failureReason { countFailure(environment: slots[index].environment.name, reason) }
        slots[index].clients[connection].send(.result(to: request, children: [iq.element]))
    }

    private func start(slot index: Int, connection: Int, request: XMLElement, iq: JibriIQ) {
        let environment = slots[index].environment
        var log = logger
        log[metadataKey: "environment"] = "\(environment.name)"
        log[metadataKey: "slot"] = "\(slots[index].index)"
        log[metadataKey: "session"] = "\(iq.sessionID ?? "none")"
        // Busy: a recording here, the daemon draining, or the presence said so.
        if draining || slots[index].session != nil || slots[index].announced?.busy != false {
            log.notice("jibri start refused: busy")
            answer(request, slot: index, connection: connection, .busy)
            return
        }
        // UnsupportedIqMode: no retry.
        guard iq.sipAddress == nil, let mode = iq.recordingMode else {
            log.notice("jibri start refused: unsupported mode")
            answer(request, slot: index, connection: connection, .error(retry: false))
            return
        }
        guard let room = iq.room, let url = JibriMeeting.url(room: room, stripFromRoomDomain: environment.stripFromRoomDomain,
                                                           xmppDomain: environment.xmppDomain, baseURL: environment.baseURL) else {
            log.notice("jibri start refused: no meeting URL from room \(iq.room ?? "(none)")")
            answer(request, slot: index, connection: connection, .error(retry: true))
            return
        }
        var streamURL: String?
        if mode == .stream {
            guard let streamID = iq.streamID, !streamID.isEmpty else {
                log.notice("jibri start refused: stream mode without streamid")
                answer(request, slot: index, connection: connection, .error(retry: false))
                return
            }
            streamURL = JibriMeeting.streamURL(streamID: streamID, template: configuration.streamURLTemplate)
        }
        sessionCounter += 1
        let sessionID = iq.sessionID ?? "session-\(sessionCounter)"
        slots[index].session = Session(id: sessionID, connection: connection, jicofo: request.from ?? "")
        answer(request, slot: index, connection: connection, .pending)
        Counter(label: "recorderd_jibri_starts_total", dimensions: [("environment", environment.name)]).increment()
        publish()
        log.info("jibri start: \(mode.rawValue) of \(url)")
        var recording = JibriRecordingRequest(
            sessionID: sessionID, environment: environment.name, meetingURL: url, callName: JibriMeeting.callName(room: room),
            mode: mode, streamURL: streamURL, appData: iq.appData, callLogin: environment.callLogin,
            usageTimeout: environment.usageTimeoutMinutes > 0 ? .seconds(60 * environment.usageTimeoutMinutes) : nil,
            width: configuration.width, height: configuration.height, fps: configuration.fps)
        recording.tenant = JibriMeeting.tenant(room: room, stripFromRoomDomain: environment.stripFromRoomDomain,
                                               xmppDomain: environment.xmppDomain) ?? ""
        recording.baseURL = environment.baseURL ?? "https://\(environment.xmppDomain)"
        Task { await self.run(slot: index, recording, logger: log) }
    }

    /// One session: start, `on`, wait for the end, `off`, slot free.
    private func run(slot index: Int, _ request: JibriRecordingRequest, logger log: Logger) async {
        let outcome: JibriRecordingOutcome
        do throws(JibriStartFailure) {
            let handle = try await host.startJibriRecording(request)
            slots[index].session?.handle = handle
            if slots[index].session?.stopRequested == true || draining { handle.stop() }
            log.info("jibri recording on")
            report(slot: index, JibriIQ(status: .on))
            await refresh()
            var timeout: Task<Void, Never>?
            if let limit = request.usageTimeout {
                timeout = Task {
                    try? await Task.sleep(for: limit)
                    if !Task.isCancelled {
                        log.notice("usage timeout reached: stopping")
                        handle.stop()
                    }
                }
            }
            outcome = await handle.ended()
            timeout?.cancel()
        } catch {
            switch error {
            case .busy(let reason):
                outcome = .failed("busy: \(reason)", retry: true)
            case .failed(let reason, let retry):
                outcome = .failed(reason, retry: retry)
            }
        }
        Counter(label: "recorderd_jibri_sessions_total", dimensions: [
            ("environment", request.environment), ("outcome", outcome == .finished ? "finished" : "failed"),
        ]).increment()
        switch outcome {
        case .finished:
            log.info("jibri recording off")
            report(slot: index, JibriIQ(status: .off))
        case .failed(let reason, let retry):
            log.warning("jibri recording failed: \(reason)")
            report(slot: index, .error(retry: retry))
        }
        if let session = slots[index].session {
            for waiting in session.stopRequests {
                answer(waiting.iq, slot: index, connection: waiting.connection, JibriIQ(status: .off))
            }
        }
        slots[index].session = nil
        await refresh()
    }

    /// Jibri's own `set` IQ to the Jicofo that started the session.
    private func report(slot index: Int, _ status: JibriIQ) {
        guard let session = slots[index].session else { return }
        if let reason = status.failureReason { countFailure(environment: slots[index].environment.name, reason) }
        var iq = status
        iq.sessionID = session.id
        sessionCounter += 1
        slots[index].clients[session.connection].send(
            .iq(type: "set", id: "jibri-\(sessionCounter)", to: session.jicofo, children: [iq.element]))
    }

    private func stop(slot index: Int, connection: Int, request: XMLElement, iq: JibriIQ) {
        Counter(label: "recorderd_jibri_stops_total", dimensions: [("environment", slots[index].environment.name)]).increment()
        guard var session = slots[index].session, iq.sessionID == nil || iq.sessionID == session.id else {
            // Nothing running here (Jibri answers `off` at once).
            answer(request, slot: index, connection: connection, JibriIQ(status: .off))
            return
        }
        logger.info("jibri stop", metadata: ["environment": "\(slots[index].environment.name)", "slot": "\(slots[index].index)",
                                            "session": "\(session.id)"])
        session.stopRequested = true
        session.stopRequests.append((connection, request))
        session.handle?.stop()
        slots[index].session = session
    }

    // MARK: Closing

    func closeAll() async {
        for slot in slots {
            for client in slot.clients { await client.close() }
        }
    }
}

extension XMPPClientState {
    var isDisconnected: Bool {
        switch self {
        case .disconnected, .closed: true
        default: false
        }
    }
}
