import Foundation
@testable import RecorderDaemon
import Testing

/// The meeting URL and login against what Jibri's code produces for the
/// same inputs (jibri @62369d5): the expected strings below are written by
/// hand from `CallUrlInfo.kt` lines 37-44 (`$baseUrl/$callName#` + params
/// joined by `&`), `JibriSelenium.kt` lines 153-165 (RECORDING_URL_OPTIONS),
/// 360-387 (the localStorage map, Jackson, `"` escaped, quoted,
/// `encodeURIComponent`) and 447-454 (that `encodeURIComponent`).
@Suite struct JitsiRoomTests {
    static let login = JitsiConfiguration.CallLogin(domain: "recorder.meet.example.org", username: "recorder", passwordFile: "/unused")

    /// Jibri's 11 recording options, joined as `CallUrlInfo.callUrl` joins them.
    static let jibriOptions = "config.analytics.disabled=true&config.disableInitialGUM=true&config.externalConnectUrl=null"
        + "&config.iAmRecorder=true&config.p2p.enabled=false&config.prejoinConfig.enabled=false"
        + "&config.requireDisplayName=false&config.deeplinking.disabled=true&config.startWithAudioMuted=true"
        + "&config.startWithVideoMuted=true&interfaceConfig.APP_NAME=\"Jibri\""

    @Test func theURLIsJibrisForTheSameInputs() throws {
        let room = try JitsiRoom(room: "room42", baseURL: "https://meet.example.org", login: Self.login, password: "s3cr3t!pass")
        // innerJson = {"displayname":"","email":"","callStatsUserName":"jibri",
        //   "xmpp_username_override":"recorder@recorder.meet.example.org","xmpp_password_override":"s3cr3t!pass"}
        // outerJson = "\"" + innerJson with each " as \" + "\"", then encodeURIComponent
        // (" %22, { %7B, \ %5C, : %3A, , %2C, @ %40, } %7D; ! kept).
        let content = "%22%7B%5C%22displayname%5C%22%3A%5C%22%5C%22%2C%5C%22email%5C%22%3A%5C%22%5C%22%2C"
            + "%5C%22callStatsUserName%5C%22%3A%5C%22jibri%5C%22%2C"
            + "%5C%22xmpp_username_override%5C%22%3A%5C%22recorder%40recorder.meet.example.org%5C%22%2C"
            + "%5C%22xmpp_password_override%5C%22%3A%5C%22s3cr3t!pass%5C%22%7D%22"
        let expected = "https://meet.example.org/room42#" + Self.jibriOptions
            + "&config.useHostPageLocalStorage=true&appData.localStorageContent=" + content
        #expect(room.joinURL == expected)
        #expect(room.meetingURL == "https://meet.example.org/room42")
        #expect(room.username == "recorder@recorder.meet.example.org")
        #expect(room.localStorageOrigin == "https://meet.example.org")
        #expect(room.localStorage.map(\.key) == ["displayname", "email", "callStatsUserName", "xmpp_username_override", "xmpp_password_override"])
        #expect(room.localStorage.map(\.value) == ["", "", "jibri", "recorder@recorder.meet.example.org", "s3cr3t!pass"])
    }

    @Test func aTenantGoesBeforeTheRoomAsJibrisSubdomain() throws {
        // XmppUtils.kt lines 46-55: CallUrlInfo("$baseCallUrl/$subdomain", callName).
        let room = try JitsiRoom(room: "room42", tenant: "tenant1", baseURL: "http://127.0.0.1:8080", login: Self.login, password: "p")
        #expect(room.meetingURL == "http://127.0.0.1:8080/tenant1/room42")
        #expect(room.joinURL.hasPrefix("http://127.0.0.1:8080/tenant1/room42#config.analytics.disabled=true&"))
        #expect(room.localStorageOrigin == "http://127.0.0.1:8080")
    }

    @Test func extraParametersFollowJibrisAndEachParameterComesOnce() throws {
        let room = try JitsiRoom(room: "r", baseURL: "https://m.example", login: Self.login, password: "p",
                                 extraHashParameters: ["config.analytics.rtcstatsEnabled=false", "config.iAmRecorder=true"])
        #expect(room.joinURL.hasPrefix("https://m.example/r#" + Self.jibriOptions
            + "&config.analytics.rtcstatsEnabled=false&config.useHostPageLocalStorage=true&appData.localStorageContent=%22%7B"))
        #expect(room.joinURL.components(separatedBy: "config.iAmRecorder=true").count == 2)
    }

    @Test func aRandomizedUsernameIsJibrisNameDashEightCharacters() throws {
        var login = Self.login
        login.randomizeUsername = true
        let fixed = try JitsiRoom(room: "r", baseURL: "https://m.example", login: login, password: "p", usernameSuffix: "abc12345")
        #expect(fixed.username == "recorder-abc12345@recorder.meet.example.org")
        #expect(fixed.joinURL.contains("%5C%22recorder-abc12345%40recorder.meet.example.org%5C%22"))
        let drawn = try JitsiRoom(room: "r", baseURL: "https://m.example", login: login, password: "p")
        #expect(drawn.username.wholeMatch(of: /recorder-[a-z0-9]{8}@recorder\.meet\.example\.org/) != nil)
    }

    /// Jitsi Meet's reading: percent-decode, JSON-parse the hash value (a
    /// string), JSON-parse that string (the object).
    static func meetReads(_ url: String) throws -> [String: String] {
        let value = try #require(url.components(separatedBy: "appData.localStorageContent=").last?.removingPercentEncoding)
        let inner = try #require(try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed) as? String)
        return try #require(try JSONSerialization.jsonObject(with: Data(inner.utf8)) as? [String: String])
    }

    @Test func passwordsJibriWouldBreakArriveWhole() throws {
        // Jibri escapes only `"` of the inner JSON and encodes through
        // US-ASCII: `\`, `"` and `ä` would not survive there.
        for password in ["a\"b", "back\\slash", "pässwörd", "a&b=c#d%20", "\u{1F511}"] {
            let room = try JitsiRoom(room: "r", baseURL: "https://m.example", login: Self.login, password: password)
            #expect(try Self.meetReads(room.joinURL)["xmpp_password_override"] == password)
        }
        let plain = try JitsiRoom(room: "r", baseURL: "https://m.example", login: Self.login, password: "plain-123")
        #expect(try Self.meetReads(plain.joinURL)["xmpp_username_override"] == "recorder@recorder.meet.example.org")
    }

    @Test func thePasswordStaysOutOfEveryDescription() throws {
        let room = try JitsiRoom(room: "room42", baseURL: "https://meet.example.org", login: Self.login, password: "s3cr3t!pass")
        #expect(room.joinURL.contains("s3cr3t"))
        #expect(!room.redactedJoinURL.contains("s3cr3t"))
        #expect(room.redactedJoinURL.contains("xmpp_password_override%5C%22%3A%5C%22*****%5C%22"))
        var dumped = ""
        dump(room, to: &dumped)
        for text in [room.description, String(describing: room), String(reflecting: room), dumped, "\(room)"] {
            #expect(!text.contains("s3cr3t"), "\(text)")
        }
    }

    @Test(arguments: ["room 42", "a/b", "a#b", "a?b", "a@b", "a:b", "a%20b", "a\\b", "a'b", "a\"b", "a<b>", "", ".hidden", String(repeating: "r", count: 257)])
    func aRoomJibriCouldNotCarryIsRefusedNamingTheField(_ name: String) {
        #expect {
            try JitsiRoom(room: name, baseURL: "https://m.example", login: Self.login, password: "p")
        } throws: { ($0 as? FieldError)?.field == "page.jitsi.room" }
        #expect {
            try JitsiRoom(room: "ok", tenant: name, baseURL: "https://m.example", login: Self.login, password: "p")
        } throws: { ($0 as? FieldError)?.field == "page.jitsi.tenant" }
    }

    @Test(arguments: ["Room_42", "weekly-sync.2026", "café", "会议室"])
    func roomsWithLettersDigitsAndDashesAreAccepted(_ name: String) throws {
        let room = try JitsiRoom(room: name, baseURL: "https://m.example", login: Self.login, password: "p")
        #expect(room.meetingURL == "https://m.example/\(name)")
    }

    @Test func jsonAndURIEncodingMatchJacksonAndJavaScript() {
        #expect(JitsiRoom.jsonString("a\"b\\c\n\t\u{01}é") == "\"a\\\"b\\\\c\\n\\t\\u0001é\"")
        #expect(JitsiRoom.encodeURIComponent("AZaz09-_.!~*'() \"#%&+/:;=?@[]{}é") ==
            "AZaz09-_.!~*'()%20%22%23%25%26%2B%2F%3A%3B%3D%3F%40%5B%5D%7B%7D%C3%A9")
    }
}
