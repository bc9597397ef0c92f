import Foundation
import Testing
import TestSupport

/// `"page": {"jitsi": {...}}` through a spawned recorderd with Debian's
/// chromium, against the Jitsi-like page (`Tests/Pages/jitsi-like/index.html`)
/// served over HTTP by the test: the join as the start gate, the call-status
/// checks as an end, `metadata.json`, and a room never joined.
@Suite(.serialized, .tags(.bench)) struct RecorderdJitsiTests {
    static let width = 640, height = 360

    /// Writes room `name` (a file of `pages`, so the room name ends in
    /// `.html` for the server's content type): the Jitsi-like page with the
    /// test controls `controls` (`jitsiLike.*`, JSON values) appended to the
    /// fragment the daemon gave, before the page reads it, and `after`
    /// (JavaScript) run after the page's own script.
    static func room(_ pages: PageServer, _ name: String, controls: [String: String], after: String = "") throws {
        let html = try String(contentsOfFile: "\(Repository.root)/Tests/Pages/jitsi-like/index.html", encoding: .utf8)
        let extra = controls.keys.sorted().map { "&jitsiLike.\($0)=\(controls[$0]!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
            .joined()
        let before = "<script>history.replaceState(null, '', location.href + '\(extra)');</script>\n"
        let page = html.replacingOccurrences(of: "<body>", with: "<body>\n" + before)
            .replacingOccurrences(of: "</body>", with: "<script>\(after)</script>\n</body>")
        try page.write(toFile: "\(pages.directory)/\(name)", atomically: true, encoding: .utf8)
    }

    /// The daemon's configuration: the page server as Jitsi's base URL, a
    /// recorder login, a short join deadline and short checks.
    static func configuration(_ bench: TestBench, _ pages: PageServer) throws -> String {
        let passwordFile = "\(try bench.scratchDirectory("jitsi"))/recorder.password"
        try "SECRETPASSWORD\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        return try pages.configuration(bench, extra: """
            jitsi:
              baseURL: 'http://127.0.0.1:\(pages.port)'
              callLogin: {domain: recorder.jitsi-like.test, username: recorder, passwordFile: '\(passwordFile)'}
              joinTimeoutSeconds: 6
              checks: {intervalSeconds: 1, callEmptySeconds: 2, evaluateTimeoutSeconds: 5}
            """)
    }

    static func participant(_ id: String, _ nick: String) -> String {
        "{\"id\": \"\(id)\", \"nick\": \"\(nick)\", \"identity\": {\"user\": {\"id\": \"\(id)-id\", \"name\": \"\(nick)\"}, \"group\": \"team\"}}"
    }

    static func start(_ daemon: Daemon, room: String, file: String) throws -> String {
        let answer = try daemon.request("POST", "/v1/recordings", body: """
            {"page": {"jitsi": {"room": "\(room)", "metadata": {"meeting_id": "m-17"}}, "width": \(width), "height": \(height)},
             "file": "\(file)"}
            """)
        try #require(answer.status == 201, "\(answer.status) \(answer.body)\n\(daemon.log.suffix(3000))")
        #expect(!answer.body.contains("SECRETPASSWORD"))
        return try #require(answer.json["id"] as? String)
    }

    /// Joined after the page's simulated delay, recording; Alice leaves at
    /// 6 s, the call-empty check (2 s) ends it with `callEmpty`, and
    /// `metadata.json` beside the file names Alice and Bob.
    @Test func aJitsiRoomRecordsFromItsJoinUntilTheCallIsEmptyAndWritesItsMetadata() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        try Self.room(pages, "room42.html",
                      controls: ["joinDelayMs": "2500", "participants": "[\(Self.participant("alice", "Alice")), \(Self.participant("bob", "Bob"))]"],
                      after: "setTimeout(() => jitsiLike.leave('bob'), 5000); setTimeout(() => jitsiLike.leave('alice'), 6000);")
        let daemon = try Daemon(bench, arguments: ["--config", try Self.configuration(bench, pages)])
        let id = try Self.start(daemon, room: "room42.html", file: "jitsi/room42.mp4")
        let recording = try daemon.waitFor(id, seconds: 40) { $0["state"] as? String == "recording" || RecorderdPageTests.ended($0) }
        #expect(recording["state"] as? String == "recording", "\(recording)\n\(daemon.log.suffix(3000))")
        let view = try daemon.waitFor(id, seconds: 60, RecorderdPageTests.ended)
        #expect(view["state"] as? String == "finished", "\(view)\n\(daemon.log.suffix(3000))")
        #expect(view["stopReason"] as? String == "callEmpty", "\(view)")
        let duration = try MediaProbe(path: "\(daemon.recordings)/jitsi/room42.mp4").duration ?? 0
        // From the join (2.5 s) to Alice leaving (6 s) plus the check: 3.5 + 2-3 s.
        #expect(duration > 3 && duration < 12, "\(duration)")
        let metadata = try String(contentsOfFile: "\(daemon.recordings)/jitsi/metadata.json", encoding: .utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(metadata.utf8)) as? [String: Any], "\(metadata)")
        #expect((json["meeting_url"] as? String)?.hasSuffix("/room42.html") == true, "\(metadata)")
        #expect(json["meeting_id"] as? String == "m-17", "\(metadata)")
        #expect(metadata.contains("alice-id") && metadata.contains("bob-id"), "\(metadata)")
        #expect(!metadata.contains("SECRETPASSWORD") && !daemon.log.contains("SECRETPASSWORD"))
        RecorderdPageTests.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }

    /// A room never joined fails after the join deadline (6 s), nothing written.
    @Test func aRoomNeverJoinedFailsAtItsDeadlineLeavingNothing() throws {
        let bench = try TestBench.current()
        let pages = try PageServer(bench)
        try Self.room(pages, "never.html", controls: ["neverJoin": "true", "joinDelayMs": "200"])
        let daemon = try Daemon(bench, arguments: ["--config", try Self.configuration(bench, pages)])
        let began = Date()
        let id = try Self.start(daemon, room: "never.html", file: "never/never.mp4")
        let view = try daemon.waitFor(id, seconds: 60, RecorderdPageTests.ended)
        #expect(view["state"] as? String == "failed", "\(view)")
        #expect((view["error"] as? String ?? "").contains("did not join"), "\(view)")
        #expect(Date().timeIntervalSince(began) > 5, "the deadline is 6 s")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: "\(daemon.recordings)/never")) ?? []
        #expect(left.isEmpty, "\(left)")
        RecorderdPageTests.expectNothingLeft(daemon)
        #expect(daemon.stop() == 0)
    }
}
