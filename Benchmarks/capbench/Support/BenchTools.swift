import AVProbe
import Foundation
import HostProcesses

/// The tools a benchmark reads its recordings with (ffprobe, ffmpeg), run as
/// its children.
enum BenchTools {
    /// A tool's standard output; it must exit with status 0 (an `AVProbe.ToolRunner`).
    static func output(_ arguments: [String]) throws -> Data {
        let pipe = Pipe()
        let child = try ChildProcess(arguments, standardOutput: .descriptor(pipe.fileHandleForWriting.fileDescriptor))
        try pipe.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        guard child.wait().status == 0 else { throw BenchFailure("\(arguments.prefix(2).joined(separator: " ")) failed on \(arguments.last ?? "")") }
        return data
    }
}
