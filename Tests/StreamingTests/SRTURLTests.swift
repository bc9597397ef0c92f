import Foundation
import MediaCore
@testable import Mux
import Testing

/// `srt://` URLs: accepted only where allowed, host, port and stream id
/// parsed, everything after the `?` redacted, SRT's other options refused by
/// name; the passphrase type never prints.
@Suite struct SRTURLTests {
    static let srt: Set<StreamURL.Scheme> = [.rtmp, .rtmps, .srt]

    @Test func anSRTURLIsParsedAndShownWithoutItsQuery() throws {
        let url = try StreamURL("srt://ingest.example:9000?streamid=%23!::r=live/SECRETKEY,m=publish&mode=caller",
                                schemes: Self.srt)
        #expect(url.scheme == .srt && url.host == "ingest.example" && url.port == 9000)
        #expect(url.streamID == "#!::r=live/SECRETKEY,m=publish")
        #expect(url.redacted == "srt://ingest.example:9000?***" && "\(url)" == url.redacted)
        #expect(url.secretParts.contains("#!::r=live/SECRETKEY,m=publish"))
        let bare = try StreamURL("srt://[::1]:9000", schemes: Self.srt)
        #expect(bare.host == "[::1]" && bare.streamID == nil && bare.redacted == "srt://[::1]:9000")
    }

    @Test(arguments: [
        ("srt://host:9000?streamid=SECRET", Set<StreamURL.Scheme>([.rtmp, .rtmps]), "only when allowed (--allow-scheme srt)"),
        ("srt://host?streamid=SECRET", srt, "no port"),
        ("srt://host:9000/SECRET", srt, "nothing may follow the port but a query"),
        ("srt://host:9000?passphrase=SECRETSECRET", srt, "a passphrase in the URL"),
        ("srt://host:9000?latency=200000", srt, "--srt-latency"),
        ("srt://host:9000?mode=listener", srt, "only caller mode"),
        ("srt://host:9000?pbkeylen=32", srt, "'pbkeylen' is not supported"),
        ("srt://host:9000?streamid=%ZZSECRET", srt, "badly percent-encoded"),
        ("ftp://host/SECRET", srt, "only rtmp://, rtmps:// and srt:// URLs are accepted"),
    ])
    func badSRTURLsAreRefusedByName(url: String, schemes: Set<StreamURL.Scheme>, reason: String) {
        do {
            _ = try StreamURL(url, schemes: schemes)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.reason.contains(reason), "\(error)")
            #expect(!"\(error)".contains("SECRET"), "\(error)")
        }
    }

    @Test func theAllowListMatchesSRTURLsWhole() throws {
        let list = try StreamAllowList(patterns: [#"srt://ingest\.example:9000\?streamid=.*"#])
        #expect(list.permits("srt://ingest.example:9000?streamid=abc"))
        #expect(!list.permits("srt://ingest.example:9001?streamid=abc"))
        #expect(!list.permits("srt://evil.example:9000?x=srt://ingest.example:9000?streamid=abc"))
    }

    @Test func aPassphraseNeverPrints() throws {
        let file = "/tmp/srt-passphrase-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "SECRETPASSPHRASE\r\n".write(toFile: file, atomically: true, encoding: .utf8)
        let passphrase = try SRTPassphrase(contentsOfFile: file)
        #expect(passphrase.value == Array("SECRETPASSPHRASE".utf8), "the line ending is not part of it")
        var dumped = ""
        dump(SRTOptions(passphrase: passphrase), to: &dumped)
        for shown in ["\(passphrase)", String(reflecting: passphrase), dumped] {
            #expect(!shown.contains("SECRET"), "\(shown)")
        }
    }
}
