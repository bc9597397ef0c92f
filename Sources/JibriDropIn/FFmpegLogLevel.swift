public import RecorderEngine

/// ffmpeg's `-v`/`-loglevel`: which of jibri-ffmpeg's lines are printed.
/// Values as libavutil's `log.h` numbers them; names as fftools
/// (`cmdutils.c`, `opt_loglevel`) accepts them, with its `repeat+` and
/// `level+` flags (accepted and ignored).
public struct FFmpegLogLevel: Sendable, Comparable {
    public let value: Int

    public static let quiet = FFmpegLogLevel(value: -8)
    public static let panic = FFmpegLogLevel(value: 0)
    public static let fatal = FFmpegLogLevel(value: 8)
    public static let error = FFmpegLogLevel(value: 16)
    public static let warning = FFmpegLogLevel(value: 24)
    public static let info = FFmpegLogLevel(value: 32)
    public static let verbose = FFmpegLogLevel(value: 40)
    public static let debug = FFmpegLogLevel(value: 48)
    public static let trace = FFmpegLogLevel(value: 56)

    static let names: [String: FFmpegLogLevel] = [
        "quiet": .quiet, "panic": .panic, "fatal": .fatal, "error": .error, "warning": .warning,
        "info": .info, "verbose": .verbose, "debug": .debug, "trace": .trace,
    ]

    init(value: Int) { self.value = value }

    init(_ option: FFmpegOption) throws(FFmpegArgumentError) {
        var text = Substring(option.value ?? "")
        // Flags first: "repeat+level+info", "+repeat+info".
        while let plus = text.firstIndex(of: "+") {
            let flag = text[..<plus].drop { $0 == "+" || $0 == "-" }
            guard flag.isEmpty || flag == "repeat" || flag == "level" else { break }
            text = text[text.index(after: plus)...]
        }
        if let level = Self.names[String(text)] {
            self = level
        } else if let number = Int(text) {
            self.init(value: number)
        } else {
            throw option.refuse("expected quiet, panic, fatal, error, warning, info, verbose, debug, trace or a number")
        }
    }

    public static func < (lhs: FFmpegLogLevel, rhs: FFmpegLogLevel) -> Bool { lhs.value < rhs.value }
}
