/// The lines Jibri acts on, and a guard that keeps every other line from
/// looking like one of them.
///
/// Jibri reads the program's stdout and stderr merged, line by line, and
/// classifies each line whole (`OutputParser.kt`, checked in this order):
///
/// | rule | Jibri concludes |
/// |---|---|
/// | `Exiting.*signal\s*(\d+).*` | finished if the signal is 2, else an error |
/// | `(\s*(\S+)\s*=\s*(\S+))+\s*` | encoding (the first moves it to running) |
/// | `rtmp://.*Input/output error` | a bad RTMP URL: an error it does not retry |
/// | `.*Broken pipe.*` | a broken pipe: an error |
///
/// Only the progress line, `finished(signal:)` and `badURL(_:)` may match;
/// everything else jibri-ffmpeg prints goes through `neutralized(_:)`. The
/// rules are written here from Jibri's source; the tests check the program's
/// output against an independent copy in TestSupport (`JibriOutputParser`).
public enum JibriLine {
    /// What ffmpeg prints when a signal stopped it (`ffmpeg_cleanup`), and
    /// what tells Jibri that the recording finished (signal 2, SIGINT).
    public static func finished(signal: Int32) -> String {
        "Exiting normally, received signal \(signal)."
    }

    /// ffmpeg's line for an output it could not open (`print_error`:
    /// `URL: message`), as a server refusing the stream gives it. `url` must
    /// already be redacted: the stream key never reaches a log.
    public static func badURL(_ redactedURL: String) -> String {
        "\(redactedURL): Input/output error"
    }

    // Made on each use (Regex is not Sendable); lines to check are rare.
    static var exited: Regex<(Substring, Substring)> { #/Exiting.*signal\s*(\d+).*/# }
    static var encoding: Regex<(Substring, Substring, Substring, Substring)> { #/(\s*(\S+)\s*=\s*(\S+))+\s*/# }
    static var badRTMPURL: Regex<Substring> { #/rtmp://.*Input/output error/# }
    static var brokenPipe: Regex<Substring> { #/.*Broken pipe.*/# }

    /// True when Jibri would read `line` as anything but an unknown line.
    public static func isSignificant(_ line: String) -> Bool {
        line.wholeMatch(of: exited) != nil || line.wholeMatch(of: encoding) != nil
            || line.wholeMatch(of: badRTMPURL) != nil || line.wholeMatch(of: brokenPipe) != nil
    }

    /// `line` made unknown to Jibri, for everything that is neither a
    /// progress line nor one of the two lines above: a library's error line,
    /// a warning, a stream's reconnection. "Broken pipe" becomes "broken
    /// pipe" (Jibri's rule is case-sensitive): a stream that lost its server
    /// reconnects, and Jibri must not end the session for it. A line still
    /// matching a rule gets the program's name in front, which the anchored
    /// rules cannot match.
    public static func neutralized(_ line: String) -> String {
        var text = line.replacing("Broken pipe", with: "broken pipe")
        if isSignificant(text) { text = "jibri-ffmpeg: " + text }
        return text
    }
}
