/// Why a browser or page operation failed. No case carries a URL: it may hold tokens.
public enum BrowserError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program is missing, refused to start, or exited before the DevTools pipe answered.
    case launchFailed(String)
    /// The navigation failed with Chromium's network error (`net::ERR_...`).
    case navigationFailed(String)
    /// The main document answered with this HTTP status (400 or more).
    case httpStatus(Int)
    /// What did not finish in time: "navigation", "evaluate", "start gate", a protocol method.
    case timedOut(String)
    /// The page's renderer crashed (`Inspector.targetCrashed` / `Target.targetCrashed`).
    case pageCrashed
    /// The browser ended: its DevTools pipe closed or its process was reaped ("signal 9", "exit 1").
    case browserExited(String)
    /// A JavaScript exception thrown by an evaluated expression: its text.
    case evaluationFailed(String)
    /// An error answer of the DevTools protocol, or a message that could not be read.
    case protocolError(String)

    public var description: String {
        switch self {
        case .launchFailed(let why): "the browser could not be started: \(why)"
        case .navigationFailed(let error): "the page could not be loaded: \(error)"
        case .httpStatus(let status): "the page answered HTTP \(status)"
        case .timedOut(let what): "\(what) timed out"
        case .pageCrashed: "the page crashed"
        case .browserExited(let how): "the browser exited (\(how))"
        case .evaluationFailed(let text): "the page's script failed: \(text)"
        case .protocolError(let text): "DevTools protocol error: \(text)"
        }
    }
}
