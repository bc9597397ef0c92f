import ArgumentParser
import Foundation
import RecorderEngine

/// Bad input: one line naming the value, exit 2, nothing written.
func refuse(_ message: String) -> Never {
    FileHandle.standardError.write(Data("record-display: \(message)\n".utf8))
    exit(2)
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
    refuse(message.replacingOccurrences(of: "Error: ", with: ""))
}

RecordingSession.quietLibraryLogs()
let session: RecordingSession
do {
    session = try RecordingSession(configuration: try command.makeConfiguration())
} catch {
    refuse("\(error)")
}

let run = RecordingRun(session: session, statsPath: command.statsJson)
exit(run.execute())
