import Foundation
import Testing
import TestSupport

/// `/metrics` over a spawned recorderd: a finished recording's series leave
/// it after `finishedMetricsSeconds`, the recording stays in the list.
@Suite(.serialized, .tags(.bench)) struct RecorderdMetricsTests {
    @Test func aFinishedRecordingsSeriesLeaveAfterTheBound() throws {
        let bench = try TestBench.current()
        let config = "\(try bench.scratchDirectory("config"))/recorderd.yaml"
        try "finishedMetricsSeconds: 3\nstatisticsIntervalSeconds: 0.5\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(bench, arguments: ["--config", config])
        let started = try daemon.request("POST", "/v1/recordings", body: """
            {"display": "\(bench.display)", "region": "64x64+0+0", "fps": 10, "file": "bound.mp4"}
            """)
        try #require(started.status == 201, "\(started.body)\n\(daemon.log.suffix(2000))")
        let id = try #require(started.json["id"] as? String)
        let series = "recorder_video_frames_encoded_total{session=\"\(id)\"}"
        _ = try daemon.waitFor(id) { Daemon.mediaSeconds($0) >= 1 }
        let stopped = try daemon.request("POST", "/v1/recordings/\(id)/stop")
        #expect(stopped.json["state"] as? String == "finished", "\(stopped.body)")
        let stoppedAt = Date()
        let encoded = try #require(try daemon.metrics()[series], "the series while recently finished")
        #expect(encoded >= 5)

        let deadline = stoppedAt.addingTimeInterval(30)
        var left: Date?
        while Date() < deadline {
            if try daemon.metrics()[series] == nil { left = Date(); break }
            usleep(200_000)
        }
        let gone = try #require(left, "\(series) still in /metrics 30 s after the stop")
        // finishedAt is set before the stop answers: at least the bound less
        // one tick of the cached text.
        #expect(gone.timeIntervalSince(stoppedAt) >= 2.4, "left \(gone.timeIntervalSince(stoppedAt)) s after the stop")
        let text = try daemon.request("GET", "/metrics").body
        #expect(!text.contains("session=\"\(id)\""), "every series of the session leaves")
        #expect(try daemon.metrics()["recorderd_recordings_finished_total{outcome=\"finished\"}"] == 1, "the daemon's own stay")
        let kept = try daemon.request("GET", "/v1/recordings/\(id)")
        #expect(kept.status == 200 && kept.json["state"] as? String == "finished", "the recording stays listed")
    }
}
