import Foundation
import Testing
import TestSupport

/// Issue 20, item 3: an X server that stops answering (Xvfb under SIGSTOP)
/// is an error naming the display, at the start as during a recording, and
/// Jibri's SIGINT still finishes the file in place within its 10 s.
@Suite(.serialized, .tags(.bench)) struct StoppedServerTests {
    /// Reads the whole of a log file.
    private func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func aStartOnAStoppedServerExitsWithOneNamingTheDisplayWithinItsBound() throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer()
        let directory = try bench.scratchDirectory("stopped-start")
        let logPath = "\(directory)/start.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        server.process.send(SIGSTOP)
        defer { server.process.send(SIGCONT) }
        let started = Date()
        let child = try ChildProcess([RecordDisplayBinary.path, "--display", server.display, "--no-audio", "--duration", "3",
                                      "--output", "\(directory)/never.mp4"], standardError: .descriptor(log.fileDescriptor))
        let status = child.wait(timeout: 30)?.status
        let took = Date().timeIntervalSince(started)
        if status == nil { child.send(SIGKILL); child.wait() }
        print("stopped server, start: exit \(String(describing: status)) after \(String(format: "%.2f", took)) s: \(text(logPath))")
        #expect(status == 1, "\(text(logPath))")
        #expect(text(logPath).contains("display '\(server.display)' does not answer"), "\(text(logPath))")
        // The answer timeout is 5 s; the rest is the program's own start.
        #expect(took < 8, "exited after \(took) s")
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/never.mp4"))
    }

    @Test func sigintWhileTheServerIsStoppedFinishesThePlayableFileInPlaceWithinTenSeconds() async throws {
        let bench = try TestBench.current()
        let server = try PrivateXServer()
        let window = try TestWindow(displayName: server.display, x: 0, y: 0, width: 320, height: 240)
        window.fill(0x00FF00, x: 0, y: 0, width: 320, height: 240)
        window.sync()
        defer { withExtendedLifetime(window) {} }
        let directory = try bench.scratchDirectory("stopped-sigint")
        let output = "\(directory)/meeting.mp4", logPath = "\(directory)/meeting.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        let child = try ChildProcess([RecordDisplayBinary.path, "--display", server.display, "--no-audio", "--region",
                                      "320x240+0+0", "--duration", "60", "--output", output],
                                     standardError: .descriptor(log.fileDescriptor))
        // Two fragments written: a couple of seconds recorded.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline && ((try? MediaProbe.topLevelBoxes(output)) ?? []).filter({ $0 == "moof" }).count < 2 {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        server.process.send(SIGSTOP)
        defer { server.process.send(SIGCONT) }
        // The grabber's next call blocks on the stopped server (one frame
        // later); Jibri stops the recorder some time after its meeting froze.
        try await Task.sleep(nanoseconds: 500_000_000)
        let interrupted = Date()
        child.send(SIGINT)
        let status = child.wait(timeout: 10)?.status
        let took = Date().timeIntervalSince(interrupted)
        if status == nil { child.send(SIGKILL); child.wait() }
        print("stopped server, SIGINT: exit \(String(describing: status)) after \(String(format: "%.2f", took)) s: \(text(logPath))")
        #expect(status != nil && took < 10, "still running \(took) s after SIGINT: \(text(logPath))")
        // The same ending as a server that went away: the error names the display.
        #expect(text(logPath).contains("display '\(server.display)' does not answer") || status == 0, "\(text(logPath))")
        let boxes = try MediaProbe.topLevelBoxes(output)
        #expect(boxes.contains("moov") && !boxes.contains("moof"), "a finished regular MP4 in place: \(boxes)")
        let probe = try MediaProbe(path: output)
        #expect((probe.duration ?? 0) >= 1.5, "duration \(probe.duration ?? 0)")
        #expect(try MediaProbe.decodeErrors(output).isEmpty)
    }
}
