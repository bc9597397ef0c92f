/// What ends a page recording from the page's side.
enum PageEndGate: Sendable, Equatable {
    /// A console message whose arguments include `text`.
    case console(text: String)
    /// A JavaScript expression evaluated every `interval` seconds; truthy ends.
    case predicate(expression: String, interval: Double)

    static let defaultText = "END_RECORDING"
    static let defaultIntervalSeconds = 1.0
}
