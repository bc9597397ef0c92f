public import PageBrowser
public import RecorderEngine

/// A `"page": {"jitsi": {...}}` recording's Jitsi part, in the order the
/// page recording calls it: `init` while the request is decoded, `open`
/// instead of a plain navigation, `waitForJoin` as the start gate, `checks`
/// watched as an end gate, `writeMetadata` once the file is final.
public struct JitsiMeeting: Sendable, CustomStringConvertible {
    public let room: JitsiRoom
    public let configuration: JitsiConfiguration
    /// Extra top-level keys of `metadata.json` (Jibri's `file_recording_metadata`).
    public let appData: [String: JSONValue]

    /// Checks the request's room and the daemon's login.
    /// - Throws: `FieldError` naming `page.jitsi` (no recorder login
    ///   configured), `page.jitsi.room` or `page.jitsi.tenant` (a 400); or
    ///   naming `jitsi.callLogin.passwordFile` when the password file cannot
    ///   be read now (the daemon's fault, not the request's).
    public init(room: String, tenant: String? = nil, configuration: JitsiConfiguration,
                extraHashParameters: [String] = [], appData: [String: JSONValue] = [:]) throws {
        try configuration.requireRecorderLogin()
        try self.init(room: room, tenant: tenant, configuration: configuration, password: try configuration.password(),
                      extraHashParameters: extraHashParameters, appData: appData)
    }

    /// The same with the call login's password given (an XMPP environment's
    /// `call-login`, read with its own configuration); `configuration`'s
    /// `passwordFile` is not read.
    public init(room: String, tenant: String? = nil, configuration: JitsiConfiguration, password: String,
                extraHashParameters: [String] = [], appData: [String: JSONValue] = [:]) throws {
        try configuration.requireRecorderLogin()
        self.room = try JitsiRoom(room: room, tenant: tenant, baseURL: configuration.baseURL!, login: configuration.callLogin!,
                                  password: password, displayName: configuration.displayName,
                                  extraHashParameters: extraHashParameters)
        self.configuration = configuration
        self.appData = appData
    }

    public var description: String { room.description }

    /// Writes the legacy localStorage login (when configured) and opens the
    /// room's join URL; returns the HTTP status (`Page.navigate`).
    public func open(_ page: Page, timeout: Duration, retries: Int) async throws(BrowserError) -> Int {
        if configuration.legacyLocalStorage {
            try await page.setLocalStorage(room.localStorageEntries, origin: room.localStorageOrigin)
        }
        return try await page.navigate(to: room.joinURL, timeout: timeout, retries: retries)
    }

    /// The start gate: `isJoined()` within `joinTimeoutSeconds`, then Jibri's
    /// participant tracker. Returns how long the join took.
    public func waitForJoin(_ page: Page) async throws(JitsiCallChecks.JoinError) -> Duration {
        try await JitsiCallChecks.waitForJoin(page: page, settings: configuration.checks,
                                              timeout: .milliseconds(Int64(configuration.joinTimeoutSeconds * 1000)))
    }

    /// Jibri's call-status checks, their clocks starting now (just after the join).
    public func checks(_ page: Page) -> JitsiCallChecks {
        JitsiCallChecks(settings: configuration.checks, page: page)
    }

    /// Jibri's `setParticipantProperties` after the join (`session_id`,
    /// `mode` = `file` or `stream`); false when the page refused one.
    public func setPresenceProperties(_ page: Page, _ properties: [(key: String, value: String)]) async throws(BrowserError) -> Bool {
        try await JitsiCallPage(page: page, timeout: configuration.checks.evaluateTimeout).setPresenceProperties(properties)
    }

    /// The identities Jibri's participant tracker collected, read now
    /// (Jibri reads them once, at the stop); nil when the page cannot answer
    /// within 5 s (then use the list `JitsiCallChecks.participants` last read).
    public func participants(_ page: Page) async -> [JSONValue]? {
        try? await JitsiCallPage(page: page, timeout: min(configuration.checks.evaluateTimeout, .seconds(5))).participants()
    }

    /// Leaves the conference before the browser is closed (Jibri's
    /// `leaveCallAndQuitBrowser`): `APP.conference._room.leave()`, then up
    /// to 2 s until the page counts one participant. False on any failure.
    public func leave(_ page: Page) async -> Bool {
        (try? await JitsiCallPage(page: page, timeout: min(configuration.checks.evaluateTimeout, .seconds(5))).leave()) ?? false
    }

    /// `metadata.json` beside `recording` (relative to `directory`).
    public func writeMetadata(participants: [JSONValue], beside recording: String, in directory: ConfinedDirectory) throws {
        try MeetingMetadata(meetingURL: room.meetingURL, participants: participants, additional: appData)
            .write(beside: recording, in: directory)
    }
}
