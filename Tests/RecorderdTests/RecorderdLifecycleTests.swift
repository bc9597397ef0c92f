import Foundation
import Testing
import TestSupport

/// recorderd's lifetime: a crash and a restart, and SIGTERM with recordings running.
@Suite(.serialized, .tags(.bench)) struct RecorderdLifecycleTests {
    /// A finalize script that notes its argument (the recording's directory).
    private func finalizeScript(_ directory: String) throws -> (script: String, marker: String) {
        let script = "\(directory)/finalize.sh", marker = "\(directory)/finalized"
        try "#!/bin/sh\necho \"$1\" >> \(marker)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        return (script, marker)
    }

    @Test func killNineThenRestartRecoversTheFileAndRunsTheScript() throws {
        let bench = try TestBench.current()
        let display = try ColouredDisplay((0, 200, 100))
        let scripts = try bench.scratchDirectory("finalize")
        let (script, marker) = try finalizeScript(scripts)
        let first = try Daemon(bench, arguments: ["--finalize-script", script])
        let started = try first.request("POST", "/v1/recordings", body: """
            {"display": "\(display.display)", "audioDevice": "\(bench.capturePCM)", "file": "crash/meeting.mp4"}
            """)
        try #require(started.status == 201, "\(started.body)")
        let id = try #require(started.json["id"] as? String)
        let running = try first.waitFor(id) { Daemon.mediaSeconds($0) >= 5 }
        let recordedAtKill = Daemon.mediaSeconds(running)
        #expect(first.stop(SIGKILL, seconds: 10) == 128 + SIGKILL)
        let path = "\(first.recordings)/crash/meeting.mp4"
        #expect(try MediaProbe.topLevelBoxes(path).contains("moof"), "a killed recording is left fragmented")
        #expect(!FileManager.default.fileExists(atPath: marker))

        let second = try Daemon(bench, recordings: first.recordings, arguments: ["--finalize-script", script])
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: marker) && Date() < deadline { usleep(100_000) }
        let finalized = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        #expect(finalized == "\(first.recordings)/crash\n", "the finalize script ran with the directory: '\(finalized)'")
        let (probe, problems) = try checkRecording(path, colour: (0, 200, 100), tone: nil)
        #expect(problems.isEmpty, "\(problems)")
        // Nothing lost but the last fragment (at most about 2 s).
        #expect((probe.duration ?? 0) >= recordedAtKill - 2.5, "\(probe.duration ?? 0) s kept of \(recordedAtKill) s")
        #expect(second.log.contains("recovered a recording a crash left behind"))
        let metrics = try second.metrics()
        #expect(metrics["recorderd_recovered_recordings_total"] == 1)
        #expect(second.stop() == 0)
    }

    @Test func aSecondDaemonOnABusyAddressSaysWhichAndExitsOne() throws {
        let bench = try TestBench.current()
        let first = try Daemon(bench)
        do {
            let second = try Daemon(bench, arguments: ["--listen", first.address])
            Issue.record("a second daemon listens on \(second.address) too")
        } catch DaemonError.exited(let status, let log) {
            #expect(status == 1, "\(log)")
            #expect(log.contains("cannot listen on \(first.address): the address is in use"), "\(log)")
        }
        #expect(first.stop() == 0)
    }

    @Test func sigtermStopsAndFinishesTwoRecordingsAndExitsZero() throws {
        let bench = try TestBench.current()
        let displays = try [ColouredDisplay((255, 0, 255)), ColouredDisplay((0, 255, 255))]
        let scripts = try bench.scratchDirectory("finalize")
        let (script, marker) = try finalizeScript(scripts)
        let daemon = try Daemon(bench, arguments: ["--finalize-script", script, "--shutdown-timeout", "30"])
        var ids: [String] = []
        for (index, display) in displays.enumerated() {
            let answer = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(display.display)", "file": "term/\#(index).mp4"}"#)
            try #require(answer.status == 201, "\(answer.body)")
            ids.append(answer.json["id"] as! String)
        }
        for id in ids { _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 3 } }
        // An event stream open across the shutdown gets its `stopped` (the
        // recorder hears the signal before the server stops).
        let sse = "\(daemon.scratch)/term.sse"
        let events = try ChildProcess(["curl", "-sN", "--max-time", "60", "-o", sse,
                                       "http://\(daemon.address)/v1/recordings/\(ids[0])/events"])
        let open = Date().addingTimeInterval(10)
        while ((try? String(contentsOfFile: sse, encoding: .utf8)) ?? "").isEmpty && Date() < open { usleep(50_000) }
        let sent = Date()
        daemon.process.send(SIGTERM)
        // New recordings are refused from the signal on (or the port is closed).
        let late = try daemon.request("POST", "/v1/recordings", body: #"{"display": "\#(bench.display)", "file": "late.mp4"}"#)
        #expect(late.status == 503 || late.status == 0, "\(late.status) \(late.body)")
        let status = daemon.process.wait(timeout: 60)?.status
        #expect(status == 0, "exit status \(String(describing: status))\n\(daemon.log.suffix(3000))")
        #expect(Date().timeIntervalSince(sent) < 30)
        #expect(events.wait(timeout: 10)?.status == 0)
        let streamed = (try? String(contentsOfFile: sse, encoding: .utf8)) ?? ""
        #expect(streamed.hasPrefix("event: started") && streamed.contains("event: stopped"), "\(streamed.suffix(500))")
        for (index, display) in displays.enumerated() {
            let (_, problems) = try checkRecording("\(daemon.recordings)/term/\(index).mp4", colour: display.rgb, tone: nil)
            #expect(problems.isEmpty, "\(index): \(problems)")
        }
        let lines = ((try? String(contentsOfFile: marker, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.count == 2 && Set(lines) == ["\(daemon.recordings)/term"], "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/late.mp4"))
        let journal = (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.recordings)/.recorderd/journal")) ?? []
        #expect(journal.isEmpty, "no journal entry is left: \(journal)")
    }
}
