import RecorderEngine

/// A command-line value record-display refuses: the option as the user
/// typed it (`--crf`), the value and why. Printed on one line, exit 2.
struct OptionError: Error, CustomStringConvertible {
    var option, value, reason: String

    var description: String { "invalid \(option) '\(value)': \(reason)" }

    /// A session's error as one line: a refused setting in the options'
    /// words, anything else as it describes itself.
    static func describe(_ error: RecordingError) -> String {
        guard case let .configuration(setting) = error else { return "\(error)" }
        return "\(OptionError(setting))"
    }
}

extension OptionError {
    /// The engine's refusal, named by the option that set the value.
    init(_ setting: InvalidSetting) {
        self.init(option: setting.key.option, value: setting.value, reason: setting.reason)
    }
}
