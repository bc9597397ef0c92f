import Foundation
import Testing
import TestSupport

/// Issue 20, items 1-3 (recorderd's side): a finalize script that hangs, a
/// crash recovery with slow scripts, and an X server that stops answering
/// hold neither the display, nor an answer, nor the shutdown. Each answer's
/// time is printed.
@Suite(.serialized, .tags(.bench)) struct RecorderdStuckPartsTests {
    /// A script that notes its process group (its own pid) and `$1`, then
    /// runs `command`.
    private func script(_ directory: String, _ command: String) throws -> (script: String, pids: String, marker: String) {
        let script = "\(directory)/finalize.sh", pids = "\(directory)/pids", marker = "\(directory)/finalized"
        try "#!/bin/sh\necho $$ >> \(pids)\n\(command)\necho \"$1\" >> \(marker)\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return (script, pids, marker)
    }

    private func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    /// Runs `body` and prints how long it took.
    private func timed<T>(_ what: String, _ body: () throws -> T) rethrows -> (T, Double) {
        let start = Date()
        let value = try body()
        let took = Date().timeIntervalSince(start)
        print("answer time: \(what): \(String(format: "%.3f", took)) s")
        return (value, took)
    }

    private func groupGone(_ pid: String) -> Bool {
        guard let pid = Int32(pid) else { return false }
        return kill(-pid, 0) != 0 && errno == ESRCH
    }

    @Test func aHungScriptFreesTheDisplayAndIsEndedAtItsLimit() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((0, 120, 255))
        let (hang, pids, _) = try script(try bench.scratchDirectory("hang"), "sleep 300")
        let daemon = try Daemon(bench, arguments: ["--finalize-script", hang, "--finalize-timeout", "4",
                                                   "--shutdown-timeout", "10", "--jibri-health"])
        let body = { (file: String) in #"{"display": "\#(display.display)", "file": "\#(file)"}"# }
        let first = try daemon.request("POST", "/v1/recordings", body: body("hang/1.mp4"))
        try #require(first.status == 201, "\(first.body)")
        let id = try #require(first.json["id"] as? String)
        _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 2 }
        let (stop, stopTook) = try timed("stop with a hung script") { try daemon.request("POST", "/v1/recordings/\(id)/stop") }
        #expect(stop.status == 200, "\(stop.body)")
        #expect(stopTook < 10)
        #expect(["finalizing", "scriptTimedOut"].contains(stop.json["state"] as? String), "\(stop.body)")
        // The file is final: its journal entry is gone while the script runs.
        let journal = (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.recordings)/.recorderd/journal")) ?? []
        #expect(journal.isEmpty, "\(journal)")
        // The display is free at once for the next meeting.
        let (second, secondTook) = try timed("second start on the same display") {
            try daemon.request("POST", "/v1/recordings", body: body("hang/2.mp4"))
        }
        #expect(second.status == 201 && second.json["state"] as? String == "recording", "\(second.body)")
        #expect(secondTook < 15)
        let jibri = try daemon.request("GET", "/jibri/api/v1.0/health").json["status"] as? [String: Any]
        #expect(jibri?["busyStatus"] as? String == "BUSY", "the display is taken: \(String(describing: jibri))")
        // At its limit the script is ended with its process group.
        let ended = try daemon.waitFor(id, seconds: 20) { $0["state"] as? String != "finalizing" }
        #expect(ended["state"] as? String == "scriptTimedOut", "\(ended)")
        #expect(ended["finalizeScriptStatus"] as? Int != nil, "\(ended)")
        let pid = try #require(lines(pids).first)
        #expect(waitUntil(seconds: 5) { groupGone(pid) }, "the script's process group \(pid) is gone")
        let (_, problems) = try checkRecording("\(daemon.recordings)/hang/1.mp4", colour: display.rgb, tone: nil)
        #expect(problems.isEmpty, "\(problems)")
        if let secondID = second.json["id"] as? String { try daemon.request("POST", "/v1/recordings/\(secondID)/stop?wait=false") }
        #expect(daemon.stop(seconds: 30) == 0)
    }

    @Test func sigtermWithAHungScriptExitsZeroWithinTheTimeoutAndEndsIt() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((255, 120, 0))
        let (hang, pids, _) = try script(try bench.scratchDirectory("hang"), "sleep 300")
        let daemon = try Daemon(bench, arguments: ["--finalize-script", hang, "--finalize-timeout", "300",
                                                   "--shutdown-timeout", "3"])
        let first = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(display.display)", "file": "t/1.mp4"}"#)
        try #require(first.status == 201, "\(first.body)")
        let id = try #require(first.json["id"] as? String)
        _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 2 }
        let (stop, _) = try timed("stop with a hung script") { try daemon.request("POST", "/v1/recordings/\(id)/stop") }
        #expect(stop.json["state"] as? String == "finalizing", "\(stop.body)")
        #expect(waitUntil(seconds: 10) { !lines(pids).isEmpty })
        let (status, took) = timed("SIGTERM with a hung script to exit") { daemon.stop(seconds: 40) }
        #expect(status == 0, "\(daemon.log.suffix(3000))")
        #expect(took < 3 + 12, "shutdown timeout 3 s plus a bounded grace")
        #expect(daemon.log.contains("ended a finalize script"), "\(daemon.log.suffix(2000))")
        let pid = try #require(lines(pids).first)
        #expect(waitUntil(seconds: 5) { groupGone(pid) }, "the script's process group \(pid) is gone")
        let journal = (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.recordings)/.recorderd/journal")) ?? []
        #expect(journal.isEmpty, "\(journal)")
    }

    @Test func recoveryRunsInTheBackgroundWhileTheDaemonAnswers() throws {
        let bench = try TestBench.current()
        let displays = try [ColouredDisplay((0, 200, 100)), ColouredDisplay((200, 0, 100))]
        let (slow, _, marker) = try script(try bench.scratchDirectory("slow"), "sleep 20")
        let first = try Daemon(bench)
        var ids: [String] = []
        for (index, display) in displays.enumerated() {
            let answer = try first.request("POST", "/v1/recordings", body: #"{"display": "\#(display.display)", "file": "crash\#(index)/m.mp4"}"#)
            try #require(answer.status == 201, "\(answer.body)")
            ids.append(answer.json["id"] as! String)
        }
        for id in ids { _ = try first.waitFor(id) { Daemon.mediaSeconds($0) >= 4 } }
        #expect(first.stop(SIGKILL, seconds: 10) == 128 + SIGKILL)

        let (second, listenTook) = try timed("restart to listening, with 2 recordings to recover") {
            try Daemon(bench, recordings: first.recordings, arguments: ["--finalize-script", slow])
        }
        let (health, healthTook) = try timed("first /health while recovering") { try second.request("GET", "/health") }
        #expect(listenTook < 5 && healthTook < 2)
        #expect(health.status == 200 && health.json["recovering"] as? Int == 2, "\(health.body)")
        #expect(waitUntil(seconds: 90) { (try? second.request("GET", "/health").json["recovering"] as? Int) == 0 })
        #expect(lines(marker).sorted() == ["\(first.recordings)/crash0", "\(first.recordings)/crash1"], "each script ran once")
        for (index, display) in displays.enumerated() {
            let (_, problems) = try checkRecording("\(first.recordings)/crash\(index)/m.mp4", colour: display.rgb, tone: nil)
            #expect(problems.isEmpty, "\(index): \(problems)")
        }
        let journal = (try? FileManager.default.contentsOfDirectory(atPath: "\(first.recordings)/.recorderd/journal")) ?? []
        #expect(journal.isEmpty, "\(journal)")
        #expect(second.stop() == 0)
    }

    @Test func aStoppedXServerFailsTheStartInTimeAndReleasesTheDisplay() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((90, 90, 255))
        let daemon = try Daemon(bench)
        display.server.process.send(SIGSTOP)
        var resumed = false
        defer { if !resumed { display.server.process.send(SIGCONT) } }
        let (start, took) = try timed("start on a stopped X server") {
            try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(display.display)", "file": "w/1.mp4"}"#)
        }
        #expect(took < 15 + 2, "startTimeoutSeconds is 15")
        #expect(start.json["state"] as? String == "failed", "\(start.body)")
        let error = start.json["error"] as? String ?? ""
        #expect(error.contains(display.display) && error.contains("does not answer"), "\(error)")
        let id = try #require(start.json["id"] as? String)
        display.server.process.send(SIGCONT)
        resumed = true
        // Released: the display takes the next recording, and the failed one never begins.
        let next = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(display.display)", "file": "w/2.mp4"}"#)
        #expect(next.status == 201 && next.json["state"] as? String == "recording", "\(next.body)")
        let nextID = try #require(next.json["id"] as? String)
        _ = try daemon.waitFor(nextID) { Daemon.mediaSeconds($0) >= 2 }
        #expect(try daemon.request("GET", "/v1/recordings/\(id)").json["state"] as? String == "failed")
        try daemon.request("POST", "/v1/recordings/\(nextID)/stop")
        #expect(daemon.stop() == 0)
    }

    @Test func aStopWhileTheXServerIsStoppedFinishesTheFileInSeconds() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((255, 255, 0))
        let daemon = try Daemon(bench)
        let start = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(display.display)", "file": "w/s.mp4"}"#)
        try #require(start.status == 201, "\(start.body)")
        let id = try #require(start.json["id"] as? String)
        _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 3 }
        display.server.process.send(SIGSTOP)
        defer { display.server.process.send(SIGCONT) }
        let (stop, took) = try timed("stop while the X server is stopped") { try daemon.request("POST", "/v1/recordings/\(id)/stop") }
        #expect(took < 8, "a few seconds")
        #expect(stop.status == 200, "\(stop.body)")
        let (_, problems) = try checkRecording("\(daemon.recordings)/w/s.mp4", colour: display.rgb, tone: nil)
        #expect(problems.isEmpty, "\(problems)")
        #expect(daemon.stop() == 0)
    }
}
