public import RecorderEngine

/// An ffmpeg argument jibri-ffmpeg refuses: the option as Jibri wrote it
/// (`-crf`, `-i`; `option` for an option it does not take, `output` for the
/// output), the value and why. Printed on one line, as ffmpeg refuses.
public struct FFmpegArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var name, value, reason: String

    public init(name: String, value: String, reason: String) {
        self.name = name
        self.value = value
        self.reason = reason
    }

    /// The engine's refusal, named by the ffmpeg option that gave the value.
    public init(_ setting: InvalidSetting) {
        self.init(name: setting.key.ffmpegOption, value: setting.value, reason: setting.reason)
    }

    public var description: String { "invalid \(name) '\(value)': \(reason)" }
}
