/// What a page reports, in order, on `Page.events`.
public enum PageEvent: Sendable, Equatable {
    /// A `console.*` call: its arguments' primitive values joined by " ".
    case console(String)
    /// The main frame's load event.
    case loaded
    /// The renderer crashed (`Inspector.targetCrashed` or `Target.targetCrashed`).
    case crashed
    /// The browser ended (its pipe closed or its process was reaped): how ("signal 9", "exit 0").
    case browserExited(String)
}
