import Foundation
import Hummingbird
import HummingbirdTesting
@testable import RecorderDaemon
import Testing

/// Every refusal of a page recording in process, no bench: each names the
/// field, starts nothing (no workspace, no browser) and writes nothing, and
/// no secret value of the request is in an answer.
@Suite struct PageRequestTableTests {
    @Test func badPageRequestsAreRefusedNamingTheField() async throws {
        let daemon = try await InProcessDaemon { configuration, _ in
            configuration.pageAllowList = [#"http://127\.0\.0\.1:[0-9]+/.*"#]
            configuration.browserNoSandbox = true
        }
        let page = #""url": "http://127.0.0.1:8080/room""#
        let cases: [(body: String, field: String)] = [
            (#"{"page": {\#(page)}, "display": ":97"}"#, "display"),
            (#"{"page": {\#(page)}, "workspace": "ws-1"}"#, "workspace"),
            (#"{"page": {\#(page)}, "region": "640x360+0+0"}"#, "region"),
            (#"{"page": {\#(page)}, "audioDevice": "default"}"#, "audioDevice"),
            (#"{"page": {}}"#, "page.url"),
            (#"{"page": 5}"#, "page"),
            (#"{"page": {"url": 5}}"#, "page.url"),
            (#"{"page": {\#(page), "width": 641}}"#, "page.width"),
            (#"{"page": {\#(page), "height": 0}}"#, "page.height"),
            (#"{"page": {\#(page), "width": 8194}}"#, "page.width"),
            (#"{"page": {\#(page), "width": "1920"}}"#, "page.width"),
            (#"{"page": {\#(page), "start": {"on": "click"}}}"#, "page.start.on"),
            (#"{"page": {\#(page), "start": {"on": "predicate"}}}"#, "page.start.expression"),
            (#"{"page": {\#(page), "start": {"on": "predicate", "expression": "x", "timeoutSeconds": 0}}}"#, "page.start.timeoutSeconds"),
            (#"{"page": {\#(page), "start": {"on": "console", "text": ""}}}"#, "page.start.text"),
            (#"{"page": {\#(page), "start": {"on": "load", "when": 1}}}"#, "page.start.when"),
            (#"{"page": {\#(page), "end": {"on": "load"}}}"#, "page.end.on"),
            (#"{"page": {\#(page), "end": {}}}"#, "page.end.on"),
            (#"{"page": {\#(page), "end": {"on": "predicate", "expression": "x", "intervalSeconds": 0}}}"#, "page.end.intervalSeconds"),
            (#"{"page": {\#(page), "query": {"token": 7}}}"#, "page.query.token"),
            (#"{"page": {\#(page), "hash": ["a"]}}"#, "page.hash"),
            (#"{"page": {\#(page), "cookies": [{"value": "SECRETCOOKIE"}]}}"#, "page.cookies[0].name"),
            (#"{"page": {\#(page), "cookies": [{"name": "a"}]}}"#, "page.cookies[0].value"),
            (#"{"page": {\#(page), "cookies": [{"name": "a", "value": "SECRETCOOKIE", "secure": true}]}}"#, "page.cookies[0].secure"),
            (#"{"page": {\#(page), "cookies": {"a": "b"}}}"#, "page.cookies"),
            (#"{"page": {\#(page), "localStorage": {"k": null}}}"#, "page.localStorage.k"),
            (#"{"page": {\#(page), "colour": "red"}}"#, "page.colour"),
            (#"{"page": {"url": "file:///etc/passwd"}}"#, "page.url"),
            (#"{"page": {"url": "data:text/html,<p>hi</p>"}}"#, "page.url"),
            (#"{"page": {"url": "javascript:alert(1)"}}"#, "page.url"),
            (#"{"page": {"url": "chrome://crash"}}"#, "page.url"),
            (#"{"page": {"url": "http://evil.example.com/room?token=SECRETTOKEN"}}"#, "page.url"),
            (#"{"page": {"url": "http://127.0.0.1.evil.example.com/x"}}"#, "page.url"),
            (#"{"page": {"url": "http://user:SECRETPASS@127.0.0.1:8080/x"}}"#, "page.url"),
            (#"{"page": {"url": "not a url"}}"#, "page.url"),
            // A Jitsi room: no recorder login configured here, and refusals beside it.
            (#"{"page": {"jitsi": {"room": "room42"}}}"#, "page.jitsi"),
            (#"{"page": {"jitsi": {"room": "room42"}, \#(page)}}"#, "page.url"),
            (#"{"page": {"jitsi": {"room": "room42"}, "start": {"on": "load"}}}"#, "page.start"),
            (#"{"page": {"jitsi": {"room": "room42"}, "query": {"jwt": "SECRETTOKEN"}}}"#, "page.query"),
            (#"{"page": {"jitsi": {"room": "a/b"}}}"#, "page.jitsi.room"),
            (#"{"page": {"jitsi": {"room": ".hidden"}}}"#, "page.jitsi.room"),
            (#"{"page": {"jitsi": {"room": "room42", "tenant": "x y"}}}"#, "page.jitsi.tenant"),
            (#"{"page": {"jitsi": {}}}"#, "page.jitsi.room"),
            (#"{"page": {"jitsi": {"room": "room42", "colour": "red"}}}"#, "page.jitsi.colour"),
            (#"{"page": {"jitsi": "room42"}}"#, "page.jitsi"),
        ]
        try await daemon.test { client in
            for (body, field) in cases {
                let answer = try await client.call(.post, "/v1/recordings", body: body)
                #expect(answer.status == 400, "\(body): \(answer.status) \(answer.body)")
                #expect(answer.field == field, "\(body): \(answer.body)")
                for secret in ["SECRETCOOKIE", "SECRETTOKEN", "SECRETPASS"] {
                    #expect(!answer.body.contains(secret), "a secret in an answer: \(answer.body)")
                }
            }
            let listed = try await client.call(.get, "/v1/recordings").json["recordings"] as? [Any]
            #expect(listed?.isEmpty == true, "nothing started")
            let workspaces = try await client.call(.get, "/v1/workspaces").json["workspaces"] as? [Any]
            #expect(workspaces?.isEmpty == true, "no workspace started")
        }
        let written = try FileManager.default.contentsOfDirectory(atPath: daemon.recordings).sorted()
        #expect(written == [".recorderd"], "nothing written: \(written)")
    }

    /// Without `pageAllowList` no page may be opened, whatever the request.
    @Test func anEmptyAllowListRefusesEveryPage() async throws {
        let daemon = try await InProcessDaemon { configuration, _ in configuration.browserNoSandbox = true }
        try await daemon.test { client in
            let answer = try await client.call(.post, "/v1/recordings", body: #"{"page": {"url": "https://meet.example.org/a"}}"#)
            #expect(answer.status == 400 && answer.field == "page.url", "\(answer.body)")
            #expect((answer.json["error"] as? String ?? "").contains("no page allow-list"), "\(answer.body)")
            let health = try await client.call(.get, "/health").json["onePage"] as? [String: Any]
            #expect(health?["fits"] as? Bool == false, "\(String(describing: health))")
        }
    }

    /// The URL the browser opens, and the one answers show.
    @Test func theURLCarriesItsExtraParametersAndAnswersRedactThem() throws {
        var page = PageRequest(kind: .url("https://meet.example.org/room42?lang=en#config.a=1"))
        page.query = [("jwt", "SECRET JWT")]
        page.hash = [("config.iAmRecorder", "true")]
        #expect(page.navigationURL == "https://meet.example.org/room42?lang=en&jwt=SECRET%20JWT#config.a=1&config.iAmRecorder=true")
        #expect(page.redactedURL == "https://meet.example.org/room42?lang=***#***")
        #expect(page.origin == "https://meet.example.org")
        #expect(PageRequest(kind: .url("http://127.0.0.1:8080/x")).origin == "http://127.0.0.1:8080")
    }

    @Test func theConfigurationNamesABadPageKey() throws {
        for (yaml, field) in [("pageAllowList: ['(']", "pageAllowList[0]"), ("browserLaunchConcurrency: 0", "browserLaunchConcurrency"),
                              ("browserNoSandbox: [true]", "browserNoSandbox"), ("pageCost: {baseCores: -1}", "pageCost.baseCores"),
                              ("pageHungSeconds: 0", "pageHungSeconds"), ("browserNice: 20", "browserNice"),
                              ("browserNice: -1", "browserNice")] {
            let path = NSTemporaryDirectory() + "recorderd-page-config-\(UUID().uuidString.prefix(8)).yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            defer { unlink(path) }
            var configuration = DaemonConfiguration()
            do {
                try configuration.load(file: path)
                configuration.recordingsDir = NSTemporaryDirectory()
                try configuration.validate()
                Issue.record("\(yaml): accepted")
            } catch let error as FieldError {
                #expect(error.field == field, "\(yaml): \(error)")
            }
        }
    }
}
