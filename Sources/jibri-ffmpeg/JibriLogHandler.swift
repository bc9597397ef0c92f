import JibriDropIn
import Logging

/// The engine's log and the C libraries' lines it routes (libav*, alsa-lib,
/// with `library` metadata) as jibri-ffmpeg lines: `jibri-ffmpeg: libav:
/// message`, through the console, so Jibri can never misread one.
///
/// Levels follow ffmpeg's `-v`: at `info`, Jibri's level, warnings and errors
/// are printed (the engine's own info lines say what jibri-ffmpeg's lines
/// say already); `verbose` adds the engine's info lines, `debug` and `trace`
/// theirs; `error` and below print errors only, `quiet` nothing but criticals.
struct JibriLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let console: JibriConsole

    /// A logger writing through `console` at the level ffmpeg's `-v` implies.
    static func logger(console: JibriConsole, level: FFmpegLogLevel) -> Logger {
        let loggerLevel: Logger.Level = switch level {
        case ...FFmpegLogLevel.fatal: .critical
        case ...FFmpegLogLevel.error: .error
        case ...FFmpegLogLevel.info: .warning
        case ...FFmpegLogLevel.verbose: .info
        case ...FFmpegLogLevel.debug: .debug
        default: .trace
        }
        return Logger(label: "jibri-ffmpeg") { _ in JibriLogHandler(logLevel: loggerLevel, console: console) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let library = event.metadata?["library"].map { "\($0): " } ?? ""
        console.note("\(library)\(event.message)")
    }
}
