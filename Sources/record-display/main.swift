import ArgumentParser
import Foundation
import Logging
import RecorderEngine
import ServiceLifecycle

/// Bad input: one line naming the value, exit 2, nothing written.
func refuse(_ message: String) -> Never {
    FileHandle.standardError.write(Data("record-display: \(message)\n".utf8))
    exit(2)
}

// `record-display repair FILE` is its own command (RepairCommand.swift).
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "repair" {
    exit(RepairCommand.execute(Array(CommandLine.arguments.dropFirst(2))))
}

let command: RecordDisplay
do {
    command = try RecordDisplay.parse()
} catch {
    let code = RecordDisplay.exitCode(for: error)
    if code == .success {  // --help
        print(RecordDisplay.fullMessage(for: error))
        exit(0)
    }
    let message = RecordDisplay.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    // The parser may echo a value; a stream URL in it would show its key.
    refuse(StreamURL.redactURLs(in: message.replacingOccurrences(of: "Error: ", with: "")))
}

// A write to a connection the server closed must fail with EPIPE, not kill
// the recorder (libavformat sends with MSG_NOSIGNAL; this covers the rest).
signal(SIGPIPE, SIG_IGN)
let logger = CommandLineLogHandler.logger(level: command.logLevel)
LogTarget.processLogger = logger
let session: RecordingSession
do {
    var configuration = try command.makeConfiguration()
    configuration.logger = logger
    session = try RecordingSession(configuration: configuration)
} catch let error as RecordingError {
    // The engine names its settings by key; the user typed options.
    refuse(OptionError.describe(error))
} catch {
    refuse("\(error)")
}

exit(await RecordingRun(session: session, statsPath: command.statsJson, logger: logger).execute())
