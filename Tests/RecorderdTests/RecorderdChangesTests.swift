import Foundation
import Testing
import TestSupport

/// A running recording changed over the API (issue 24, items 2 and 3): a
/// live stream added and removed, pause and resume refused where they do
/// not apply, on a spawned daemon and the bench's RTMP server.
@Suite(.serialized, .tags(.bench)) struct RecorderdChangesTests {
    private func sleep(until instant: Date) {
        let left = instant.timeIntervalSinceNow
        if left > 0 { usleep(useconds_t(left * 1e6)) }
    }

    /// A stream added at 3 s and removed at 8 s of a 12 s recording: the
    /// server received about 5 s (less what came before the next keyframe:
    /// the GOP is half a second here) starting at a keyframe; the file has
    /// all 12 s; a URL outside the allow-list is refused (400) and the
    /// recording goes on.
    @Test func aStreamAddedAt3sAndRemovedAt8s() throws {
        let bench = try TestBench.current()
        let daemon = try Daemon(bench, arguments: ["--allow", #"rtmp://127\.0\.0\.1:[0-9]+/live/added-.*"#])
        let started = Date()
        let created = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(bench.display)", "region": "320x240+0+0", "audioDevice": "\(bench.capturePCM)",
             "file": "added/a.mp4", "duration": 12, "video": {"gop": 15}}
            """)
        try #require(created.status == 201, "\(created.body)\n\(daemon.log.suffix(3000))")
        let id = try #require(created.json["id"] as? String)

        // Before a recording's first frame, or of one that does not exist.
        let unknown = try daemon.request("POST", "/v1/recordings/rec-none/streams", body: #"{"url": "x"}"#)
        #expect(unknown.status == 404, "\(unknown.body)")

        sleep(until: started.addingTimeInterval(3))
        let name = "added-\(UInt32.random(in: 0...UInt32.max))"
        let added = try daemon.request("POST", "/v1/recordings/\(id)/streams", body: #"{"url": "\#(bench.rtmpURL)/\#(name)"}"#)
        #expect(added.status == 201, "\(added.body)")
        #expect(added.json["index"] as? Int == 0, "\(added.body)")
        #expect(added.headers["location"] == "/v1/recordings/\(id)/streams/0", "\(added.headers)")
        #expect(!added.body.contains(name), "the stream key in an answer: \(added.body)")

        // Refused, naming the field; the recording goes on.
        for (body, field) in [(#"{"url": "rtmp://evil.example.com/live/SECRETKEY"}"#, "url"), (#"{}"#, "url"),
                              (#"{"url": 5}"#, "url"), (#"{"url": "rtmp://127.0.0.1:1/live/added-x", "key": 1}"#, "key"),
                              ("[]", "body")] {
            let refused = try daemon.request("POST", "/v1/recordings/\(id)/streams", body: body)
            #expect(refused.status == 400 && refused.json["field"] as? String == field, "\(body): \(refused.body)")
            #expect(!refused.body.contains("SECRETKEY"), "a stream key in an answer: \(refused.body)")
        }
        // Pause and resume where they do not apply: 409 naming why.
        let resumeRecording = try daemon.request("POST", "/v1/recordings/\(id)/resume")
        #expect(resumeRecording.status == 409 && resumeRecording.json["reason"] as? String == "notPaused", "\(resumeRecording.body)")
        let view = try daemon.request("GET", "/v1/recordings/\(id)")
        #expect(view.json["state"] as? String == "recording", "\(view.body)")
        let streams = view.json["streams"] as? [[String: Any]] ?? []
        #expect(streams.count == 1 && (streams.first?["url"] as? String ?? "").hasSuffix("/***"), "\(view.body)")

        sleep(until: started.addingTimeInterval(8))
        let removed = try daemon.request("DELETE", "/v1/recordings/\(id)/streams/0")
        #expect(removed.status == 200, "\(removed.body)")
        #expect((removed.json["streams"] as? [[String: Any]])?.first?["removed"] as? Bool == true, "\(removed.body)")
        let again = try daemon.request("DELETE", "/v1/recordings/\(id)/streams/0")
        #expect(again.status == 409 && again.json["reason"] as? String == "removed", "\(again.body)")
        let missing = try daemon.request("DELETE", "/v1/recordings/\(id)/streams/7")
        #expect(missing.status == 404, "\(missing.body)")
        let notIndex = try daemon.request("DELETE", "/v1/recordings/\(id)/streams/first")
        #expect(notIndex.status == 400 && notIndex.json["field"] as? String == "stream", "\(notIndex.body)")

        let done = try daemon.waitFor(id, seconds: 40) { ($0["state"] as? String) == "finished" }
        #expect(abs(Daemon.mediaSeconds(done) - 12) < 0.05, "\(done)")
        let file = try MediaProbe(path: "\(daemon.recordings)/added/a.mp4", countFrames: false)
        #expect(abs((file.video?.duration ?? 0) - 12) <= 1.0 / 30 + 1e-6, "the file lasts \(file.video?.duration ?? 0) s")

        // What the server received: from a keyframe, about 5 s.
        let received = try #require(FileManager.default.contentsOfDirectory(atPath: bench.rtmpRecordDirectory)
            .first { $0.hasPrefix(name) && $0.hasSuffix(".flv") })
        let path = "\(bench.rtmpRecordDirectory)/\(received)"
        // The FLV keeps the recording's timestamps: the span is what was sent.
        let packets = try Subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                                          "packet=pts_time,flags", "-of", "csv=p=0", path])
        let rows = packets.standardOutput.split(separator: "\n").map { $0.split(separator: ",") }
        let times = rows.compactMap { $0.first.flatMap { Double($0) } }
        let seconds = (times.max() ?? 0) - (times.min() ?? 0)
        #expect(seconds > 4.2 && seconds < 5.4, "the server received \(seconds) s")
        #expect(rows.first?.dropFirst().first?.hasPrefix("K") == true, "the first picture sent: \(rows.first ?? [])")
    }

    /// Pause and resume over the API on a running recording: 200s with
    /// `statistics.paused`, 409 for a pause while paused, and the paused
    /// time left out of the file (`duration` counts recorded time). The
    /// no-media checks (4.5 s, on a still and silent bench) do not count the
    /// pause: 4 s recorded in more than 5.5 s never reach them.
    @Test func pauseAndResumeOverTheAPI() throws {
        let bench = try TestBench.current()
        let daemon = try Daemon(bench)
        let started = Date()
        let created = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(bench.display)", "region": "320x240+0+0", "audioDevice": "\(bench.capturePCM)",
             "file": "paused/p.mp4", "duration": 4,
             "noMedia": {"silenceSeconds": 4.5, "frozenSeconds": 4.5, "action": "stop"}}
            """)
        try #require(created.status == 201, "\(created.body)\n\(daemon.log.suffix(3000))")
        let id = try #require(created.json["id"] as? String)
        sleep(until: started.addingTimeInterval(1.5))
        let paused = try daemon.request("POST", "/v1/recordings/\(id)/pause")
        #expect(paused.status == 200, "\(paused.body)")
        #expect((paused.json["statistics"] as? [String: Any])?["paused"] as? Bool == true, "\(paused.body)")
        let twice = try daemon.request("POST", "/v1/recordings/\(id)/pause")
        #expect(twice.status == 409 && twice.json["reason"] as? String == "paused", "\(twice.body)")
        sleep(until: started.addingTimeInterval(3.5))
        let resumed = try daemon.request("POST", "/v1/recordings/\(id)/resume")
        #expect(resumed.status == 200, "\(resumed.body)")
        let statistics = resumed.json["statistics"] as? [String: Any] ?? [:]
        #expect(statistics["paused"] as? Bool == false && statistics["pauses"] as? Int == 1, "\(resumed.body)")
        let done = try daemon.waitFor(id, seconds: 30) { ($0["state"] as? String) == "finished" }
        let ended = Date().timeIntervalSince(started)
        #expect(ended > 5.5, "a 4 s recording paused 2 s ended after \(ended) s")
        #expect(done["stopReason"] as? String == "durationReached", "\(done)")
        #expect((done["noMedia"] as? [String: Bool] ?? [:]).values.allSatisfy { !$0 }, "\(done)")
        let pausedSeconds = (done["statistics"] as? [String: Any])?["pausedSeconds"] as? Double ?? 0
        #expect(abs(pausedSeconds - 2) < 0.1, "\(done)")
        let file = try MediaProbe(path: "\(daemon.recordings)/paused/p.mp4", countFrames: false)
        #expect(abs((file.video?.duration ?? 0) - 4) <= 1.0 / 30 + 1e-6, "the file lasts \(file.video?.duration ?? 0) s")
        let after = try daemon.request("POST", "/v1/recordings/\(id)/pause")
        #expect(after.status == 409 && after.json["reason"] as? String == "notRecording", "\(after.body)")
    }
}
