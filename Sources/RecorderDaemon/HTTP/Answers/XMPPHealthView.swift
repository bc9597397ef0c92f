/// `GET /health`'s `xmpp` (only with `xmpp` configured): each Jibri
/// environment and its slots as Jicofo sees them. Names the control login,
/// never a password.
struct XMPPHealthView: Encodable, Sendable {
    var environments: [Environment]

    struct Environment: Encodable, Sendable {
        var name: String
        /// The control login (`username@domain`).
        var login: String
        /// Every slot joined and healthy.
        var healthy: Bool
        /// The latest connection or join error of a slot (names the login).
        var error: String?
        var slots: [Slot]
    }

    struct Slot: Encodable, Sendable {
        /// 0-based; the brewery nickname says which.
        var slot: Int
        var nickname: String
        var connected: Bool
        var joined: Bool
        /// What its presence says: `idle` or `busy`.
        var status: String
        var healthy: Bool
        /// Jicofo's session id while the slot records.
        var sessionId: String?
        var lastError: String?
    }

    init(_ environments: [JibriBrewery.EnvironmentStatus]) {
        self.environments = environments.map { environment in
            Environment(name: environment.name, login: environment.login, healthy: environment.healthy, error: environment.error,
                        slots: environment.slots.map { slot in
                            Slot(slot: slot.slot, nickname: slot.nickname, connected: slot.connected, joined: slot.joined,
                                 status: slot.busy ? "busy" : "idle", healthy: slot.healthy, sessionId: slot.sessionID,
                                 lastError: slot.lastError)
                        })
        }
    }
}
