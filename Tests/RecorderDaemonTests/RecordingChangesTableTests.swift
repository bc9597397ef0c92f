import Foundation
import Hummingbird
import HummingbirdTesting
@testable import RecorderDaemon
import RecorderEngine
import Testing

/// The refusals of the routes that change a running recording (pause,
/// resume, streams), in process, no bench: 404 for what does not exist,
/// 400 naming the field, 409 naming why for a recording that is not
/// running; nothing starts.
@Suite struct RecordingChangesTableTests {
    @Test func unknownRecordingsAre404() async throws {
        let daemon = try await InProcessDaemon()
        try await daemon.test { client in
            for (method, path, body) in [(HTTPRequest.Method.post, "/v1/recordings/rec-none/pause", nil as String?),
                                         (.post, "/v1/recordings/rec-none/resume", nil),
                                         (.post, "/v1/recordings/rec-none/streams", #"{"url": "rtmp://h/live/k"}"#),
                                         (.delete, "/v1/recordings/rec-none/streams/0", nil)] {
                let answer = try await client.call(method, path, body: body)
                #expect(answer.status == 404, "\(method) \(path): \(answer.status) \(answer.body)")
                #expect(answer.json["error"] as? String == "no such recording rec-none", "\(answer.body)")
            }
        }
    }

    @Test func badChangesNameTheFieldAndARecordingNotRunningIs409() async throws {
        let daemon = try await InProcessDaemon { configuration, _ in
            configuration.streamAllowList = [#"rtmp://127\.0\.0\.1:1935/live/.*"#]
        }
        let idle = try RequestTableTests.idleRecording(display: ":97", audioDevice: nil, in: daemon, id: "rec-idle")
        try daemon.recorder.admit(idle)
        defer { daemon.recorder.withdraw(idle) }
        try await daemon.test { client in
            let path = "/v1/recordings/rec-idle"
            for (body, field) in [(#"{}"#, "url"), (#"{"url": 5}"#, "url"), (#"{"url": null}"#, "url"),
                                  (#"{"url": "rtmp://127.0.0.1:1935/live/a", "rendition": "x"}"#, "rendition"),
                                  ("[]", "body"), ("{", "body"), ("", "body")] {
                let answer = try await client.call(.post, "\(path)/streams", body: body)
                #expect(answer.status == 400 && answer.field == field, "\(body): \(answer.status) \(answer.body)")
            }
            for index in ["x", "-1", "1.5"] {
                let answer = try await client.call(.delete, "\(path)/streams/\(index)")
                #expect(answer.status == 400 && answer.field == "stream", "\(index): \(answer.body)")
            }
            for (method, route, body) in [(HTTPRequest.Method.post, "pause", nil as String?), (.post, "resume", nil),
                                          (.post, "streams", #"{"url": "rtmp://127.0.0.1:1935/live/SECRETKEY"}"#),
                                          (.delete, "streams/0", nil)] {
                let answer = try await client.call(method, "\(path)/\(route)", body: body)
                #expect(answer.status == 409 && answer.reason == "notRecording", "\(route): \(answer.status) \(answer.body)")
                #expect(!answer.body.contains("SECRETKEY"), "a stream key in an answer: \(answer.body)")
            }
        }
        let closed = try await InProcessDaemon()
        let held = try RequestTableTests.idleRecording(display: ":96", audioDevice: nil, in: closed, id: "rec-idle2")
        try closed.recorder.admit(held)
        defer { closed.recorder.withdraw(held) }
        try await closed.test { client in
            // No allow-list: streaming is not enabled, whatever the URL.
            let answer = try await client.call(.post, "/v1/recordings/rec-idle2/streams", body: #"{"url": "rtmp://h/live/k"}"#)
            #expect(answer.status == 400 && answer.field == "url", "\(answer.body)")
        }
    }
}
