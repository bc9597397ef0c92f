import Foundation
import Testing
import TestSupport

/// Bad stream input: exit 2, one line naming the problem with the key
/// redacted, no file written and no connection made (the URLs point at a
/// port that listens and counts connection attempts).
@Suite(.serialized, .tags(.bench)) struct StreamBadInputTests {
    static let youtube = #"rtmp://a\.rtmp\.youtube\.com/live2/.*"#

    /// `PORT` in the arguments becomes the trap's port; `SECRET` marks the key.
    @Test(arguments: [
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRETKEY", "--allow", youtube],
         "invalid --stream 'rtmp://127.0.0.1:PORT/live/***': not in the allow-list"),
        (["--stream", "rtmp://evil.example/live?u=rtmp://a.rtmp.youtube.com/live2/SECRET", "--allow", youtube],
         "invalid --stream 'rtmp://evil.example/live?***': not in the allow-list"),
        (["--stream", "rtmp://A.RTMP.YOUTUBE.COM/live2/SECRETKEY", "--allow", youtube],
         "invalid --stream 'rtmp://A.RTMP.YOUTUBE.COM/live2/***': not in the allow-list"),
        (["--stream", "RTMP://a.rtmp.youtube.com/live2/SECRETKEY", "--allow", youtube],
         "invalid --stream 'RTMP://a.rtmp.youtube.com/live2/***': only rtmp:// and rtmps://"),
        (["--stream", "file:///etc/passwd"], "invalid --stream 'file:///etc/***': only rtmp:// and rtmps://"),
        (["--stream", "concat:a|b"], "invalid --stream 'concat:***': only rtmp:// and rtmps://"),
        (["--stream", "http://127.0.0.1:PORT/live/SECRETKEY"],
         "invalid --stream 'http://127.0.0.1:PORT/live/***': only rtmp:// and rtmps://"),
        (["--stream", ""], "invalid --stream '': empty URL"),
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRET KEY"],
         "invalid --stream 'rtmp://127.0.0.1:PORT/live/***': contains a space or a control character"),
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRET\u{1B}[2JKEY"],
         "invalid --stream 'rtmp://127.0.0.1:PORT/live/***': contains a space or a control character"),
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRET\nKEY"],
         "invalid --stream 'rtmp://127.0.0.1:PORT/live/***': contains a space or a control character"),
        (["--stream", "rtmp://127.0.0.1:PORT/SECRETKEY"],
         "invalid --stream 'rtmp://127.0.0.1:PORT/***': no stream name"),
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRETKEY", "--allow", "rtmp://(unclosed"],
         "invalid --allow 'rtmp://(unclosed': not a valid regular expression"),
        (["--stream", "rtmps://127.0.0.1:PORT/live/SECRETKEY", "--tls-ca", "/nonexistent/ca.pem"],
         "invalid --tls-ca '/nonexistent/ca.pem': cannot be read"),
        (["--stream", "rtmps://127.0.0.1:PORT/live/SECRETKEY", "--tls-ca", "/etc/hostname", "--insecure-tls"],
         "cannot be combined with --insecure-tls"),
        (["--stream", "rtmp://127.0.0.1:PORT/live/SECRETKEY", "--max-reconnects=-1"], "--max-reconnects"),
        (["rtmp://127.0.0.1:PORT/live/SECRETKEY"], "rtmp://127.0.0.1:PORT/live/***"),
    ])
    func badStreamInputExitsWithTwoAndOneRedactedLine(arguments: [String], expected: String) throws {
        let bench = try TestBench.current()
        let trap = try ConnectionTrap()
        let directory = try bench.scratchDirectory("bad-stream")
        let port = String(trap.port)
        let arguments = arguments.map { $0.replacingOccurrences(of: "PORT", with: port) }
        let expected = expected.replacingOccurrences(of: "PORT", with: port)
        let result = try Subprocess.run([RecorderRun.binary, "--display", bench.display, "--audio-device", bench.capturePCM,
                                         "--duration", "1", "--output", "\(directory)/never.mp4"] + arguments)
        #expect(result.status == 2, "\(arguments): \(result.standardError)")
        let lines = result.standardError.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        #expect(lines.count == 1, "one line: \(result.standardError)")
        #expect(result.standardError.contains(expected), "\(result.standardError)")
        #expect(!result.standardError.contains("SECRET"), "the key was printed: \(result.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "nothing may be written")
        #expect(trap.pendingConnections() == 0, "a connection was made")
    }

    @Test func streamingOnlyNeedsNoOutputButFinalizingDoes() throws {
        let bench = try TestBench.current()
        let trap = try ConnectionTrap()
        let result = try Subprocess.run([RecorderRun.binary, "--display", bench.display, "--no-audio", "--duration", "1",
                                         "--stream", "rtmp://127.0.0.1:\(trap.port)/live/SECRETKEY",
                                         "--finalize-script", "/bin/true"])
        #expect(result.status == 2, "\(result.standardError)")
        #expect(result.standardError.contains("--finalize-script '/bin/true': needs a file"), "\(result.standardError)")
        #expect(trap.pendingConnections() == 0)
    }
}
