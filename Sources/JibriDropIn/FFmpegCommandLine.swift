public import RecorderEngine

/// An ffmpeg argument list split as ffmpeg splits it: global options, then
/// per-file options that apply to the file named after them, either an input
/// (`... -i URL`) or an output (a bare URL). Nothing is interpreted here
/// beyond knowing each option's name and whether it takes a value.
///
/// Jibri builds `[ffmpeg-binary, -y, -v, info, <inputs>, <audio>, <video>,
/// -f, FORMAT, PATH]` (`reference.conf`, `FfmpegCapturer.kt`): the program
/// receives everything after the binary.
public struct FFmpegCommandLine: Sendable {
    /// An input or output and the options given before it.
    public struct File: Sendable, Equatable {
        public var options: [FFmpegOption]
        public var url: String

        /// The last value given for `key` (ffmpeg keeps the last of repeated options).
        public func value(_ key: FFmpegOption.Key) -> String? {
            options.last { $0.key == key }?.value
        }

        public func option(_ key: FFmpegOption.Key) -> FFmpegOption? {
            options.last { $0.key == key }
        }
    }

    public var globals: [FFmpegOption] = []
    public var inputs: [File] = []
    public var outputs: [File] = []

    /// Splits `arguments` (without the program's name). Throws
    /// `FFmpegArgumentError` for an option jibri-ffmpeg does not know, an option
    /// missing its value, or options left after the last file.
    public init(arguments: [String]) throws(FFmpegArgumentError) {
        var pending: [FFmpegOption] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            // "-" alone is ffmpeg's name for stdin/stdout: a file, not an option.
            guard argument.hasPrefix("-"), argument.count > 1 else {
                outputs.append(File(options: pending, url: argument))
                pending = []
                continue
            }
            let name = String(argument.dropFirst())
            if name == "i" {
                guard index < arguments.count else {
                    throw FFmpegArgumentError(name: "-i", value: "", reason: "needs an input (a display such as :0.0+0,0 or a PCM)")
                }
                inputs.append(File(options: pending, url: arguments[index]))
                index += 1
                pending = []
                continue
            }
            guard let key = FFmpegOption.spellings[name] else {
                throw FFmpegArgumentError(name: "option", value: argument,
                                          reason: "not one jibri-ffmpeg takes (it takes the options of Jibri's ffmpeg command lines; see docs/JIBRI.md)")
            }
            var value: String?
            if key.takesValue {
                guard index < arguments.count else {
                    throw FFmpegArgumentError(name: argument, value: "", reason: "needs a value")
                }
                value = arguments[index]
                index += 1
            }
            let option = FFmpegOption(key: key, spelling: argument, value: value)
            if key.isGlobal { globals.append(option) } else { pending.append(option) }
        }
        if let trailing = pending.first {
            if outputs.isEmpty { throw Self.missingOutput }
            throw FFmpegArgumentError(name: "option", value: trailing.spelling,
                                      reason: "comes after the last file: give the output file last")
        }
    }

    static let missingOutput = FFmpegArgumentError(name: "output", value: "",
                                                   reason: "no output file or stream URL given (it comes last)")

    /// True when the global flag `key` was given.
    public func has(_ key: FFmpegOption.Key) -> Bool { globals.contains { $0.key == key } }

    /// The last value of the global option `key`.
    public func global(_ key: FFmpegOption.Key) -> FFmpegOption? { globals.last { $0.key == key } }
}
