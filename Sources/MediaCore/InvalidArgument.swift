/// A value a user gave that cannot be used; the engine refuses it before it
/// opens or writes anything. Command-line tools print `description` on one line
/// and exit with code 2.
public struct InvalidArgument: Error, Sendable, CustomStringConvertible {
    /// The option or setting the value was given for (`--region`, `fps`).
    public let name: String
    /// The value as the user gave it.
    public let value: String
    /// Why it was refused, and what would be accepted.
    public let reason: String

    public init(name: String, value: String, reason: String) {
        self.name = name
        self.value = value
        self.reason = reason
    }

    public var description: String { "invalid \(name) '\(value)': \(reason)" }
}
