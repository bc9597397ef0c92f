import Foundation
import Testing
import TestSupport

/// Bad input to the built jibri-ffmpeg: one line on stderr naming the
/// option or value, exit status 2, nothing written, before any capture.
@Suite(.serialized, .tags(.bench)) struct JibriFFmpegBadInputTests {
    /// Jibri's recording list into `directory`, with `change` applied.
    private func run(_ bench: TestBench, directory: String, _ change: ([String]) -> [String]) throws -> CommandResult {
        let arguments = change(JibriArguments.recording(display: bench.display, pcm: bench.capturePCM, size: "640x480",
                                                        output: "\(directory)/meeting.mp4"))
        return try Subprocess.run([JibriProcess.binary] + arguments)
    }

    private func expectRefusal(_ result: CommandResult, naming text: String, directory: String,
                               leaving files: [String] = []) throws {
        #expect(result.status == 2, "status \(result.status): \(result.standardError)")
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "one line, got: \(result.standardError)")
        #expect(lines.first?.contains(text) == true, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == files, "something was written")
    }

    @Test func anUnknownOptionIsRefusedByName() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("jibri-bad")
        let result = try run(bench, directory: directory) { Array($0.dropLast(3)) + ["-vf", "scale=320:240"] + $0.suffix(3) }
        try expectRefusal(result, naming: "invalid option '-vf'", directory: directory)
    }

    @Test func aBadValueIsRefusedByName() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("jibri-bad")
        let result = try run(bench, directory: directory) { arguments in
            arguments.map { $0 == "25" ? "twenty-five" : $0 }
        }
        try expectRefusal(result, naming: "invalid -crf 'twenty-five'", directory: directory)
    }

    @Test func aMissingOutputIsRefused() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("jibri-bad")
        let result = try run(bench, directory: directory) { Array($0.dropLast()) }
        try expectRefusal(result, naming: "invalid output '': no output file or stream URL given", directory: directory)
    }

    /// Values only the display can refuse are still bad input, named as
    /// ffmpeg's options: a size larger than the screen.
    @Test func aSizeLargerThanTheScreenIsRefusedAsMinusS() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("jibri-bad")
        let result = try run(bench, directory: directory) { $0.map { $0 == "640x480" ? "3840x2160" : $0 } }
        try expectRefusal(result, naming: "invalid -s '3840x2160+0+0'", directory: directory)
    }

    /// Without `-y` an existing file is kept, as ffmpeg keeps it.
    @Test func anExistingFileWithoutMinusYIsKept() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("jibri-bad")
        try "keep me".write(toFile: "\(directory)/meeting.mp4", atomically: true, encoding: .utf8)
        let result = try run(bench, directory: directory) { $0.filter { $0 != "-y" } }
        try expectRefusal(result, naming: "meeting.mp4", directory: directory, leaving: ["meeting.mp4"])
        #expect(try String(contentsOfFile: "\(directory)/meeting.mp4", encoding: .utf8) == "keep me")
    }

    @Test func aStreamURLWithAKeyIsRefusedWithoutShowingIt() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("jibri-bad")
        let arguments = JibriArguments.streaming(display: bench.display, pcm: bench.capturePCM, size: "640x480",
                                                 url: "rtmp://user:hunter2@127.0.0.1:1/live/secret-key ")
        let result = try Subprocess.run([JibriProcess.binary] + arguments)
        try expectRefusal(result, naming: "invalid output", directory: directory)
        #expect(!result.standardError.contains("secret-key") && !result.standardError.contains("hunter2"), "\(result.standardError)")
    }
}
