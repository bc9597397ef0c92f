import Foundation
import Logging

/// The engine's log lines on a terminal: `record-display: message`, one line
/// each, on stderr; a library's own lines (libav, alsa-lib) are prefixed with
/// its name. Metadata (the session id) is left out: a command line records one.
struct CommandLineLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    /// A logger writing through this handler at `level`.
    static func logger(level: Logger.Level) -> Logger {
        Logger(label: "record-display") { _ in CommandLineLogHandler(logLevel: level) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let library = event.metadata?["library"].map { "\($0): " } ?? ""
        FileHandle.standardError.write(Data("record-display: \(library)\(event.message)\n".utf8))
    }
}
