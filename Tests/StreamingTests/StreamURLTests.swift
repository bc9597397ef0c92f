import MediaCore
@testable import Mux
import Testing

/// Stream URLs: what is accepted, what is refused and why, and that the key
/// never shows in anything printable.
@Suite struct StreamURLTests {
    @Test(arguments: [
        ("rtmp://a.rtmp.youtube.com/live2/abcd-efgh-ijkl", "rtmp://a.rtmp.youtube.com/live2/***"),
        ("rtmps://live-api-s.facebook.com:443/rtmp/FB-123-secret", "rtmps://live-api-s.facebook.com:443/rtmp/***"),
        ("rtmp://127.0.0.1:1935/live/stream", "rtmp://127.0.0.1:1935/live/***"),
        ("rtmp://[::1]:1935/live/stream", "rtmp://[::1]:1935/live/***"),
        ("rtmp://user:password@host/app/key", "rtmp://***@host/app/***"),
        ("rtmp://host/app/instance/key", "rtmp://host/app/***"),
        ("rtmp://evil.example/live?u=rtmp://a.rtmp.youtube.com/live2/", "rtmp://evil.example/live?***"),
    ])
    func validURLsAreAcceptedAndShownRedacted(url: String, shown: String) throws {
        let parsed = try StreamURL(url)
        #expect(parsed.redacted == shown)
        #expect("\(parsed)" == shown)
        #expect(String(reflecting: parsed) == "StreamURL(\(shown))")
        var dumped = ""
        dump(parsed, to: &dumped)
        #expect(dumped.contains(shown) && !dumped.contains(url), "dump shows \(dumped)")
    }

    @Test func schemeHostAndPortAreParsed() throws {
        let url = try StreamURL("rtmps://ingest.example.com:8443/app/key")
        #expect(url.scheme == .rtmps && url.host == "ingest.example.com" && url.port == 8443)
        let plain = try StreamURL("rtmp://ingest.example.com/app/key")
        #expect(plain.scheme == .rtmp && plain.port == nil)
    }

    @Test(arguments: [
        ("", "empty URL", ""),
        ("file:///etc/passwd", "only rtmp:// and rtmps://", "file:///etc/***"),
        ("concat:a|b", "only rtmp:// and rtmps://", "concat:***"),
        ("http://127.0.0.1/live/SECRETKEY", "only rtmp:// and rtmps://", "http://127.0.0.1/live/***"),
        ("RTMP://a.rtmp.youtube.com/live2/SECRETKEY", "only rtmp:// and rtmps://", "RTMP://a.rtmp.youtube.com/live2/***"),
        ("rtmp://host/live/SECRET KEY", "space or a control character", "rtmp://host/live/***"),
        ("rtmp://host/live/SECRET\u{7}KEY", "space or a control character", "rtmp://host/live/***"),
        ("rtmp://ho\nst/live/SECRETKEY", "space or a control character", "rtmp://ho\\x0Ast/live/***"),
        ("rtmp://host/live/SECRETKÉY", "non-ASCII", "rtmp://host/live/***"),
        ("rtmp:///live/SECRETKEY", "no host", "rtmp:///live/***"),
        ("rtmp://host:99999/live/SECRETKEY", "port", "rtmp://host:99999/live/***"),
        ("rtmp://host:/live/SECRETKEY", "port", "rtmp://host:/live/***"),
        ("rtmp://host", "no application", "rtmp://host"),
        ("rtmp://host/SECRETKEY", "no stream name", "rtmp://host/***"),
        ("rtmp://host/live/", "no stream name", "rtmp://host/***"),
    ])
    func badURLsAreRefusedWithTheKeyHidden(url: String, reason: String, shown: String) {
        do {
            _ = try StreamURL(url)
            Issue.record("\(shown) was accepted")
        } catch {
            #expect(error.key == .stream(index: 0))
            #expect(error.value == shown)
            #expect(error.reason.contains(reason), "\(error)")
            #expect(!error.description.contains("SECRET"), "\(error)")
            #expect(!error.description.contains("\n"), "one line: \(error)")
        }
    }

    @Test func urlsInsideMessagesAreRedacted() {
        let message = "Unexpected argument 'rtmp://host/live/SECRETKEY' and \"rtmps://h:1/a/b/SECRET2\" and x://y/z/SECRET3"
        let redacted = StreamURL.redactURLs(in: message)
        #expect(redacted == "Unexpected argument 'rtmp://host/live/***' and \"rtmps://h:1/a/***\" and x://y/z/***")
    }

    @Test func theSecretPartsAreTheURLTheStreamNameAndTheUserInformation() throws {
        let url = try StreamURL("rtmp://user:pw@host/app/KEY123")
        #expect(Set(url.secretParts) == ["rtmp://user:pw@host/app/KEY123", "KEY123", "user:pw"])
    }
}
