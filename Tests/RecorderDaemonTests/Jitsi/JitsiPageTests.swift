import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PageBrowser
import RecorderEngine
@testable import RecorderDaemon
import Testing
import TestSupport

/// Jibri's join, checks and participant list against the Jitsi-like page
/// (`Tests/Pages/jitsi-like/index.html`) in Debian's Chromium on the bench's
/// display, the page served over HTTP by the test, driven through
/// `PageBrowser` directly.
@Suite(.tags(.bench), .serialized) struct JitsiPageTests {
    static let login = JitsiConfiguration.CallLogin(domain: "recorder.jitsi-like.test", username: "recorder", passwordFile: "/unused")
    static let password = "s3cr3t\"pass\\word"
    static let logger = Logger(label: "JitsiPageTests")

    /// Short checks, so that a test ends in seconds.
    static var quickChecks: JitsiCallChecks.Settings {
        var settings = JitsiCallChecks.Settings()
        settings.interval = .seconds(1)
        settings.callEmptyTimeout = .seconds(2)
        settings.allMutedTimeout = .seconds(2)
        settings.noMediaTimeout = .seconds(2)
        settings.iceConnectionTimeout = .seconds(2)
        settings.evaluateTimeout = .seconds(5)
        return settings
    }

    /// A participant the page has at the join (`jitsiLike.participants`).
    static func participant(_ id: String, _ nick: String, identity: Bool = true, hidden: Bool = false) -> String {
        let identityJSON = identity ? ", \"identity\": {\"user\": {\"id\": \"\(id)-id\", \"name\": \"?\"}, \"group\": \"team\"}" : ""
        return "{\"id\": \"\(id)\", \"nick\": \"\(nick)\", \"hidden\": \(hidden)\(identityJSON)}"
    }

    /// Serves the page at every path, opens room `room42` through
    /// `JitsiMeeting` as the page recording does (the pre-#581 localStorage
    /// login too when `legacy`), then runs `body`.
    static func withJitsiLikeRoom(controls: [String] = [], legacy: Bool = false,
                                  _ body: @Sendable (Page, JitsiMeeting) async throws -> Void) async throws {
        let bench = try TestBench.current()
        let html = try String(contentsOfFile: "\(Repository.root)/Tests/Pages/jitsi-like/index.html", encoding: .utf8)
        let passwordFile = try bench.scratchDirectory("jitsi") + "/recorder.password"
        try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let router = Router()
        router.get("**") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        }
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await application.test(.live) { client in
            var configuration = JitsiConfiguration()
            configuration.baseURL = "http://127.0.0.1:\(try #require(client.port))"
            configuration.callLogin = login
            configuration.callLogin?.passwordFile = passwordFile
            configuration.legacyLocalStorage = legacy
            configuration.checks = quickChecks
            try configuration.validate()
            let meeting = try JitsiMeeting(room: "room42", configuration: configuration, extraHashParameters: controls)
            var launch = BrowserLaunch(display: bench.display, width: 1280, height: 720, profileParent: try bench.scratchDirectory("profiles"))
            launch.sandbox = getuid() != 0
            let browser = try await Browser.launch(launch, logger: logger)
            do {
                #expect(try await meeting.open(browser.page, timeout: .seconds(30), retries: 2) == 200)
                try await body(browser.page, meeting)
            } catch {
                await browser.close(grace: .seconds(5))
                throw error
            }
            await browser.close(grace: .seconds(5))
        }
    }

    static func control(_ key: String, _ json: String) -> String { "jitsiLike.\(key)=\(JitsiRoom.encodeURIComponent(json))" }

    @Test func joinsAfterTheSimulatedDelayWithTheLoginFromTheHash() async throws {
        try await Self.withJitsiLikeRoom(controls: [Self.control("joinDelayMs", "2500")]) { page, meeting in
            let took = try await JitsiCallChecks.waitForJoin(page: page, settings: Self.quickChecks, timeout: .seconds(20))
            // The delay counts from the page's start; navigation took some of it.
            #expect(took > .milliseconds(500) && took < .seconds(10), "\(took)")
            print("jitsi-like: joined \(took) after the load (join delay 2.5 s from the page's start)")
            let login = try await page.evaluate("window.jitsiLike.login", timeout: .seconds(5))
            #expect(login["source"] == .string("hash"))
            #expect(login["xmpp_username_override"] == .string(meeting.room.username))
            #expect(login["xmpp_password_override"] == .string(Self.password))
            #expect(login["callStatsUserName"] == .string("jibri"))
            #expect(login["displayname"] == .string(""))
            let config = try await page.evaluate("window.jitsiLike.config", timeout: .seconds(5))
            #expect(config["iAmRecorder"] == .bool(true))
            #expect(config["externalConnectUrl"] == .null)
            #expect(config["startWithAudioMuted"] == .bool(true))
            #expect(config["useHostPageLocalStorage"] == .bool(true))
            #expect(try await page.evaluate("typeof window._jibriParticipants", timeout: .seconds(5)) == .string("object"))
        }
    }

    @Test func theLegacyLocalStorageLoginReachesAnOlderMeet() async throws {
        try await Self.withJitsiLikeRoom(controls: [Self.control("olderMeet", "true")], legacy: true) { page, meeting in
            _ = try await JitsiCallChecks.waitForJoin(page: page, settings: Self.quickChecks, timeout: .seconds(20))
            let login = try await page.evaluate("window.jitsiLike.login", timeout: .seconds(5))
            #expect(login["source"] == .string("localStorage"))
            #expect(login["xmpp_username_override"] == .string(meeting.room.username))
            #expect(login["xmpp_password_override"] == .string(Self.password))
        }
    }

    @Test func aPageThatNeverJoinsFailsAfterTheDeadline() async throws {
        try await Self.withJitsiLikeRoom(controls: [Self.control("neverJoin", "true"), Self.control("joinDelayMs", "200")]) { page, _ in
            let clock = ContinuousClock()
            let began = clock.now
            await #expect(throws: JitsiCallChecks.JoinError.notJoined(seconds: 3, lastAnswer: "false")) {
                try await JitsiCallChecks.waitForJoin(page: page, settings: Self.quickChecks, timeout: .seconds(3))
            }
            #expect(clock.now - began >= .seconds(3) && clock.now - began < .seconds(8))
        }
    }

    @Test func theLastParticipantLeavingEndsTheCallAndTheParticipantsAreCollected() async throws {
        let present = "[\(Self.participant("alice", "Alice")), \(Self.participant("bob", "Bob")), "
            + "\(Self.participant("ghost", "Ghost", hidden: true)), \(Self.participant("anon", "Anon", identity: false))]"
        try await Self.withJitsiLikeRoom(controls: [Self.control("participants", present), Self.control("joinDelayMs", "500")]) { page, meeting in
            _ = try await JitsiCallChecks.waitForJoin(page: page, settings: Self.quickChecks, timeout: .seconds(20))
            var checks = JitsiCallChecks(settings: Self.quickChecks, page: page)
            // Carol joins and is renamed, a hidden Spy joins; then everyone leaves.
            _ = try await page.evaluate("""
                jitsiLike.join({id: "carol", nick: "Carol", identity: {user: {id: "carol-id"}}});
                jitsiLike.rename("carol", "Caroline");
                jitsiLike.join({id: "spy", nick: "Spy", hidden: true, identity: {user: {id: "spy-id"}}});
                setTimeout(() => ["alice", "bob", "carol", "anon", "ghost", "spy"].forEach(id => jitsiLike.leave(id)), 1500);
                """, timeout: .seconds(5))
            let clock = ContinuousClock()
            let began = clock.now
            let reason = try await checks.watch()
            let took = clock.now - began
            #expect(reason == .callEmpty)
            print("jitsi-like: callEmpty \(took) after the checks began (left at 1.5 s, interval 1 s, empty timeout 2 s)")
            // Left at 1.5 s, seen empty at the next check, then empty longer than 2 s.
            #expect(took >= .milliseconds(3500) && took < .seconds(10), "\(took)")
            let participants = await checks.finalParticipants()
            let names = participants.compactMap { $0["user"]?["name"]?.string }.sorted()
            // Jibri's tracker seeds every member present with an identity,
            // hidden or not (AppCallPage.kt lines 142-154), skips members
            // without one, and skips hidden members that join later (line 159).
            #expect(names == ["Alice", "Bob", "Caroline", "Ghost"])
            #expect(participants.contains { $0["user"]?["id"] == .string("alice-id") && $0["group"] == .string("team") })

            // metadata.json beside the file, as Jibri writes it.
            let directory = try TestBench.current().scratchDirectory("recordings")
            try FileManager.default.createDirectory(atPath: directory + "/room42", withIntermediateDirectories: true)
            try meeting.writeMetadata(participants: participants, beside: "room42/room42.mp4", in: ConfinedDirectory(path: directory))
            let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/room42/metadata.json"))) as? [String: Any]
            #expect(written?["meeting_url"] as? String == meeting.room.meetingURL)
            #expect((written?["participants"] as? [[String: Any]])?.count == 4)
        }
    }

    /// Joins with `present` (a JSON list of `participant`s) in the room,
    /// runs `script` on the page, and expects the checks to end the call
    /// as `expected`.
    static func expectEnd(_ expected: JitsiCallChecks.EndReason, present: String, after script: String,
                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await withJitsiLikeRoom(controls: [control("participants", present), control("joinDelayMs", "300")]) { page, _ in
            _ = try await JitsiCallChecks.waitForJoin(page: page, settings: quickChecks, timeout: .seconds(20))
            var checks = JitsiCallChecks(settings: quickChecks, page: page)
            _ = try await page.evaluate(script, timeout: .seconds(5))
            #expect(try await checks.watch() == expected, sourceLocation: sourceLocation)
        }
    }

    @Test func everyoneMutedEndsAsAllMuted() async throws {
        try await Self.expectEnd(.allMuted, present: "[\(Self.participant("alice", "Alice")), \(Self.participant("bob", "Bob"))]",
                                 after: "jitsiLike.mute('alice', true, true); jitsiLike.mute('bob', true, true)")
    }

    @Test func noMediaWhileSomeoneIsUnmutedEndsAsNoMediaReceived() async throws {
        try await Self.expectEnd(.noMediaReceived, present: "[\(Self.participant("alice", "Alice"))]", after: "jitsiLike.setDownload(0)")
    }

    @Test func anICEDropEndsAsIceFailed() async throws {
        try await Self.expectEnd(.iceFailed, present: "[\(Self.participant("alice", "Alice"))]", after: "jitsiLike.setIceState('disconnected')")
    }

    @Test func presencePropertiesAndLeavingReachThePage() async throws {
        try await Self.withJitsiLikeRoom(controls: [Self.control("joinDelayMs", "300")]) { page, meeting in
            _ = try await JitsiCallChecks.waitForJoin(page: page, settings: Self.quickChecks, timeout: .seconds(20))
            #expect(try await meeting.setPresenceProperties(page, [("session_id", "abc'\"1"), ("mode", "file")]))
            let presence = try await page.evaluate("window.jitsiLike.presence", timeout: .seconds(5))
            #expect(presence["session_id"] == .string("abc'\"1"))
            #expect(presence["mode"] == .string("file"))
            #expect(presence["_sent"] == .number(1))
            _ = try await page.evaluate("jitsiLike.join({id: 'dan', nick: 'Dan', identity: {user: {id: 'dan-id'}}})", timeout: .seconds(5))
            #expect(await meeting.participants(page)?.count == 1)
            #expect(await meeting.leave(page))
            #expect(try await page.evaluate("APP.conference._room.isJoined()", timeout: .seconds(5)) == .bool(false))
        }
    }
}
