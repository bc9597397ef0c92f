import Foundation
import Testing
import TestSupport

/// Token, listening address, file confinement, the stream allow-list and
/// request checking: each refusal names what is wrong, starts and writes nothing.
@Suite(.serialized, .tags(.bench)) struct RecorderdSecurityTests {
    @Test func listeningBeyondLoopbackNeedsAToken() throws {
        let bench = try TestBench.current()
        let directory = try bench.scratchDirectory("listen")
        let result = try Subprocess.run([Daemon.binary, "--listen", "0.0.0.0:8270", "--recordings-dir", directory])
        #expect(result.status == 2)
        #expect(result.standardError.hasPrefix("recorderd: --listen"), "\(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing written")
        // A host name that only looks like loopback is not.
        let named = try Subprocess.run([Daemon.binary, "--listen", "127.example.com:8270", "--recordings-dir", directory])
        #expect(named.status == 2, "\(named.standardError)")
    }

    @Test func tokenAndBadRequestsAreRefusedNamingTheField() throws {
        let bench = try TestBench.current()
        let secrets = try bench.scratchDirectory("token")
        let token = "s3cret-token-\(UUID().uuidString)"
        try token.write(toFile: "\(secrets)/token", atomically: true, encoding: .utf8)
        let outside = try bench.scratchDirectory("outside")
        let daemon = try Daemon(bench, arguments: ["--token-file", "\(secrets)/token", "--allow", #"rtmp://127\.0\.0\.1:1935/live/.*"#],
                                token: token)
        try FileManager.default.createSymbolicLink(atPath: "\(daemon.recordings)/escape", withDestinationPath: outside)

        #expect(try daemon.request("GET", "/v1/recordings", token: .some(nil)).status == 401)
        #expect(try daemon.request("GET", "/v1/recordings", token: "wrong-token-of-some-length").status == 401)
        #expect(try daemon.request("GET", "/v1/recordings", token: String(token.dropLast())).status == 401)
        #expect(try daemon.request("POST", "/v1/recordings", body: #"{"display": ":1"}"#, token: .some(nil)).status == 401)
        #expect(try daemon.request("GET", "/v1/recordings").status == 200)
        #expect(try daemon.request("GET", "/health", token: .some(nil)).status == 200, "health is open to probes")

        let display = bench.display
        let cases: [(body: String, status: Int, field: String)] = [
            (#"{"display": "\#(display)", "file": "../x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "/etc/x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "escape/x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "a/../../x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": ".recorderd/journal/x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "x.mp4", "streams": ["rtmp://evil.example.com/live/SECRETKEY"]}"#, 400, "streams[0]"),
            (#"{"display": "\#(display)", "file": "x.mp4", "streams": ["file:///etc/passwd"]}"#, 400, "streams[0]"),
            (#"{"display": "\#(display)", "fps": "30"}"#, 400, "fps"),
            (#"{"display": "\#(display)", "drawCursor": "yes"}"#, 400, "drawCursor"),
            (#"{"display": "\#(display)", "video": {"crf": 99}}"#, 400, "video.crf"),
            (#"{"display": "\#(display)", "video": {"crf": 0}}"#, 400, "video.crf"),
            (#"{"display": "\#(display)", "video": {"preset": "warp"}}"#, 400, "video.preset"),
            (#"{"display": "\#(display)", "audio": {"bitrate": true}}"#, 400, "audio.bitrate"),
            (#"{"display": "\#(display)", "noMedia": {"action": "explode"}}"#, 400, "noMedia.action"),
            (#"{"display": "\#(display)", "colour": "red"}"#, 400, "colour"),
            (#"{"display": "\#(display)", "video": {"crf": 20, "speed": 2}}"#, 400, "video.speed"),
            (#"{"display": 7}"#, 400, "display"),
            (#"["display"]"#, 400, "body"),
            ("{", 400, "body"),
            ("{\"display\": \"\(display)\", \"metadata\": {\"x\": \"" + String(repeating: "a", count: 70_000) + "\"}}", 413, "body"),
        ]
        for (body, status, field) in cases {
            let answer = try daemon.request("POST", "/v1/recordings", body: body)
            #expect(answer.status == status, "\(body.prefix(120)): \(answer.status) \(answer.body)")
            #expect(answer.json["field"] as? String == field, "\(body.prefix(120)): \(answer.body)")
            #expect(!answer.body.contains("SECRETKEY"), "a stream key in an answer: \(answer.body)")
            // A number out of range is named with its value.
            if body.contains(#""crf": 99"#) {
                #expect((answer.json["error"] as? String ?? "").contains("99 is not an integer from 1 to 51"), "\(answer.body)")
            }
        }
        let listed = try daemon.request("GET", "/v1/recordings").json["recordings"] as? [Any] ?? []
        #expect(listed.isEmpty, "nothing started")
        let written = try FileManager.default.contentsOfDirectory(atPath: daemon.recordings).sorted()
        #expect(written == [".recorderd", "escape"], "nothing written: \(written)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        #expect(!daemon.log.contains("SECRETKEY"), "a stream key in the log")
        #expect(!daemon.log.contains(token), "the token in the log")
        let metrics = try daemon.request("GET", "/metrics", token: .some(nil))
        #expect(metrics.status == 200 && !metrics.body.contains("SECRETKEY"))
        #expect(daemon.stop() == 0)
    }
}
