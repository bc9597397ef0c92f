import Foundation
import Synchronization

/// The browser's page (one tab, attached over a flat DevTools session):
/// navigation, scripts, cookies, and what the page reports.
public final class Page: Sendable {
    let connection: DevToolsConnection
    let sessionId: String
    let targetId: String
    /// Every event from launch on, buffered (unbounded), for one consumer. It
    /// finishes after `.browserExited`.
    public let events: AsyncStream<PageEvent>
    private let eventSink: AsyncStream<PageEvent>.Continuation

    private struct State {
        /// The main documents' HTTP statuses by loader (this navigation's).
        var statuses: [String: Int] = [:]
        /// Loaders whose main-frame load event came.
        var loaded: Set<String> = []
        var loadWaiter: (loader: String, answer: PendingAnswer<Void>)?
        var lastStatus = 0
        var crashed = false
        var exited: String?
    }
    private let state = Mutex(State())

    /// The answer deadline of the short commands (enable, cookies, scripts).
    static let commandTimeout = Duration.seconds(10)

    init(connection: DevToolsConnection, sessionId: String, targetId: String) {
        self.connection = connection
        self.sessionId = sessionId
        self.targetId = targetId
        (events, eventSink) = AsyncStream.makeStream(of: PageEvent.self, bufferingPolicy: .unbounded)
    }

    /// Turns on the events the page is watched by.
    func enable() async throws(BrowserError) {
        _ = try await command("Page.enable")
        _ = try await command("Page.setLifecycleEventsEnabled", ["enabled": .bool(true)])
        _ = try await command("Runtime.enable")
        _ = try await command("Network.enable")
    }

    public func setCookies(_ cookies: [BrowserCookie]) async throws(BrowserError) {
        let list: [JSONValue] = cookies.map { cookie in
            var fields: [String: JSONValue] = ["name": .string(cookie.name), "value": .string(cookie.value)]
            if let url = cookie.url { fields["url"] = .string(url) }
            if let domain = cookie.domain { fields["domain"] = .string(domain) }
            if let path = cookie.path { fields["path"] = .string(path) }
            return .object(fields)
        }
        _ = try await command("Network.setCookies", ["cookies": .array(list)])
    }

    /// Entries written into `origin`'s localStorage before any script of that
    /// origin runs (a script added to every new document that checks its
    /// origin), e.g. origin "https://meet.example.org".
    public func setLocalStorage(_ entries: [String: String], origin: String) async throws(BrowserError) {
        var origin = origin
        while origin.hasSuffix("/") { origin.removeLast() }
        guard let entriesJSON = try? JSONSerialization.data(withJSONObject: entries),
              let originJSON = try? JSONSerialization.data(withJSONObject: [origin]) else {
            throw .protocolError("localStorage entries not serializable")
        }
        let source = """
            (function () {
              if (location.origin !== \(String(decoding: originJSON, as: UTF8.self))[0]) return;
              const entries = \(String(decoding: entriesJSON, as: UTF8.self));
              for (const key of Object.keys(entries)) localStorage.setItem(key, entries[key]);
            })();
            """
        _ = try await command("Page.addScriptToEvaluateOnNewDocument", ["source": .string(source)])
    }

    /// Navigates and waits for the main document's load event. Returns the
    /// main document's HTTP status (0 when no HTTP response made it).
    /// Retries `retries` times on transient network errors (connection
    /// refused, reset, closed or timed out, name not resolved, network
    /// changed), 0.5 s more apart each time.
    /// - Throws: `.httpStatus` for >= 400, `.timedOut("navigation")` when one
    ///   attempt takes longer than `timeout`, `.navigationFailed`, `.pageCrashed`, `.browserExited`.
    public func navigate(to url: String, timeout: Duration, retries: Int) async throws(BrowserError) -> Int {
        var attempt = 0
        while true {
            do {
                return try await navigateOnce(to: url, timeout: timeout)
            } catch {
                guard case .navigationFailed(let text) = error, attempt < retries, Self.isTransient(text) else { throw error }
                attempt += 1
                try? await Task.sleep(for: .milliseconds(500 * attempt))
            }
        }
    }

    /// Chromium's network errors worth another attempt (net/base/net_error_list.h).
    static func isTransient(_ errorText: String) -> Bool {
        ["CONNECTION_REFUSED", "CONNECTION_RESET", "CONNECTION_CLOSED", "CONNECTION_TIMED_OUT", "CONNECTION_FAILED",
         "TIMED_OUT", "NAME_NOT_RESOLVED", "NAME_RESOLUTION_FAILED", "NETWORK_CHANGED", "INTERNET_DISCONNECTED",
         "ADDRESS_UNREACHABLE", "EMPTY_RESPONSE", "CERT_VERIFIER_CHANGED"].contains { errorText == "net::ERR_" + $0 }
    }

    private func navigateOnce(to url: String, timeout: Duration) async throws(BrowserError) -> Int {
        let deadline = ContinuousClock.now + timeout
        state.withLock { state in
            state.statuses = [:]
            state.loaded = []
            state.loadWaiter = nil
        }
        let answer = try await command("Page.navigate", ["url": .string(url)], timeout: timeout, what: "navigation")
        let loader = answer["loaderId"]?.string
        if let errorText = answer["errorText"]?.string, !errorText.isEmpty {
            // An error status with an empty body: Chromium shows its own error page.
            if let loader, let status = state.withLock({ $0.statuses[loader] }), status >= 400 { throw .httpStatus(status) }
            throw .navigationFailed(errorText)
        }
        // No loader: a navigation within the document (its hash only).
        guard let loader else { return state.withLock { $0.lastStatus } }
        if let status = state.withLock({ $0.statuses[loader] }), status >= 400 { throw .httpStatus(status) }
        let loaded = PendingAnswer<Void>()
        let failure: BrowserError? = state.withLock { state in
            if state.crashed { return .pageCrashed }
            if let how = state.exited { return .browserExited(how) }
            if state.loaded.contains(loader) { loaded.resolve(.success(())) } else { state.loadWaiter = (loader, loaded) }
            return nil
        }
        if let failure { throw failure }
        if case .failure(let error) = await loaded.wait(timeout: deadline - .now, what: "navigation") { throw error }
        let status = state.withLock { state in
            state.lastStatus = state.statuses[loader] ?? 0
            return state.lastStatus
        }
        if status >= 400 { throw .httpStatus(status) }
        return status
    }

    /// `Runtime.evaluate` (returnByValue, awaitPromise) in the page's main
    /// context, with its own deadline on the answer: a hung renderer throws
    /// `.timedOut("evaluate")`. Undefined comes back as `.null`.
    /// - Throws: `.evaluationFailed` with the exception's text, `.timedOut`, `.pageCrashed`, `.browserExited`.
    public func evaluate(_ expression: String, timeout: Duration) async throws(BrowserError) -> JSONValue {
        let answer = try await command("Runtime.evaluate", [
            "expression": .string(expression), "returnByValue": .bool(true), "awaitPromise": .bool(true),
        ], timeout: timeout, what: "evaluate")
        if let details = answer["exceptionDetails"] {
            throw .evaluationFailed(details["exception"]?["description"]?.string ?? details["text"]?.string ?? "exception")
        }
        return answer["result"]?["value"] ?? .null
    }

    /// Crashes the page's renderer (`Page.crash`), for tests; the answer is not awaited.
    public func crash() async {
        connection.post("Page.crash", session: sessionId)
    }

    /// One command in this page's session; fails at once on a crashed page or an ended browser.
    func command(_ method: String, _ params: [String: JSONValue] = [:], timeout: Duration = commandTimeout,
                 what: String? = nil) async throws(BrowserError) -> JSONValue {
        let failure: BrowserError? = state.withLock { state in
            if state.crashed { return .pageCrashed }
            if let how = state.exited { return .browserExited(how) }
            return nil
        }
        if let failure { throw failure }
        return try await connection.command(method, params, session: sessionId, timeout: timeout, what: what).get()
    }

    // MARK: Events (on the connection's reader thread)

    func handle(_ method: String, _ params: JSONValue) {
        switch method {
        case "Runtime.consoleAPICalled":
            let text = (params["args"]?.array ?? []).map(Self.consoleText).joined(separator: " ")
            eventSink.yield(.console(text))
        case "Page.loadEventFired":
            eventSink.yield(.loaded)
        case "Page.lifecycleEvent":
            guard params["name"]?.string == "load", params["frameId"]?.string == targetId,
                  let loader = params["loaderId"]?.string else { return }
            let waiter: PendingAnswer<Void>? = state.withLock { state in
                state.loaded.insert(loader)
                guard let waiter = state.loadWaiter, waiter.loader == loader else { return nil }
                state.loadWaiter = nil
                return waiter.answer
            }
            waiter?.resolve(.success(()))
        case "Network.responseReceived":
            guard params["type"]?.string == "Document", let loader = params["loaderId"]?.string,
                  let status = params["response"]?["status"]?.number else { return }
            state.withLock { $0.statuses[loader] = Int(status) }
        case "Page.javascriptDialogOpening":
            // An open alert() would stall every script; a beforeunload
            // question is answered "leave" so navigations go on.
            let leave = params["type"]?.string == "beforeunload"
            connection.post("Page.handleJavaScriptDialog", ["accept": .bool(leave)], session: sessionId)
        case "Inspector.targetCrashed":
            crashed()
        default:
            break
        }
    }

    /// The renderer crashed: said once; waits and commands in the session fail.
    func crashed() {
        let (first, waiter) = state.withLock { state -> (Bool, PendingAnswer<Void>?) in
            guard !state.crashed else { return (false, nil) }
            state.crashed = true
            defer { state.loadWaiter = nil }
            return (true, state.loadWaiter?.answer)
        }
        guard first else { return }
        eventSink.yield(.crashed)
        waiter?.resolve(.failure(.pageCrashed))
        connection.fail(session: sessionId, with: .pageCrashed)
    }

    /// The browser ended: said once, and the event stream finishes.
    func browserExited(_ how: String) {
        let (first, waiter) = state.withLock { state -> (Bool, PendingAnswer<Void>?) in
            guard state.exited == nil else { return (false, nil) }
            state.exited = how
            defer { state.loadWaiter = nil }
            return (true, state.loadWaiter?.answer)
        }
        guard first else { return }
        eventSink.yield(.browserExited(how))
        eventSink.finish()
        waiter?.resolve(.failure(.browserExited(how)))
    }

    /// A console argument as text: a primitive's value, else its description.
    static func consoleText(_ argument: JSONValue) -> String {
        switch argument["value"] {
        case .string(let text): return text
        case .number(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): return String(flag)
        case .null: return "null"
        default:
            if argument["type"]?.string == "undefined" { return "undefined" }
            return argument["unserializableValue"]?.string ?? argument["description"]?.string ?? ""
        }
    }
}
