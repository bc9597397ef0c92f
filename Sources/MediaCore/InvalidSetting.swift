/// A value a user gave that cannot be used; the engine refuses it before it
/// opens or writes anything. It names the setting by its `key`; a front end
/// says the key in its own words (`--crf`, `video.crf`, `-crf`) and prints
/// `invalid NAME 'VALUE': REASON` on one line (command lines exit with 2).
public struct InvalidSetting: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting the value was given for.
    public let key: SettingKey
    /// The value as the user gave it (stream URLs redacted).
    public let value: String
    /// Why it was refused, and what would be accepted.
    public let reason: String

    public init(_ key: SettingKey, value: String, reason: String) {
        self.key = key
        self.value = value
        self.reason = reason
    }

    /// The line in the engine's own words (`SettingKey.description`); front
    /// ends build theirs.
    public var description: String { "invalid \(key) '\(value)': \(reason)" }
}
