/// When a page recording starts: nothing the page shows before the gate
/// opens is in the file.
enum PageStartGate: Sendable, Equatable {
    /// The main document's load event (the default).
    case load
    /// A console message whose arguments include `text` (LiveKit's
    /// template SDK prints `START_RECORDING`).
    case console(text: String)
    /// A JavaScript expression, evaluated every `PageStartGate.pollInterval`
    /// after load until it is truthy; the recording fails after `timeout`
    /// seconds.
    case predicate(expression: String, timeout: Double)

    static let defaultText = "START_RECORDING"
    static let defaultTimeoutSeconds = 30.0
    /// How often a predicate is evaluated while waiting, seconds.
    static let pollInterval = 0.25
}
