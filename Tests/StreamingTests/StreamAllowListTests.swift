import MediaCore
@testable import Mux
import Testing

/// The allow-list has Jibri's semantics: a pattern must match the whole URL,
/// case-sensitively; no pattern at all accepts every valid URL.
@Suite struct StreamAllowListTests {
    let youtube = #"rtmp://a\.rtmp\.youtube\.com/live2/.*"#

    @Test func anEmptyListAcceptsEveryURL() throws {
        let list = try StreamAllowList(patterns: [])
        #expect(list.permits("rtmp://anything.example/app/key"))
        #expect(throws: Never.self) { try list.check(try StreamURL("rtmps://x.example/a/b")) }
    }

    @Test func aPatternMustMatchTheWholeURL() throws {
        let list = try StreamAllowList(patterns: [youtube])
        #expect(list.permits("rtmp://a.rtmp.youtube.com/live2/abcd-1234"))
        // The allowed URL only inside the query of another host's URL.
        #expect(!list.permits("rtmp://evil.example/live?u=rtmp://a.rtmp.youtube.com/live2/"))
        // A prefix or a suffix is not the whole URL.
        #expect(!list.permits("rtmp://a.rtmp.youtube.com/live"))
        #expect(!list.permits("xrtmp://a.rtmp.youtube.com/live2/k"))
        let anchoredPrefix = try StreamAllowList(patterns: ["rtmp://a"])
        #expect(!anchoredPrefix.permits("rtmp://a.rtmp.youtube.com/live2/k"))
    }

    @Test func matchingIsCaseSensitive() throws {
        let list = try StreamAllowList(patterns: [youtube])
        #expect(!list.permits("RTMP://a.rtmp.youtube.com/live2/key"))
        #expect(!list.permits("rtmp://A.RTMP.YOUTUBE.COM/live2/key"))
    }

    @Test func anyPatternMayMatch() throws {
        let list = try StreamAllowList(patterns: [youtube, #"rtmps://[a-z-]+\.facebook\.com:443/rtmp/\d+.*"#])
        #expect(list.permits("rtmps://live-api-s.facebook.com:443/rtmp/123-key"))
        #expect(list.permits("rtmp://a.rtmp.youtube.com/live2/x"))
        #expect(!list.permits("rtmps://live-api-s.facebook.com:443/rtmp/key"))
    }

    @Test func alternationIsAnchoredAsAWhole() throws {
        // Leftmost-first engines stop at "a" for "a|ab"; whole matching must still accept "ab".
        let list = try StreamAllowList(patterns: ["rtmp://h/a/(k|kk)"])
        #expect(list.permits("rtmp://h/a/kk"))
    }

    @Test func aRefusedURLIsNamedRedacted() throws {
        let list = try StreamAllowList(patterns: [youtube])
        let url = try StreamURL("rtmp://127.0.0.1:1935/live/SECRETKEY")
        do {
            try list.check(url)
            Issue.record("accepted")
        } catch {
            #expect(error == InvalidSetting(.stream(index: 0), value: "rtmp://127.0.0.1:1935/live/***",
                                            reason: "not in the allow-list (no --allow pattern matches the whole URL)"))
        }
    }

    @Test(arguments: ["rtmp://(unclosed", "rtmp://a[", "*rtmp", ""])
    func anInvalidPatternIsRefused(pattern: String) {
        do {
            _ = try StreamAllowList(patterns: [youtube, pattern])
            Issue.record("'\(pattern)' was accepted")
        } catch {
            #expect(error.key == .allowPattern(index: 1) && error.value == pattern)
        }
    }
}
