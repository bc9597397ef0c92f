import Foundation

/// Jibri's reading of an ffmpeg line, as its source has it (jitsi/jibri,
/// `capture/ffmpeg/OutputParser.kt` and `util/RegexUtils.kt`): each pattern
/// must match the whole line (`Matcher.matches()`), tried in this order.
///
/// Written from Jibri's source for the tests, apart from the program's own
/// guard (`JibriLine` in JibriDropIn), so that a mistake in one is caught by
/// the other. NSRegularExpression (ICU) reads these patterns as
/// `java.util.regex` does for ASCII text.
public enum JibriOutputParser {
    /// What Jibri concludes from one line.
    public enum Classification: Equatable, Sendable {
        case unknown
        /// An ffmpeg progress line: the capturer is (or goes to) running.
        case encoding
        /// `Exiting ... signal 2`: ffmpeg was stopped as Jibri stops it.
        case finished
        case error(JibriError)
    }

    // FFMPEG_EXITED_LINE = "Exiting.*signal$ZERO_OR_MORE_SPACES($ONE_OR_MORE_DIGITS).*"
    static let exited = try! NSRegularExpression(pattern: #"Exiting.*signal\s*(\d+).*"#)
    // FFMPEG_ENCODING_LINE = "($FFMPEG_OUTPUT_FIELD)+$ZERO_OR_MORE_SPACES", with
    // FFMPEG_OUTPUT_FIELD = "\s*(\S+)\s*=\s*(\S+)"
    static let encoding = try! NSRegularExpression(pattern: #"(\s*(\S+)\s*=\s*(\S+))+\s*"#)
    // BAD_RTMP_URL = "rtmp://.*Input/output error"
    static let badRTMPURL = try! NSRegularExpression(pattern: #"rtmp://.*Input/output error"#)
    // BROKEN_PIPE = ".*Broken pipe.*"
    static let brokenPipe = try! NSRegularExpression(pattern: #".*Broken pipe.*"#)

    /// `OutputParser.parse`: exited first (signal 2 finished, any other an
    /// unexpected signal), then encoding, then the error lines, else unknown.
    public static func classify(_ line: String) -> Classification {
        if let match = wholeMatch(exited, line) {
            let signal = Int((line as NSString).substring(with: match.range(at: 1))) ?? -1
            return signal == 2 ? .finished : .error(.unexpectedSignal)
        }
        if wholeMatch(encoding, line) != nil { return .encoding }
        if wholeMatch(badRTMPURL, line) != nil { return .error(.badRtmpUrl) }
        if wholeMatch(brokenPipe, line) != nil { return .error(.brokenPipe) }
        return .unknown
    }

    private static func wholeMatch(_ pattern: NSRegularExpression, _ line: String) -> NSTextCheckingResult? {
        let range = NSRange(line.startIndex..., in: line)
        guard let match = pattern.firstMatch(in: line, options: [.anchored], range: range),
              match.range == range else { return nil }
        return match
    }
}

/// The errors Jibri's ffmpeg capturer can end in (`capture/ffmpeg/Errors.kt`).
public enum JibriError: Equatable, Sendable {
    /// `BadRtmpUrl`: session scope, and `shouldRetry()` is false.
    case badRtmpUrl
    case brokenPipe
    /// `FfmpegUnexpectedSignal`: an `Exiting ... signal N` line with N != 2.
    case unexpectedSignal
    /// `QuitUnexpectedly`: the process exited and its last line was a
    /// progress line or an unknown one.
    case quitUnexpectedly
}
