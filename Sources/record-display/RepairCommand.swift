import ArgumentParser
import Foundation
import RecorderEngine

/// `record-display repair FILE`: makes whole a recording that a crash, a
/// kill (also during finishing), a power loss or a full disk left behind
/// (`MP4Repair`). Prints one line. Exit status: 0 repaired, or finished
/// already (untouched); 2 not an MP4, not a recording of ours, or no such
/// file (untouched); 1 nothing whole to keep, or a write failed (the file
/// still plays or can be repaired again).
struct RepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record-display repair",
        abstract: "Turn an interrupted recording into a regular MP4 holding every complete fragment, in place.",
        discussion: """
            Exit status: 0 repaired or already finished (left untouched); 2 not an MP4 or not a recording \
            made by record-display (left untouched); 1 nothing to keep or a write failed.
            """)

    @Argument(help: "The recording to repair.") var file: String

    /// Runs `repair` with `arguments` (those after the word `repair`);
    /// returns the exit status.
    static func execute(_ arguments: [String]) -> Int32 {
        let command: RepairCommand
        do {
            command = try parse(arguments)
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return 0
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            say(message.replacingOccurrences(of: "Error: ", with: ""))
            return 2
        }
        return command.repair()
    }

    func repair() -> Int32 {
        do {
            let report = try MP4Repair.repair(path: file)
            if report.wasFinished {
                say("\(file) is a finished recording already; left untouched")
                return 0
            }
            var line = "repaired \(file): \(report.fragments) complete fragments, "
                + "\(StatisticsText.fixed(report.duration ?? 0, 2)) s, index "
                + (report.moovAtFront == true ? "before the media" : "after the media")
            if report.droppedBytes > 0 { line += ", \(report.droppedBytes) bytes after the last complete fragment cut off" }
            say(line + " (\(StatisticsText.fixed(report.seconds, 2)) s)")
            return 0
        } catch let refusal as MP4RepairRefusal {
            say("\(refusal)")
            switch refusal.kind {
            case .notMP4, .notOurs, .unreadable: return 2
            case .nothingToKeep, .damaged: return 1
            }
        } catch {
            say("repairing \(file): \(error)")
            return 1
        }
    }

    private static func say(_ line: String) {
        FileHandle.standardError.write(Data("record-display: \(line)\n".utf8))
    }

    private func say(_ line: String) { Self.say(line) }
}
