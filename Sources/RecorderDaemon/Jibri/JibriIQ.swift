import XMPPClient

/// Jibri's IQ payload, `<jibri xmlns='http://jitsi.org/protocol/jibri' .../>`
/// (jitsi-xmpp-extensions `JibriIq`): always an empty element whose
/// attributes say everything. Jicofo sends `action` start/stop; Jibri
/// answers and later reports with `status` on/off/pending.
struct JibriIQ: Sendable, Equatable {
    static let namespace = "http://jitsi.org/protocol/jibri"

    enum Action: String, Sendable { case start, stop }
    enum Status: String, Sendable { case on, off, pending }
    enum Mode: String, Sendable { case file, stream }
    enum FailureReason: String, Sendable { case busy, error }

    var action: Action?
    var status: Status?
    /// `recording_mode`; nil when absent or unknown (Jibri: `undefined`).
    var recordingMode: Mode?
    var room: String?
    var streamID: String?
    var youTubeBroadcastID: String?
    var sessionID: String?
    var appData: String?
    var displayName: String?
    var sipAddress: String?
    var failureReason: FailureReason?
    var shouldRetry: Bool?

    init(action: Action? = nil, status: Status? = nil, sessionID: String? = nil,
         failureReason: FailureReason? = nil, shouldRetry: Bool? = nil) {
        self.action = action
        self.status = status
        self.sessionID = sessionID
        self.failureReason = failureReason
        self.shouldRetry = shouldRetry
    }

    /// The `<jibri>` child of `iq`; nil when it has none.
    init?(iq: XMLElement) {
        guard let element = iq.child("jibri", namespace: Self.namespace) else { return nil }
        action = element["action"].flatMap(Action.init(rawValue:))
        status = element["status"].flatMap(Status.init(rawValue:))
        recordingMode = element["recording_mode"].flatMap(Mode.init(rawValue:))
        room = element["room"]
        streamID = element["streamid"]
        youTubeBroadcastID = element["you_tube_broadcast_id"]
        sessionID = element["session_id"]
        appData = element["app_data"]
        displayName = element["displayname"]
        sipAddress = element["sipaddress"]
        failureReason = element["failure_reason"].flatMap(FailureReason.init(rawValue:))
        shouldRetry = element["should_retry"].map { $0 == "true" }
    }

    /// True when the element carried an `action` attribute Jibri does not know.
    static func hasUnknownAction(_ iq: XMLElement) -> Bool {
        guard let action = iq.child("jibri", namespace: namespace)?["action"] else { return true }
        return Action(rawValue: action) == nil
    }

    var element: XMLElement {
        var attributes: [String: String] = [:]
        attributes["action"] = action?.rawValue
        attributes["status"] = status?.rawValue
        attributes["recording_mode"] = recordingMode?.rawValue
        attributes["room"] = room
        attributes["streamid"] = streamID
        attributes["session_id"] = sessionID
        attributes["app_data"] = appData
        attributes["failure_reason"] = failureReason?.rawValue
        attributes["should_retry"] = shouldRetry.map { $0 ? "true" : "false" }
        return XMLElement("jibri", namespace: Self.namespace, attributes: attributes)
    }

    // Jibri's answers (XmppApi.kt).

    /// `result status='pending'`: the start was accepted.
    static let pending = JibriIQ(status: .pending)
    /// `result status='off' failure_reason='busy' should_retry='true'`.
    static let busy = JibriIQ(status: .off, failureReason: .busy, shouldRetry: true)
    /// `status='off' failure_reason='error'` with Jibri's retry flag.
    static func error(retry: Bool, sessionID: String? = nil) -> JibriIQ {
        JibriIQ(status: .off, sessionID: sessionID, failureReason: .error, shouldRetry: retry)
    }
}

/// The presence extension every slot publishes in the brewery
/// (`JibriStatusPacketExt`); Jicofo selects an occupant only when it is
/// healthy and idle.
struct JibriPresenceStatus: Sendable, Equatable {
    var busy: Bool
    var healthy: Bool

    var element: XMLElement {
        XMLElement("jibri-status", namespace: JibriIQ.namespace, children: [
            XMLElement("busy-status", namespace: JibriIQ.namespace, attributes: ["status": busy ? "busy" : "idle"]),
            XMLElement("health-status", namespace: "http://jitsi.org/protocol/health",
                       attributes: ["status": healthy ? "healthy" : "unhealthy"]),
        ])
    }
}
