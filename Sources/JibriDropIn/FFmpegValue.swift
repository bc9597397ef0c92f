public import RecorderEngine

/// ffmpeg's value syntaxes for what Jibri's lists carry, parsed as
/// libavutil's `parseutils.c` parses them, limited to what the engine can
/// record (whole frame rates, even sizes).
enum FFmpegValue {
    /// `av_parse_video_size`'s abbreviations (libavutil/parseutils.c,
    /// `video_size_abbrs`), those a screen recording might use.
    static let sizeAbbreviations: [String: (Int, Int)] = [
        "ntsc": (720, 480), "pal": (720, 576), "qvga": (320, 240), "vga": (640, 480), "svga": (800, 600),
        "xga": (1024, 768), "sxga": (1280, 1024), "uxga": (1600, 1200), "wxga": (1366, 768), "wsxga": (1600, 1024),
        "wuxga": (1920, 1200), "woxga": (2560, 1600), "hd480": (852, 480), "hd720": (1280, 720),
        "hd1080": (1920, 1080), "quadhd": (2560, 1440), "nhd": (640, 360), "qhd": (960, 540), "uhd2160": (3840, 2160),
    ]

    /// `WxH` or an abbreviation (`hd1080`).
    static func size(_ option: FFmpegOption) throws(FFmpegArgumentError) -> (width: Int, height: Int) {
        let text = option.value ?? ""
        if let size = sizeAbbreviations[text] { return size }
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width > 0, height > 0 else {
            throw option.refuse("expected WxH, e.g. 1920x1080")
        }
        guard width % 2 == 0, height % 2 == 0 else { throw option.refuse("width and height must be even (4:2:0 video)") }
        return (width, height)
    }

    /// A frame rate the engine records: a whole number of frames per second
    /// from 1 to 120, written `30`, `30/1`, `30.0`, `pal` (25) or `film` (24).
    static func frameRate(_ option: FFmpegOption) throws(FFmpegArgumentError) -> Int {
        let text = option.value ?? ""
        let named = ["pal": 25, "film": 24, "qpal": 25, "spal": 25]
        var rate: Double?
        if let value = named[text] {
            rate = Double(value)
        } else if let slash = text.firstIndex(of: "/") {
            if let numerator = Double(text[..<slash]), let denominator = Double(text[text.index(after: slash)...]),
               denominator > 0 { rate = numerator / denominator }
        } else if text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            rate = Double(text)
        }
        guard let rate, rate.rounded() == rate, (1...120).contains(rate) else {
            throw option.refuse("expected a whole number of frames per second from 1 to 120 (the engine records constant whole rates)")
        }
        return Int(rate)
    }

    /// An integer in `range`.
    static func integer(_ option: FFmpegOption, in range: ClosedRange<Int>, what: String) throws(FFmpegArgumentError) -> Int {
        guard let text = option.value, let value = Int(text), range.contains(value) else {
            throw option.refuse("expected \(what) from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A duration as `av_parse_time` reads one: `[-][HH:]MM:SS[.m...]` or
    /// `S+[.m...][s|ms|us]`; must be positive.
    static func duration(_ option: FFmpegOption) throws(FFmpegArgumentError) -> Double {
        let text = option.value ?? ""
        func refuse() -> FFmpegArgumentError {
            option.refuse("expected a positive duration: seconds (20, 1.5, 500ms) or [HH:]MM:SS[.xx]")
        }
        func number(_ part: Substring) -> Double? {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  part.filter({ $0 == "." }).count <= 1, part.first != "." else { return nil }
            return Double(part)
        }
        var seconds: Double?
        if text.contains(":") {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 3, parts.dropLast().allSatisfy({ !$0.contains(".") }) else { throw refuse() }
            var total = 0.0
            for part in parts {
                guard let value = number(part) else { throw refuse() }
                total = total * 60 + value
            }
            seconds = total
        } else {
            var body = Substring(text), scale = 1.0
            if body.hasSuffix("ms") { body = body.dropLast(2); scale = 1e-3 }
            else if body.hasSuffix("us") { body = body.dropLast(2); scale = 1e-6 }
            else if body.hasSuffix("s") { body = body.dropLast() }
            seconds = number(body).map { $0 * scale }
        }
        guard let seconds, seconds > 0, seconds.isFinite else { throw refuse() }
        return seconds
    }

    /// An H.264 level as x264 reads `-level`: `3.1`, `31`, `4`, `4.0`, `1b`;
    /// its `level_idc` (31, 40; 9 for 1b).
    static func level(_ option: FFmpegOption) throws(FFmpegArgumentError) -> Int {
        let text = option.value ?? ""
        let valid = [9, 10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52, 60, 61, 62]
        var idc: Int?
        if text == "1b" {
            idc = 9
        } else if let dot = text.firstIndex(of: "."), let major = Int(text[..<dot]),
                  let minor = Int(text[text.index(after: dot)...]), (0...9).contains(minor), text.count == 3 {
            idc = major * 10 + minor
        } else if let whole = Int(text) {
            idc = whole < 10 ? whole * 10 : whole
        }
        guard let idc, valid.contains(idc) else {
            throw option.refuse("expected an H.264 level such as 3.1, 4.0 or 41 (ITU-T H.264 table A-1)")
        }
        return idc
    }

    /// `level_idc` written as levels are (`4.0`, `3.1`, `1b`).
    static func levelName(_ idc: Int) -> String {
        idc == 9 ? "1b" : "\(idc / 10).\(idc % 10)"
    }

    /// An x11grab input, `[host]:display[.screen][+x,y]` (libavdevice's
    /// xcbgrab): the display name and the offset of the grabbed rectangle.
    static func x11Input(_ url: String) throws(FFmpegArgumentError) -> (display: String, x: Int, y: Int) {
        func refuse(_ reason: String) -> FFmpegArgumentError { FFmpegArgumentError(name: "-i", value: url, reason: reason) }
        let parts = url.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        let display = String(parts[0])
        guard display.contains(":"), !display.contains(where: { $0.isWhitespace }) else {
            throw refuse("expected an X display such as :0.0+0,0")
        }
        guard parts.count == 2 else { return (display, 0, 0) }
        let offset = parts[1].split(separator: ",", omittingEmptySubsequences: false)
        guard offset.count == 2, let x = Int(offset[0]), let y = Int(offset[1]), x >= 0, y >= 0 else {
            throw refuse("expected the offset as +X,Y, e.g. :0.0+0,0")
        }
        return (display, x, y)
    }
}
