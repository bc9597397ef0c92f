public import PageBrowser

/// Jibri's join wait and call-status checks, run on the page over the
/// DevTools protocol (jibri @62369d5, `selenium/JibriSelenium.kt` lines
/// 226-276 and `selenium/status_checks/*.kt`):
///
/// - the join: `APP.conference._room.isJoined()` polled every 500 ms
///   (WebDriverWait's default) until it answers `true` or the deadline;
/// - then, `interval` after the join and every `interval` at a fixed rate,
///   the checks in Jibri's order, stopping at the first that ends the call:
///   empty call, media received, ICE connection.
///
/// End reasons, named after Jibri's events and what Jibri does with them:
/// `callEmpty` (EmptyCallStatusCheck's `CallEmpty`: Finished),
/// `allMuted` (MediaReceivedStatusCheck's `CallEmpty`: Finished),
/// `noMediaReceived` (`NoMediaReceived`: Error "No media received"),
/// `iceFailed` (`IceFailedEvent`: Error "ICE failed"). A browser error (a hung
/// or crashed page) is thrown as is; Jibri calls it `ChromeHung`.
public struct JitsiCallChecks: Sendable {
    /// Jibri's `jibri.call-status-checks` (reference.conf lines 181-198) and
    /// the check period (`scheduleAtFixedRate(15, SECONDS, 15)`).
    public struct Settings: Sendable, Equatable {
        public var interval: Duration = .seconds(15)
        /// `default-call-empty-timeout`.
        public var callEmptyTimeout: Duration = .seconds(30)
        /// `all-muted-timeout`.
        public var allMutedTimeout: Duration = .seconds(600)
        /// `no-media-timeout`.
        public var noMediaTimeout: Duration = .seconds(180)
        /// `ice-connection-timeout`.
        public var iceConnectionTimeout: Duration = .seconds(30)
        /// Longest wait for one answer of the page (Jibri: WebDriver's script timeout, 30 s).
        public var evaluateTimeout: Duration = .seconds(30)

        public init() {}

        /// Reads `jitsi.checks` (seconds).
        mutating func apply(_ reader: inout FieldReader) throws {
            func read(_ key: String, _ range: ClosedRange<Double>) throws -> Duration? {
                try reader.double(key, in: range).map { .milliseconds(Int64(($0 * 1000).rounded())) }
            }
            if let value = try read("intervalSeconds", 0.1...3600) { interval = value }
            if let value = try read("callEmptySeconds", 0...86_400) { callEmptyTimeout = value }
            if let value = try read("allMutedSeconds", 0...86_400) { allMutedTimeout = value }
            if let value = try read("noMediaSeconds", 0...86_400) { noMediaTimeout = value }
            if let value = try read("iceDisconnectedSeconds", 0...86_400) { iceConnectionTimeout = value }
            if let value = try read("evaluateTimeoutSeconds", 0.1...600) { evaluateTimeout = value }
        }
    }

    /// Why the checks ended the call.
    public enum EndReason: String, Sendable, Equatable, CaseIterable {
        case callEmpty, allMuted, noMediaReceived, iceFailed

        /// Jibri's error text for the ones it counts as errors (`selenium/Errors.kt`);
        /// nil for a normal end (Jibri's `Finished`).
        public var jibriError: String? {
            switch self {
            case .callEmpty, .allMuted: nil
            case .noMediaReceived: "No media received"
            case .iceFailed: "ICE failed"
            }
        }
    }

    /// The page never said it joined (Jibri's `FailedToJoinCall`, "Failed to
    /// join the call"), or the browser failed on the way.
    public enum JoinError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not joined after `seconds`; the page's last answer (`false`, or the
        /// message of what `APP.conference._room.isJoined()` threw).
        case notJoined(seconds: Double, lastAnswer: String)
        case browser(BrowserError)

        public var description: String {
            switch self {
            case .notJoined(let seconds, let answer): "the page did not join the call within \(seconds) s (last answer: \(answer))"
            case .browser(let error): "\(error)"
            }
        }
    }

    let settings: Settings
    let page: JitsiCallPage

    // EmptyCallStatusCheck: when the call went empty.
    private var callWentEmpty: ContinuousClock.Instant?
    // MediaReceivedStatusCheck: last media, and when everyone went muted.
    private var timeOfLastMedia: ContinuousClock.Instant
    private var allMutedSince: ContinuousClock.Instant?
    // IceConnectionStatusCheck: last time ICE was fine (or the call empty).
    private var timeOfLastIceSuccess: ContinuousClock.Instant
    /// The identities the participant tracker collected, as last read.
    public private(set) var participants: [JSONValue] = []

    /// The checks' state starts at `now` (Jibri makes them just after the join).
    init(settings: Settings, page: any JitsiPageScripting, now: ContinuousClock.Instant) {
        self.settings = settings
        self.page = JitsiCallPage(page: page, timeout: settings.evaluateTimeout)
        timeOfLastMedia = now
        timeOfLastIceSuccess = now
    }

    public init(settings: Settings, page: Page, now: ContinuousClock.Instant = ContinuousClock().now) {
        self.init(settings: settings, page: page as any JitsiPageScripting, now: now)
    }

    // MARK: - The join

    /// Polls `isJoined()` every 500 ms until `true`; then starts Jibri's
    /// participant tracker. Returns how long the join took.
    public static func waitForJoin(page: Page, settings: Settings, timeout: Duration,
                                   clock: ContinuousClock = ContinuousClock()) async throws(JoinError) -> Duration {
        try await waitForJoin(scripting: page, settings: settings, timeout: timeout, clock: clock)
    }

    static func waitForJoin(scripting: any JitsiPageScripting, settings: Settings, timeout: Duration,
                            clock: ContinuousClock = ContinuousClock()) async throws(JoinError) -> Duration {
        let callPage = JitsiCallPage(page: scripting, timeout: min(settings.evaluateTimeout, timeout))
        let start = clock.now
        let deadline = start + timeout
        var last = "nothing"
        do throws(BrowserError) {
            while true {
                let (joined, answer) = try await callPage.isJoined()
                if joined {
                    // Jibri then starts the checks and injects the tracker; a
                    // tracker that fails only loses the participants list.
                    _ = try await callPage.injectParticipantTracker()
                    return clock.now - start
                }
                last = Self.text(answer)
                guard clock.now < deadline, !Task.isCancelled else { break }
                try? await Task.sleep(until: min(clock.now + .milliseconds(500), deadline), clock: clock)
            }
        } catch {
            throw .browser(error)
        }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        throw .notJoined(seconds: seconds, lastAnswer: last)
    }

    private static func text(_ answer: JSONValue) -> String {
        switch answer {
        case .bool(let value): "\(value)"
        case .string(let message): String(message.prefix(200))
        case .null: "null"
        case .number(let number): "\(number)"
        case .array, .object: "a non-boolean value"
        }
    }

    // MARK: - The checks

    /// Runs the checks every `interval` (fixed rate, the first `interval`
    /// after the call) until one ends the call; nil when cancelled.
    public mutating func watch(clock: ContinuousClock = ContinuousClock()) async throws(BrowserError) -> EndReason? {
        var next = clock.now + settings.interval
        while !Task.isCancelled {
            do {
                try await Task.sleep(until: next, clock: clock)
            } catch {
                return nil
            }
            if let reason = try await round(now: clock.now) { return reason }
            next += settings.interval
        }
        return nil
    }

    /// One round of the checks at `now`, in Jibri's order, stopping at the
    /// first end; refreshes `participants` first (Jibri reads them only at
    /// the end; read here each round too, so a page that dies later still
    /// leaves its list).
    mutating func round(now: ContinuousClock.Instant) async throws(BrowserError) -> EndReason? {
        participants = try await page.participants()
        if let reason = try await emptyCallCheck(now: now) { return reason }
        if let reason = try await mediaReceivedCheck(now: now) { return reason }
        return try await iceConnectionCheck(now: now)
    }

    /// `EmptyCallStatusCheck.run`.
    private mutating func emptyCallCheck(now: ContinuousClock.Instant) async throws(BrowserError) -> EndReason? {
        callWentEmpty = Self.transition(callWentEmpty, happened: try await page.isCallEmpty(), now: now)
        return Self.exceeded(callWentEmpty, settings.callEmptyTimeout, now: now) ? .callEmpty : nil
    }

    /// `MediaReceivedStatusCheck.run`: the same calls in the same order.
    private mutating func mediaReceivedCheck(now: ContinuousClock.Instant) async throws(BrowserError) -> EndReason? {
        let download = try await page.downloadBitrate()
        let others = try await page.numParticipants() - 1
        let muted = try await page.numRemoteParticipantsMuted()
        let jigasis = try await page.numRemoteParticipantsJigasi()
        _ = try await page.numHiddenParticipants()  // Jibri only logs it
        let allMuted = muted + jigasis == others
        allMutedSince = Self.transition(allMutedSince, happened: allMuted, now: now)
        if download != 0 || allMuted { timeOfLastMedia = now }
        if Self.exceeded(allMutedSince, settings.allMutedTimeout, now: now) { return .allMuted }
        if now - timeOfLastMedia > settings.noMediaTimeout && !allMuted { return .noMediaReceived }
        return nil
    }

    /// `IceConnectionStatusCheck.run` (ICE is asked only when the call is not empty).
    private mutating func iceConnectionCheck(now: ContinuousClock.Instant) async throws(BrowserError) -> EndReason? {
        if try await page.isCallEmpty() {
            timeOfLastIceSuccess = now
            return nil
        }
        if try await page.isIceConnected() {
            timeOfLastIceSuccess = now
            return nil
        }
        return now - timeOfLastIceSuccess > settings.iceConnectionTimeout ? .iceFailed : nil
    }

    /// The participants at the end (Jibri's `getParticipants()` at stop):
    /// read once more, else the last list read.
    public mutating func finalParticipants() async -> [JSONValue] {
        if let list = try? await page.participants() { participants = list }
        return participants
    }

    /// `StateTransitionTimeTracker.maybeUpdate`: the time of the false-to-true
    /// transition, cleared on false.
    static func transition(_ since: ContinuousClock.Instant?, happened: Bool, now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        happened ? (since ?? now) : nil
    }

    /// `StateTransitionTimeTracker.exceededTimeout`: strictly longer than `timeout`.
    static func exceeded(_ since: ContinuousClock.Instant?, _ timeout: Duration, now: ContinuousClock.Instant) -> Bool {
        since.map { now - $0 > timeout } ?? false
    }
}
