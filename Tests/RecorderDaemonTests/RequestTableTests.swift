import Foundation
import Hummingbird
import HummingbirdTesting
@testable import RecorderDaemon
import RecorderEngine
import Testing

/// Every refusal of the API in process, no bench: each names what is wrong
/// (the field, the reason), starts nothing and writes nothing.
@Suite struct RequestTableTests {
    /// Display names the refusals use; nothing ever opens them.
    static let display = ":97"

    @Test func badRecordingRequestsAreRefusedNamingTheField() async throws {
        let token = "s3cret-token-\(UUID().uuidString)"
        let daemon = try await InProcessDaemon { configuration, recordings in
            try token.write(toFile: recordings + "-token", atomically: true, encoding: .utf8)
            configuration.tokenFile = recordings + "-token"
            configuration.streamAllowList = [#"rtmp://127\.0\.0\.1:1935/live/.*"#]
        }
        defer { unlink(daemon.recordings + "-token") }
        let outside = try daemon.escapeLink()
        let display = Self.display
        let cases: [(body: String, status: Int, field: String)] = [
            (#"{"display": "\#(display)", "file": "../x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "/etc/x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "escape/x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "a/../../x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": ".recorderd/journal/x.mp4"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "x.mov"}"#, 400, "file"),
            (#"{"display": "\#(display)", "file": "x.mp4", "streams": ["rtmp://evil.example.com/live/SECRETKEY"]}"#, 400, "streams[0]"),
            (#"{"display": "\#(display)", "file": "x.mp4", "streams": ["file:///etc/passwd"]}"#, 400, "streams[0]"),
            (#"{"display": "\#(display)", "streams": ["rtmp://127.0.0.1:1935/live/a", 7]}"#, 400, "streams[1]"),
            (#"{"display": "\#(display)", "fps": "30"}"#, 400, "fps"),
            (#"{"display": "\#(display)", "fps": 30.5}"#, 400, "fps"),
            (#"{"display": "\#(display)", "fps": 0}"#, 400, "fps"),
            (#"{"display": "\#(display)", "drawCursor": "yes"}"#, 400, "drawCursor"),
            (#"{"display": "\#(display)", "region": "big"}"#, 400, "region"),
            (#"{"display": "\#(display)", "video": {"crf": 99}}"#, 400, "video.crf"),
            (#"{"display": "\#(display)", "video": {"crf": 0}}"#, 400, "video.crf"),
            (#"{"display": "\#(display)", "video": {"preset": "warp"}}"#, 400, "video.preset"),
            (#"{"display": "\#(display)", "video": {"bufsize": "2M"}}"#, 400, "video.bufsize"),
            (#"{"display": "\#(display)", "video": {"maxrate": "fast"}}"#, 400, "video.maxrate"),
            (#"{"display": "\#(display)", "video": 5}"#, 400, "video"),
            (#"{"display": "\#(display)", "audio": {"bitrate": true}}"#, 400, "audio.bitrate"),
            (#"{"display": "\#(display)", "audio": {"rate": 7}}"#, 400, "audio.rate"),
            (#"{"display": "\#(display)", "duration": 0}"#, 400, "duration"),
            (#"{"display": "\#(display)", "noMedia": {"action": "explode"}}"#, 400, "noMedia.action"),
            (#"{"display": "\#(display)", "noMedia": {"silenceSeconds": "long"}}"#, 400, "noMedia.silenceSeconds"),
            (#"{"display": "\#(display)", "metadata": {"a": 1}}"#, 400, "metadata.a"),
            (#"{"display": "\#(display)", "colour": "red"}"#, 400, "colour"),
            (#"{"display": "\#(display)", "video": {"crf": 20, "speed": 2}}"#, 400, "video.speed"),
            (#"{"display": "\#(display)", "workspace": "ws-1"}"#, 400, "workspace"),
            (#"{"workspace": "ws-none"}"#, 400, "workspace"),
            (#"{"display": 7}"#, 400, "display"),
            (#"{"display": null}"#, 400, "display"),
            (#"{"display": "\#(display)", "fps": null}"#, 400, "fps"),
            (#"{"display": "\#(display)", "video": null}"#, 400, "video"),
            (#"{"display": "\#(display)", "video": {"gop": null}}"#, 400, "video.gop"),
            (#"{"display": "\#(display)", "video": {"maxrate": null}}"#, 400, "video.maxrate"),
            (#"{"display": "\#(display)", "streams": null}"#, 400, "streams"),
            (#"{"display": "\#(display)", "metadata": {"a": null}}"#, 400, "metadata.a"),
            (#"{"display": ""}"#, 400, "display"),
            (#"{}"#, 400, "display"),
            (#"["display"]"#, 400, "body"),
            ("{", 400, "body"),
            ("", 400, "body"),
            ("{\"display\": \"\(display)\", \"metadata\": {\"x\": \"" + String(repeating: "a", count: 70_000) + "\"}}", 413, "body"),
        ]
        try await daemon.test { client in
            for (body, status, field) in cases {
                let answer = try await client.call(.post, "/v1/recordings", body: body, token: token)
                #expect(answer.status == status, "\(body.prefix(120)): \(answer.status) \(answer.body)")
                #expect(answer.field == field, "\(body.prefix(120)): \(answer.body)")
                #expect(answer.reason == "invalid", "\(body.prefix(120)): \(answer.body)")
                #expect(!answer.body.contains("SECRETKEY"), "a stream key in an answer: \(answer.body)")
            }
            // A number out of range is named with its value.
            let crf = try await client.call(.post, "/v1/recordings", body: #"{"display": ":1", "video": {"crf": 99}}"#, token: token)
            #expect((crf.json["error"] as? String ?? "").contains("99 is not an integer from 1 to 51"), "\(crf.body)")
            let listed = try await client.call(.get, "/v1/recordings", token: token).json["recordings"] as? [Any]
            #expect(listed?.isEmpty == true, "nothing started")
        }
        try daemon.expectNothingWritten(beyond: outside)
    }

    @Test func theTokenGuardsV1AndTheProbesAsConfigured() async throws {
        let token = "s3cret-token-\(UUID().uuidString)"
        for open in [true, false] {
            let daemon = try await InProcessDaemon { configuration, recordings in
                try token.write(toFile: recordings + "-token", atomically: true, encoding: .utf8)
                configuration.tokenFile = recordings + "-token"
                configuration.openHealthEndpoints = open
                configuration.jibriHealth = true
            }
            defer { unlink(daemon.recordings + "-token") }
            try await daemon.test { client in
                for (method, path) in [(HTTPRequest.Method.get, "/v1/recordings"), (.get, "/v1/recordings/rec-x"),
                                       (.post, "/v1/recordings"), (.post, "/v1/recordings/rec-x/stop"),
                                       (.get, "/v1/recordings/rec-x/events"), (.get, "/v1/workspaces"),
                                       (.post, "/v1/workspaces"), (.delete, "/v1/workspaces/ws-x")] {
                    for wrong in [nil, "wrong-token-of-some-length", String(token.dropLast()), token + "x", " " + token] {
                        let answer = try await client.call(method, path, body: method == .post ? "{}" : nil, token: wrong)
                        #expect(answer.status == 401, "\(method) \(path) with \(wrong ?? "no token"): \(answer.status)")
                        #expect(answer.field == "Authorization" && answer.reason == "unauthorized", "\(answer.body)")
                        #expect(answer.headers[.wwwAuthenticate] == "Bearer realm=\"recorderd\"")
                    }
                }
                #expect(try await client.call(.get, "/v1/recordings", token: token).status == 200)
                for path in ["/health", "/metrics", "/jibri/api/v1.0/health"] {
                    let status = try await client.call(.get, path).status
                    #expect(status == (open ? 200 : 401), "\(path) without the token, open \(open): \(status)")
                    #expect(try await client.call(.get, path, token: token).status == 200)
                }
            }
        }
    }

    @Test func unknownRecordingsAndWorkspacesAre404() async throws {
        let daemon = try await InProcessDaemon()
        try await daemon.test { client in
            for (method, path, what) in [(HTTPRequest.Method.get, "/v1/recordings/rec-none", "recording rec-none"),
                                         (.post, "/v1/recordings/rec-none/stop", "recording rec-none"),
                                         (.get, "/v1/recordings/rec-none/events", "recording rec-none"),
                                         (.delete, "/v1/workspaces/ws-none", "workspace ws-none")] {
                let answer = try await client.call(method, path)
                #expect(answer.status == 404, "\(method) \(path): \(answer.status)")
                #expect(answer.json["error"] as? String == "no such \(what)", "\(answer.body)")
            }
        }
        let disabled = try await InProcessDaemon { configuration, _ in configuration.workspacesEnabled = false }
        try await disabled.test { client in
            let answer = try await client.call(.post, "/v1/workspaces", body: "{}")
            #expect(answer.status == 404, "\(answer.body)")
        }
    }

    @Test func badWorkspaceAndHealthRequestsNameTheField() async throws {
        let daemon = try await InProcessDaemon()
        try await daemon.test { client in
            for (body, field) in [(#"{"width": 8}"#, "width"), (#"{"height": "tall"}"#, "height"), (#"{"depth": 24}"#, "depth"),
                                  (#"{"height": null}"#, "height"),
                                  ("[]", "body"), ("{", "body")] {
                let answer = try await client.call(.post, "/v1/workspaces", body: body)
                #expect(answer.status == 400 && answer.field == field, "\(body): \(answer.body)")
            }
            for (query, field) in [("width=8", "width"), ("height=x", "height"), ("fps=121", "fps"), ("preset=warp", "preset")] {
                let answer = try await client.call(.get, "/health?\(query)")
                #expect(answer.status == 400 && answer.field == field, "\(query): \(answer.body)")
            }
        }
    }

    /// 409: an existing file, a display or device in use (by any of the
    /// names X gives one display); 503: no room, or draining; each with its
    /// reason, Retry-After for want of room, and counted once by reason.
    @Test func conflictsAndRefusalsForWantOfRoom() async throws {
        let daemon = try await InProcessDaemon()
        _ = FileManager.default.createFile(atPath: "\(daemon.recordings)/exists.mp4", contents: Data("x".utf8))
        // A recording that holds :97 and a device, never run.
        let holding = try Self.idleRecording(display: Self.display, audioDevice: "hw:Busy", in: daemon)
        try daemon.recorder.admit(holding)
        try await daemon.test { client in
            let exists = try await client.call(.post, "/v1/recordings", body: #"{"display": ":96", "file": "exists.mp4"}"#)
            #expect(exists.status == 409 && exists.reason == "exists" && exists.field == "file", "\(exists.body)")
            for name in [":97", ":97.0", "unix:97", "localhost:97.1"] {
                let busy = try await client.call(.post, "/v1/recordings", body: #"{"display": "\#(name)", "file": "b.mp4"}"#)
                #expect(busy.status == 409 && busy.reason == "busy", "\(name): \(busy.body)")
            }
            let device = try await client.call(.post, "/v1/recordings", body: #"{"display": ":95", "audioDevice": "hw:Busy"}"#)
            #expect(device.status == 409 && device.reason == "busy", "\(device.body)")
            daemon.recorder.withdraw(holding)

            daemon.recorder.beginDrain()
            let draining = try await client.call(.post, "/v1/recordings", body: #"{"display": ":96"}"#)
            #expect(draining.status == 503 && draining.reason == "draining", "\(draining.body)")
            #expect(draining.headers[.retryAfter] == "30")
            let workspace = try await client.call(.post, "/v1/workspaces", body: "{}")
            #expect(workspace.status == 503 && workspace.reason == "draining", "\(workspace.body)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(daemon.recordings)/b.mp4"))

        let cpu = try await InProcessDaemon { configuration, _ in
            configuration.cores = 1
            configuration.cpuShare = 0.01
            configuration.retryAfterSeconds = 7
        }
        try await cpu.test { client in
            let answer = try await client.call(.post, "/v1/recordings", body: #"{"display": ":96", "file": "c/c.mp4"}"#)
            #expect(answer.status == 503 && answer.reason == "cpu", "\(answer.body)")
            #expect(answer.headers[.retryAfter] == "7")
            #expect((answer.json["error"] as? String ?? "").contains("CPU"), "\(answer.body)")
            let health = try await client.call(.get, "/health").json
            #expect((health["oneMore"] as? [String: Any])?["fits"] as? Bool == false)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(cpu.recordings)/c"), "no directory made for a refusal")

        let disk = try await InProcessDaemon { configuration, _ in configuration.minFreeMinutes = 100_000_000 }
        try await disk.test { client in
            let answer = try await client.call(.post, "/v1/recordings", body: #"{"display": ":96", "file": "d.mp4"}"#)
            #expect(answer.status == 503 && answer.reason == "disk", "\(answer.body)")
            #expect(answer.headers[.retryAfter] == "30")
            let health = try await client.call(.get, "/health")
            #expect(health.status == 503, "the disk is below minFreeMinutes: \(health.body)")
        }
    }

    @Test func aWorkspaceBeingRecordedIsNotDeleted() async throws {
        let daemon = try await InProcessDaemon()
        let holding = try Self.idleRecording(display: ":94", audioDevice: nil, workspace: "ws-held", in: daemon)
        try daemon.recorder.admit(holding)
        try await daemon.test { client in
            let answer = try await client.call(.delete, "/v1/workspaces/ws-held")
            #expect(answer.status == 409 && answer.reason == "busy", "\(answer.body)")
            daemon.recorder.withdraw(holding)
        }
    }

    /// What the fuzzing found against docs/openapi.yaml: each answer as
    /// the contract says.
    @Test func answersTheContractPromises() async throws {
        let daemon = try await InProcessDaemon { configuration, _ in
            configuration.maxWorkspaces = 0
            configuration.retryAfterSeconds = 9
        }
        try await daemon.test { client in
            // The bounds of /health's query are documented 400s naming the parameter.
            for query in ["width=16385", "width=15", "height=16385", "fps=0"] {
                let answer = try await client.call(.get, "/health?\(query)")
                #expect(answer.status == 400 && answer.field == String(query.prefix { $0 != "=" }), "\(query): \(answer.body)")
            }
            // The workspace body is optional: none is the defaults (here
            // refused for want of room, with its reason and Retry-After).
            for body in [nil, "{}"] as [String?] {
                let answer = try await client.call(.post, "/v1/workspaces", body: body)
                #expect(answer.status == 503 && answer.reason == "workspaces", "\(body ?? "no body"): \(answer.body)")
                #expect(answer.headers[.retryAfter] == "9", "\(answer.headers)")
            }
            // ?wait= is a boolean.
            for wait in ["168063", "yes", ""] {
                let answer = try await client.call(.post, "/v1/recordings/rec-none/stop?wait=\(wait)")
                #expect(answer.status == 400 && answer.field == "wait", "wait=\(wait): \(answer.body)")
            }
            #expect(try await client.call(.post, "/v1/recordings/rec-none/stop?wait=false").status == 404)
            // A method a path does not serve: 405 with Allow; a path nothing serves: 404.
            for (method, path, allow) in [(HTTPRequest.Method.delete, "/v1/recordings", "GET, POST"),
                                          (.put, "/v1/recordings/rec-x", "GET"), (.get, "/v1/recordings/rec-x/stop", "POST"),
                                          (.post, "/health", "GET"), (.patch, "/v1/workspaces/ws-x", "DELETE"),
                                          (.delete, "/metrics", "GET")] {
                let answer = try await client.call(method, path)
                #expect(answer.status == 405, "\(method) \(path): \(answer.status) \(answer.body)")
                #expect(answer.headers[.allow] == allow, "\(method) \(path): \(answer.headers)")
            }
            for path in ["/v2/recordings", "/v1/recordings/a/b/c", "/nothing"] {
                let answer = try await client.call(.get, path)
                #expect(answer.status == 404, "\(path): \(answer.status) \(answer.body)")
            }
            // The list's parameters.
            for (query, field) in [("limit=0", "limit"), ("limit=1001", "limit"), ("limit=x", "limit"),
                                   ("cursor=abc", "cursor"), ("cursor=-1", "cursor"), ("state=sleeping", "state")] {
                let answer = try await client.call(.get, "/v1/recordings?\(query)")
                #expect(answer.status == 400 && answer.field == field, "\(query): \(answer.body)")
            }
        }
    }

    /// The list pages by `limit` and `cursor`, filters by `state`, and
    /// answers from the snapshot: asking again reads no recording's
    /// statistics until one's state moves.
    @Test func theListPagesFiltersAndAnswersFromTheSnapshot() async throws {
        // One tick at the start, the next an hour later.
        let daemon = try await InProcessDaemon { configuration, _ in
            configuration.cores = 1024
            configuration.statisticsIntervalSeconds = 3600
        }
        var made: [Recording] = []
        for index in 0..<25 {
            let recording = try Self.idleRecording(display: ":\(200 + index)", audioDevice: nil, in: daemon,
                                                   id: "rec-list\(index)")
            try daemon.recorder.admit(recording)
            // Ten ended, fifteen still starting.
            if index % 5 < 2 { recording.finish(result: nil, startError: nil, script: false) }
            made.append(recording)
        }
        let recordings = made
        try await daemon.test { client in
            func page(_ query: String) async throws -> (ids: [String], next: String?) {
                let answer = try await client.call(.get, "/v1/recordings?\(query)")
                #expect(answer.status == 200, "\(query): \(answer.body)")
                let listed = answer.json["recordings"] as? [[String: Any]] ?? []
                return (listed.compactMap { $0["id"] as? String }, answer.json["nextCursor"] as? String)
            }
            let all = try await page("")
            #expect(all.ids == recordings.map(\.id) && all.next == nil, "\(all)")
            var paged: [String] = []
            var cursor: String?
            repeat {
                let next = try await page("limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(next.ids.count <= 7)
                paged += next.ids
                cursor = next.next
            } while cursor != nil
            #expect(paged == recordings.map(\.id), "\(paged)")
            let finished = try await page("state=finished&limit=1000")
            #expect(finished.ids == recordings.filter { $0.state == .finished }.map(\.id) && finished.ids.count == 10,
                    "\(finished)")
            let starting = try await page("state=starting&limit=4")
            #expect(starting.ids == Array(recordings.filter(\.isActive).map(\.id).prefix(4)) && starting.next != nil)

            // From the snapshot: more lists build no view until a state moves.
            let snapshots = daemon.application.snapshots
            let deadline = ContinuousClock.now + .seconds(10)
            while snapshots.ticks == 0, .now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(snapshots.ticks == 1)
            snapshots.refresh()
            let built = daemon.application.snapshots.viewsBuilt
            for _ in 0..<20 {
                _ = try await page("")
                _ = try await client.call(.get, "/health")
            }
            #expect(daemon.application.snapshots.viewsBuilt == built, "lists read statistics again")
            recordings[2].finish(result: nil, startError: nil, script: false)
            let moved = try await client.call(.get, "/v1/recordings/\(recordings[2].id)")
            #expect(moved.json["state"] as? String == "finished")
            _ = try await page("")
            #expect(daemon.application.snapshots.viewsBuilt == built + 1, "the moved one read once")
            // Ended, so that the daemon's shutdown does not wait for them.
            for recording in recordings where recording.isActive { recording.finish(result: nil, startError: nil, script: false) }
        }
    }

    /// Only the exact token passes: every extension of 1 to 1024 bytes and
    /// every prefix is refused (the comparison once took lengths modulo 256).
    @Test func onlyTheExactTokenPasses() {
        let token = Array("s3cret-token-0123456789abcdef".utf8)
        func passes(_ given: [UInt8]) -> Bool { TokenMiddleware<RecorderdRequestContext>.equal(given, token) }
        #expect(passes(token))
        let extensions = (1...1024).filter { passes(token + [UInt8](repeating: UInt8(ascii: "a"), count: $0)) }
        #expect(extensions.isEmpty, "the token followed by these many bytes passes: \(extensions)")
        let prefixes = (0..<token.count).filter { passes(Array(token.prefix($0))) }
        #expect(prefixes.isEmpty, "prefixes of these lengths pass: \(prefixes)")
        var changed = token
        changed[changed.count - 1] ^= 1
        #expect(!passes(changed))
    }

    /// A registered recording whose session never runs: it holds its
    /// display (and device, workspace) for the busy checks.
    static func idleRecording(display: String, audioDevice: String?, workspace: String? = nil,
                              in daemon: InProcessDaemon, id: String = "rec-idle") throws -> Recording {
        var engine = RecordingConfiguration(
            capture: DisplayCaptureConfiguration(display: display, framesPerSecond: 30),
            audio: audioDevice.map { PCMCaptureConfiguration(device: $0) }, audioEncoding: try AudioEncoderSettings(),
            video: VideoEncodingOptions(), output: FileOutput(path: "\(daemon.recordings)/idle.mp4"))
        engine.id = id
        let session = try RecordingSession(configuration: engine)
        return Recording(id: id, session: session, file: nil, display: display, audioDevice: audioDevice,
                         workspace: workspace, streams: [], metadata: [:], width: nil, height: nil, fps: 30,
                         preset: "ultrafast", noMediaAction: .report, estimatedCores: 0.1, expectedBitrate: 1e6)
    }
}
