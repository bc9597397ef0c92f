import Foundation
import Logging
import PageBrowser
import RecorderEngine
import Synchronization

/// One page recording's browser, from launch to close: launched into the
/// recording's workspace (at most `browserLaunchConcurrency` at a time),
/// given its cookies and localStorage, navigated, held at its start gate,
/// then watched until the page ends the recording (its end gate), crashes,
/// hangs or its browser exits. The recorder runs it around the engine's
/// session: `open`, `waitForStart`, then `watch` beside the session, and
/// `close` in every case.
final class PageSession: Sendable {
    /// Why the page ended the recording: the recording's `stopReason`.
    enum Ending: String, Sendable {
        /// The end gate (console text or predicate).
        case pageEnded
        /// The renderer crashed (`Inspector.targetCrashed`).
        case pageCrashed
        /// The browser process exited or its pipe closed.
        case browserExited
        /// An evaluate was not answered within `pageHungSeconds`.
        case pageHung
        /// A Jitsi room's call-status checks (`JitsiCallChecks.EndReason`):
        /// alone in the call, everyone muted, no media received, ICE failed.
        case callEmpty, allMuted, noMediaReceived, iceFailed
    }

    /// Why the page could not be recorded (before its start gate opened):
    /// one line, no URL or secret in it, and the ending when the page or
    /// browser caused it.
    struct Failure: Error, Sendable, CustomStringConvertible {
        var message: String
        var ending: Ending?
        var description: String { message }
    }

    let request: PageRequest
    let settings: PageSettings
    /// A Jitsi room's part (nil for a plain URL), and where its
    /// `metadata.json` goes (the file's path relative to its directory).
    let meeting: JitsiMeeting?
    private let metadataBeside: (relative: String, directory: ConfinedDirectory)?
    private let limiter: LaunchLimiter
    private let logger: Logger

    private struct State {
        var browser: Browser?
        var pump: Task<Void, Never>?
        var cancelled = false
        var closed = false
        var gateOpen = false
        var startSeen = false
        var endSeen = false
        var crashed = false
        var exited: String?
        /// The Jitsi call's participants, as last read.
        var participants: [JSONValue] = []
        var left = false
        var phases = StartPhases()
    }

    /// When each step before the start gate ended (nil: not reached).
    struct StartPhases: Sendable {
        var opening: ContinuousClock.Instant?
        var launched: ContinuousClock.Instant?
        var loaded: ContinuousClock.Instant?
        var gateOpen: ContinuousClock.Instant?
    }

    /// The start's steps so far (for the Jibri `on`'s log line and its measurement).
    var startPhases: StartPhases { state.withLock { $0.phases } }

    private let state = Mutex(State())
    private let changes = ChangeSignal()

    init(request: PageRequest, settings: PageSettings, limiter: LaunchLimiter, logger: Logger,
         meeting: JitsiMeeting? = nil, metadataBeside: (relative: String, directory: ConfinedDirectory)? = nil) {
        self.request = request
        self.settings = settings
        self.meeting = meeting
        self.metadataBeside = metadataBeside
        self.limiter = limiter
        self.logger = logger
    }

    /// The page's URL as answers and logs show it (no token, no password).
    var shownURL: String { meeting?.room.redactedJoinURL ?? request.redactedURL }

    /// The browser's process group while it runs (for the journal).
    var processGroup: pid_t? { state.withLock { $0.browser?.processGroup } }

    /// The browser's CPU seconds and resident bytes now; nil without one.
    func usage() -> BrowserUsage? { state.withLock { $0.browser }?.usage() }

    /// Stops a start in progress: `open` and `waitForStart` throw soon after.
    func cancelStart() {
        state.withLock { $0.cancelled = true }
        changes.changed()
    }

    // MARK: Before the gate

    /// Launches the browser into the workspace, sets its cookies and
    /// localStorage and opens the page (load event, status below 400).
    func open(display: String, pulseServer: String, sink: String) async throws(Failure) {
        var launch = BrowserLaunch(display: display, width: request.width, height: request.height,
                                   profileParent: settings.profileParent)
        launch.program = settings.browserPath
        launch.pulseServer = pulseServer
        launch.pulseSink = sink
        launch.sandbox = settings.sandbox
        launch.animationFrameRate = settings.animationFrameRate
        launch.niceness = settings.niceness
        state.withLock { $0.phases.opening = .now }
        try checkCancelled()
        let browser: Browser
        do {
            browser = try await limiter.withSlot { () async throws(BrowserError) -> Browser in
                try await Browser.launch(launch, logger: logger)
            }
        } catch let error as BrowserError {
            throw Self.failure(error, doing: "the browser did not start")
        } catch {
            throw Failure(message: "stopped before the browser started", ending: nil)
        }
        let keep = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.browser = browser
            state.phases.launched = .now
            state.pump = Task { [weak self] in
                for await event in browser.page.events { self?.observe(event) }
            }
            return true
        }
        guard keep else {
            await browser.close(grace: .zero)
            throw Failure(message: "stopped before the page opened", ending: nil)
        }
        let page = browser.page
        do throws(BrowserError) {
            if let meeting {
                _ = try await meeting.open(page, timeout: settings.navigationTimeout, retries: settings.navigationRetries)
            } else {
                try await openURL(page)
            }
        } catch {
            throw Self.failure(error, doing: "the page did not open")
        }
        state.withLock { $0.phases.loaded = .now }
        try checkCancelled()
    }

    /// A plain page: its cookies, its localStorage, then the URL.
    private func openURL(_ page: Page) async throws(BrowserError) {
        if !request.cookies.isEmpty {
            try await page.setCookies(request.cookies.map { cookie in
                BrowserCookie(name: cookie.name, value: cookie.value, url: cookie.domain == nil ? request.url : nil,
                              domain: cookie.domain, path: cookie.path)
            })
        }
        if !request.localStorage.isEmpty, let origin = request.origin {
            try await page.setLocalStorage(request.localStorage, origin: origin)
        }
        _ = try await page.navigate(to: request.navigationURL, timeout: settings.navigationTimeout,
                                    retries: settings.navigationRetries)
    }

    /// Returns once the start gate opens; throws when it cannot (its
    /// deadline, a crash, an exit, a stop).
    func waitForStart() async throws(Failure) {
        if let meeting {
            guard let page = state.withLock({ $0.browser?.page }) else {
                throw Failure(message: "the browser is closed", ending: nil)
            }
            // The join, or a stop, crash or exit first (nil).
            let joined = await withTaskGroup(of: Result<Void, JitsiCallChecks.JoinError>?.self) { group in
                group.addTask {
                    do throws(JitsiCallChecks.JoinError) {
                        _ = try await meeting.waitForJoin(page)
                        return .success(())
                    } catch {
                        return .failure(error)
                    }
                }
                group.addTask {
                    _ = await self.changes.wait(until: { self.state.withLock { $0.cancelled || $0.closed || $0.crashed || $0.exited != nil } },
                                                deadline: .now + .seconds(86_400))
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            try checkCancelled()
            try checkAlive()
            switch joined {
            case .success?: break
            case let .failure(.browser(error))?: throw Self.failure(error, doing: "the page did not join the call")
            case let .failure(error)?: throw Failure(message: "\(error)", ending: nil)
            case nil: throw Failure(message: "stopped before the call was joined", ending: nil)
            }
            state.withLock { $0.gateOpen = true; $0.phases.gateOpen = .now }
            return
        }
        switch request.start {
        case .load:
            break
        case .console:
            let deadline = ContinuousClock.now + settings.consoleStartTimeout
            _ = await changes.wait(until: { self.state.withLock { $0.startSeen || $0.crashed || $0.exited != nil || $0.cancelled } },
                                   deadline: deadline)
            try checkCancelled()
            try checkAlive()
            guard state.withLock({ $0.startSeen }) else {
                throw Failure(message: "the page did not print its start text within \(settings.consoleStartTimeout.seconds) s "
                              + "(pageStartTimeoutSeconds)", ending: nil)
            }
        case let .predicate(expression, timeout):
            let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
            while true {
                try checkCancelled()
                try checkAlive()
                if try await holds(expression) { break }
                guard ContinuousClock.now < deadline else {
                    throw Failure(message: "the start predicate did not hold within \(timeout) s", ending: nil)
                }
                _ = await changes.wait(until: { self.state.withLock { $0.cancelled || $0.crashed || $0.exited != nil } },
                                       deadline: .now + .milliseconds(Int64(PageStartGate.pollInterval * 1000)))
            }
        }
        state.withLock { $0.gateOpen = true; $0.phases.gateOpen = .now }
    }

    // MARK: After the gate

    /// Returns why the page ends the recording: its end gate, a crash, an
    /// exit, a hang. Runs until then, or until its task is cancelled (nil).
    func watch() async -> Ending? {
        await withTaskGroup(of: Ending?.self) { group in
            group.addTask { await self.watchEvents() }
            group.addTask { await self.watchHang() }
            if case let .predicate(expression, interval) = request.end {
                group.addTask { await self.watchPredicate(expression, interval: interval) }
            }
            if let meeting, let page = state.withLock({ $0.browser?.page }) {
                group.addTask { await self.watchCall(meeting.checks(page)) }
            }
            var ending: Ending?
            for await result in group {
                if let result {
                    ending = result
                    break
                }
                if Task.isCancelled { break }
            }
            group.cancelAll()
            return ending
        }
    }

    private func watchEvents() async -> Ending? {
        let ended = await changes.wait(until: { self.state.withLock { $0.endSeen || $0.crashed || $0.exited != nil } },
                                       deadline: .now + .seconds(86_400 * 366))
        guard ended else { return nil }
        return state.withLock { state in
            state.crashed ? .pageCrashed : state.exited != nil ? .browserExited : .pageEnded
        }
    }

    /// Jibri's hung-page check: a trivial evaluate every
    /// `hungCheckInterval` that must be answered within `hungAfter`.
    private func watchHang() async -> Ending? {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.hungCheckInterval)
            guard !Task.isCancelled, let page = state.withLock({ $0.browser?.page }) else { return nil }
            do {
                _ = try await page.evaluate("1", timeout: settings.hungAfter)
            } catch {
                if let ending = Self.ending(error) { return ending }
            }
        }
        return nil
    }

    /// Jibri's call-status checks until one ends the call; keeps the
    /// participants they read.
    private func watchCall(_ checks: JitsiCallChecks) async -> Ending? {
        var checks = checks
        defer {
            // Kept unless the stop read them since (`leaveCall`).
            let list = checks.participants
            state.withLock { if !$0.left { $0.participants = list } }
        }
        do throws(BrowserError) {
            guard let reason = try await checks.watch() else { return nil }
            return Ending(rawValue: reason.rawValue)
        } catch {
            return Self.ending(error)
        }
    }

    private func watchPredicate(_ expression: String, interval: Double) async -> Ending? {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            guard !Task.isCancelled else { return nil }
            do throws(Failure) {
                if try await holds(expression) { return .pageEnded }
            } catch {
                if let ending = error.ending { return ending }
            }
        }
        return nil
    }

    /// Closes the browser (over the protocol, then its group), removes its
    /// profile. Idempotent.
    func close() async {
        let (browser, pump) = state.withLock { state -> (Browser?, Task<Void, Never>?) in
            state.closed = true
            defer { state.browser = nil; state.pump = nil }
            return (state.browser, state.pump)
        }
        pump?.cancel()
        if let browser { await leaveCall(browser.page) }
        await browser?.close(grace: settings.closeGrace)
    }

    /// A Jitsi room's stop, as Jibri's: reads the participants, then leaves
    /// the call. Once, and only after the join; nothing for a plain page.
    func leaveCall() async {
        guard let page = state.withLock({ $0.browser?.page }) else { return }
        await leaveCall(page)
    }

    private func leaveCall(_ page: Page) async {
        guard let meeting, state.withLock({ state in
            defer { state.left = true }
            return state.gateOpen && !state.left
        }) else { return }
        let read = await meeting.participants(page)
        state.withLock { if let read { $0.participants = read } }
        _ = await meeting.leave(page)
    }

    /// Writes a Jitsi room's `metadata.json` beside the final file (Jibri's
    /// `meeting_url`, `participants`, the request's `metadata`); nothing
    /// for a plain page. Call after `close`. Throws the write's error.
    func writeMeetingMetadata() throws {
        guard let meeting, let beside = metadataBeside else { return }
        try meeting.writeMetadata(participants: state.withLock { $0.participants },
                                  beside: beside.relative, in: beside.directory)
    }

    // MARK: Helpers

    private func observe(_ event: PageEvent) {
        state.withLock { state in
            switch event {
            case let .console(message):
                if case let .console(text) = request.start, Self.matches(message, text) { state.startSeen = true }
                if state.gateOpen, case let .console(text) = request.end, Self.matches(message, text) { state.endSeen = true }
            case .loaded:
                break
            case .crashed:
                state.crashed = true
            case let .browserExited(how):
                state.exited = how
            }
        }
        changes.changed()
    }

    /// A console message carries `text` as its whole or as one of its
    /// arguments (LiveKit compares each argument).
    static func matches(_ message: String, _ text: String) -> Bool {
        message == text || message.split(separator: " ").contains { $0 == text }
    }

    /// Evaluates a predicate: truthy or not; a JavaScript exception is
    /// "not yet"; a hang, crash or exit throws with its ending.
    private func holds(_ expression: String) async throws(Failure) -> Bool {
        guard let page = state.withLock({ $0.browser?.page }) else {
            throw Failure(message: "the browser is closed", ending: nil)
        }
        do throws(BrowserError) {
            return Self.truthy(try await page.evaluate(expression, timeout: settings.hungAfter))
        } catch .evaluationFailed {
            return false
        } catch {
            throw Self.failure(error, doing: "the predicate could not be evaluated")
        }
    }

    static func truthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: false
        case let .bool(flag): flag
        case let .number(number): number != 0 && !number.isNaN
        case let .string(text): !text.isEmpty
        case .array, .object: true
        }
    }

    private func checkCancelled() throws(Failure) {
        if state.withLock({ $0.cancelled || $0.closed }) { throw Failure(message: "stopped before the start gate opened", ending: nil) }
    }

    private func checkAlive() throws(Failure) {
        let (crashed, exited) = state.withLock { ($0.crashed, $0.exited) }
        if crashed { throw Failure(message: "the page crashed before its start gate opened", ending: .pageCrashed) }
        if let exited { throw Failure(message: "the browser exited (\(exited)) before the start gate opened", ending: .browserExited) }
    }

    private static func ending(_ error: BrowserError) -> Ending? {
        switch error {
        case .timedOut: .pageHung
        case .pageCrashed: .pageCrashed
        case .browserExited: .browserExited
        default: nil
        }
    }

    private static func failure(_ error: BrowserError, doing what: String) -> Failure {
        switch error {
        case let .httpStatus(status): Failure(message: "the page answered HTTP \(status)", ending: nil)
        case let .timedOut(step): Failure(message: "\(what): \(step) timed out", ending: ending(error))
        case let .navigationFailed(reason): Failure(message: "\(what): \(reason)", ending: nil)
        case let .launchFailed(reason): Failure(message: "\(what): \(reason)", ending: nil)
        default: Failure(message: "\(what): \(error)", ending: ending(error))
        }
    }
}
