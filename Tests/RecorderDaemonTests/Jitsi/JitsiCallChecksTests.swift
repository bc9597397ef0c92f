import Foundation
import PageBrowser
@testable import RecorderDaemon
import Synchronization
import Testing

/// Jibri's call-status checks on a stand-in page whose answers the test sets,
/// at times the test chooses. Expected outcomes follow jibri @62369d5
/// `selenium/status_checks/*.kt` and their tests: a timeout is exceeded only
/// when strictly longer, the checks run in order and stop at the first end.
@Suite struct JitsiCallChecksTests {
    /// Answers each of Jibri's scripts from its state; records which ran.
    final class StandInPage: JitsiPageScripting {
        struct State {
            var joined: [JSONValue] = [.bool(true)]
            var participants: JSONValue = .number(2)   // getNumParticipants, recorder included
            var muted: JSONValue = .number(0)
            var jigasi: JSONValue = .number(0)
            var download: JSONValue = .number(500)
            var connection: JSONValue = .string("connected")
            var identities: JSONValue = .array([])
            var failure: BrowserError?
            var calls: [String] = []
        }
        let state = Mutex(State())

        func evaluate(_ expression: String, timeout: Duration) async throws(BrowserError) -> JSONValue {
            let name: String
            if expression.contains(JitsiCallPage.isJoinedScript) { name = "isJoined" }
            else if expression.contains(JitsiCallPage.numParticipantsScript) { name = "numParticipants" }
            else if expression.contains(JitsiCallPage.statsScript) { name = "stats" }
            else if expression.contains(JitsiCallPage.numMutedScript) { name = "muted" }
            else if expression.contains(JitsiCallPage.numJigasiScript) { name = "jigasi" }
            else if expression.contains(JitsiCallPage.numHiddenScript) { name = "hidden" }
            else if expression.contains(JitsiCallPage.connectionStateScript) { name = "connectionState" }
            else if expression.contains(JitsiCallPage.participantTrackerScript) { name = "tracker" }
            else if expression.contains(JitsiCallPage.participantsScript) { name = "participants" }
            else { name = "other" }
            let result: Result<JSONValue, BrowserError> = state.withLock { state in
                state.calls.append(name)
                if let failure = state.failure { return .failure(failure) }
                switch name {
                case "isJoined": return .success(state.joined.count > 1 ? state.joined.removeFirst() : state.joined[0])
                case "numParticipants": return .success(state.participants)
                case "stats": return .success(.object(["bitrate": .object(["download": state.download, "upload": .number(0)])]))
                case "muted": return .success(state.muted)
                case "jigasi": return .success(state.jigasi)
                case "hidden": return .success(.number(0))
                case "connectionState": return .success(state.connection)
                case "tracker": return .success(.bool(true))
                case "participants": return .success(state.identities)
                default: return .success(.null)
                }
            }
            return try result.get()
        }

        func set(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }
        var calls: [String] { state.withLock { $0.calls } }
    }

    let start = ContinuousClock().now
    func at(_ seconds: Int) -> ContinuousClock.Instant { start + .seconds(seconds) }

    /// Rounds every 15 s from 15 s to `seconds`; the first end and when.
    func run(_ checks: inout JitsiCallChecks, until seconds: Int) async throws -> (JitsiCallChecks.EndReason, Int)? {
        for time in stride(from: 15, through: seconds, by: 15) {
            if let reason = try await checks.round(now: at(time)) { return (reason, time) }
        }
        return nil
    }

    @Test func anEmptyCallEndsWhenEmptyLongerThanTheTimeout() async throws {
        let page = StandInPage()
        page.set { $0.participants = .number(1) }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        // Empty from the first round (15 s); 30 s is not longer than 30 s at 45 s.
        let end = try await run(&checks, until: 300)
        #expect(end?.0 == .callEmpty)
        #expect(end?.1 == 60)
    }

    @Test func someoneComingBackRestartsTheEmptyCallClock() async throws {
        let page = StandInPage()
        page.set { $0.participants = .number(1) }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        #expect(try await checks.round(now: at(15)) == nil)
        #expect(try await checks.round(now: at(30)) == nil)
        page.set { $0.participants = .number(3) }
        #expect(try await checks.round(now: at(45)) == nil)
        page.set { $0.participants = .number(1) }
        #expect(try await checks.round(now: at(60)) == nil)
        #expect(try await checks.round(now: at(90)) == nil)
        #expect(try await checks.round(now: at(91)) == .callEmpty)
    }

    @Test func everyoneMutedEndsAfterTheAllMutedTimeoutNotAsNoMedia() async throws {
        let page = StandInPage()
        page.set { $0.participants = .number(3); $0.muted = .number(1); $0.jigasi = .number(1); $0.download = .number(0) }
        var settings = JitsiCallChecks.Settings()
        settings.allMutedTimeout = .seconds(60)
        var checks = JitsiCallChecks(settings: settings, page: page, now: start)
        // All muted (a Jigasi counts as muted) since 15 s; no media is not
        // counted while all are muted.
        let end = try await run(&checks, until: 600)
        #expect(end?.0 == .allMuted)
        #expect(end?.1 == 90)
        #expect(JitsiCallChecks.EndReason.allMuted.jibriError == nil)
    }

    @Test func noMediaEndsAfterTheNoMediaTimeoutCountedFromTheStart() async throws {
        let page = StandInPage()
        page.set { $0.download = .number(0) }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        let end = try await run(&checks, until: 600)
        #expect(end?.0 == .noMediaReceived)
        #expect(end?.1 == 195)   // the first round after 180 s since the checks began
        #expect(JitsiCallChecks.EndReason.noMediaReceived.jibriError == "No media received")
    }

    @Test func mediaFlowingAgainRestartsTheNoMediaClock() async throws {
        let page = StandInPage()
        page.set { $0.download = .number(0) }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        #expect(try await checks.round(now: at(150)) == nil)
        page.set { $0.download = .number(12.5) }
        #expect(try await checks.round(now: at(165)) == nil)
        page.set { $0.download = .number(0) }
        #expect(try await checks.round(now: at(345)) == nil)
        #expect(try await checks.round(now: at(346)) == .noMediaReceived)
    }

    @Test func iceNotConnectedEndsAfterTheIceTimeout() async throws {
        let page = StandInPage()
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        page.set { $0.connection = .string("CONNECTED") }   // Jibri lowercases
        #expect(try await checks.round(now: at(15)) == nil)
        page.set { $0.connection = .string("disconnected") }
        #expect(try await checks.round(now: at(30)) == nil)
        #expect(try await checks.round(now: at(45)) == nil)   // 30 s is not longer than 30 s
        #expect(try await checks.round(now: at(60)) == .iceFailed)
        #expect(JitsiCallChecks.EndReason.iceFailed.jibriError == "ICE failed")
    }

    @Test func aRoundAsksWhatJibriAsksInJibrisOrder() async throws {
        let page = StandInPage()
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        _ = try await checks.round(now: at(15))
        #expect(page.calls == ["participants",
                               "numParticipants",                                          // EmptyCall
                               "stats", "numParticipants", "muted", "jigasi", "hidden",    // MediaReceived
                               "numParticipants", "connectionState"])                      // IceConnection
    }

    @Test func anEmptyCallIsNotAskedForICEAndEndsAsEmpty() async throws {
        let page = StandInPage()
        page.set { $0.participants = .number(1); $0.connection = .string("failed"); $0.download = .number(0) }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        let end = try await run(&checks, until: 300)
        #expect(end?.0 == .callEmpty)
        #expect(!page.calls.contains("connectionState"))
    }

    @Test func answersOfTheWrongKindReadAsJibriReadsThem() async throws {
        let page = StandInPage()
        // getNumParticipants: not a number -> 1 (empty); the counts: 0; ICE: not connected.
        page.set { $0.participants = .string("APP is not defined"); $0.muted = .string("x"); $0.connection = .null }
        let callPage = JitsiCallPage(page: page, timeout: .seconds(1))
        #expect(try await callPage.numParticipants() == 1)
        #expect(try await callPage.numRemoteParticipantsMuted() == 0)
        #expect(try await !callPage.isIceConnected())
        page.set { $0.download = .string("x") }
        #expect(try await callPage.downloadBitrate() == 0)
        page.set { $0.identities = .string("window._jibriParticipants is undefined") }
        #expect(try await callPage.participants() == [])
    }

    @Test func aBrowserErrorIsThrownAsIs() async throws {
        let page = StandInPage()
        page.set { $0.failure = .timedOut("evaluate") }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        await #expect(throws: BrowserError.timedOut("evaluate")) { try await checks.round(now: at(15)) }
    }

    @Test func participantsReadEachRoundSurviveAPageThatDiesLater() async throws {
        let page = StandInPage()
        let alice = JSONValue.object(["user": .object(["id": .string("a1"), "name": .string("Alice")])])
        page.set { $0.identities = .array([alice]) }
        var checks = JitsiCallChecks(settings: .init(), page: page, now: start)
        _ = try await checks.round(now: at(15))
        page.set { $0.failure = .pageCrashed }
        #expect(await checks.finalParticipants() == [alice])
    }

    @Test func theJoinWaitsForTrueThenInjectsTheTracker() async throws {
        let page = StandInPage()
        page.set { $0.joined = [.string("Cannot read properties of undefined (reading 'isJoined')"), .bool(false), .bool(true)] }
        let took = try await JitsiCallChecks.waitForJoin(scripting: page, settings: .init(), timeout: .seconds(10))
        #expect(took >= .milliseconds(900) && took < .seconds(5))
        #expect(page.calls == ["isJoined", "isJoined", "isJoined", "tracker"])
    }

    @Test func aPageThatNeverJoinsFailsAfterTheDeadlineWithItsLastAnswer() async throws {
        let page = StandInPage()
        page.set { $0.joined = [.bool(false)] }
        let clock = ContinuousClock()
        let began = clock.now
        await #expect(throws: JitsiCallChecks.JoinError.notJoined(seconds: 1.2, lastAnswer: "false")) {
            try await JitsiCallChecks.waitForJoin(scripting: page, settings: .init(), timeout: .milliseconds(1200))
        }
        #expect(clock.now - began >= .milliseconds(1200))
        #expect(clock.now - began < .seconds(4))
    }

    @Test func aBrowserErrorDuringTheJoinIsABrowserError() async throws {
        let page = StandInPage()
        page.set { $0.failure = .pageCrashed }
        await #expect(throws: JitsiCallChecks.JoinError.browser(.pageCrashed)) {
            try await JitsiCallChecks.waitForJoin(scripting: page, settings: .init(), timeout: .seconds(5))
        }
    }
}
