import RecorderEngine

/// A `--rendition NAME:SPEC` option: a named encode of the capture that
/// outputs take with `@NAME` (`--stream URL@NAME`, `--output FILE@NAME`,
/// `--hls PLAYLIST@NAME`).
///
/// SPEC is comma-separated: a size `WxH` (none: the capture's), and
/// `preset=`, `tune=`, `profile=`, `crf=`, `maxrate=`, `bufsize=`,
/// `bitrate=`, `gop=`, `threads=`, and `letterbox` or `stretch`. A rendition
/// starts from the engine's defaults (ultrafast, crf 25, main, gop 60,
/// letterbox, or --stretch), not from the main rendition's options. Given
/// `maxrate` and no `crf`, rate control is x264's own (CRF 23) capped by
/// the VBV, as ffmpeg's `-maxrate -bufsize` streaming lines give; `bitrate`
/// is an average bit rate. For example
/// `live:1280x720,preset=veryfast,tune=zerolatency,maxrate=2976k,bufsize=5952k`.
struct RenditionSpec {
    let rendition: VideoRendition

    init(parsing text: String, stretch: Bool) throws {
        func refuse(_ reason: String) -> OptionError {
            OptionError(option: "--rendition", value: text, reason: reason)
        }
        guard let colon = text.firstIndex(of: ":") else {
            throw refuse("expected NAME:SPEC, e.g. live:1280x720,preset=veryfast,maxrate=2976k")
        }
        let name = String(text[..<colon])
        guard VideoRendition.isValidName(name) else {
            throw refuse("the name must be 1 to 32 characters from A-Z a-z 0-9 _ -")
        }
        guard name != VideoRendition.mainName else {
            throw refuse("'main' is the rendition the other encoding options set (--size, --preset, --crf...)")
        }
        var options = VideoEncodingOptions()
        options.scaling = stretch ? .stretch : .letterbox
        var crfGiven = false
        for item in text[text.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            func value() throws -> String {
                guard parts.count == 2, !parts[1].isEmpty else { throw refuse("'\(item)' needs a value (\(parts[0])=...)") }
                return parts[1]
            }
            func number(in range: ClosedRange<Int>) throws -> Int {
                let text = try value()
                guard let number = Int(text), range.contains(number) else {
                    throw refuse("\(parts[0]) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                }
                return number
            }
            func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws -> T where T.RawValue == String {
                let text = try value()
                guard let choice = T(rawValue: text) else {
                    throw refuse("\(parts[0]) must be one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return choice
            }
            func bitrate() throws -> Int {
                do {
                    return try VideoEncoderSettings.parseBitrate(try value(), key: .bitrate)
                } catch let error as InvalidSetting {
                    throw refuse("\(parts[0]): \(error.reason)")
                }
            }
            switch parts[0] {
            case "" where parts.count == 1:
                throw refuse("an empty item")
            case "letterbox" where parts.count == 1: options.scaling = .letterbox
            case "stretch" where parts.count == 1: options.scaling = .stretch
            case _ where parts.count == 1 && parts[0].contains("x"):
                do {
                    options.size = try PictureSize(parsing: parts[0], key: .size)
                } catch {
                    throw refuse(error.reason)
                }
                do {
                    try options.size!.validate(key: .size)
                } catch {
                    throw refuse(error.reason)
                }
            case "preset": options.preset = try choice(VideoEncoderSettings.Preset.self)
            case "tune": options.tune = try choice(VideoEncoderSettings.Tune.self)
            case "profile": options.profile = try choice(VideoEncoderSettings.Profile.self)
            case "crf":
                options.crf = try number(in: 1...51)
                crfGiven = true
            case "maxrate": options.maxrate = try bitrate()
            case "bufsize": options.bufsize = try bitrate()
            case "bitrate": options.bitrate = try bitrate()
            case "gop": options.gop = try number(in: 1...100_000)
            case "threads": options.threads = try number(in: 0...64)
            default:
                throw refuse("unknown item '\(item)' (a size WxH, preset=, tune=, profile=, crf=, maxrate=, bufsize=, "
                             + "bitrate=, gop=, threads=, letterbox or stretch)")
            }
        }
        // No crf with a VBV or an average rate: x264's own rate control
        // under them, as ffmpeg's streaming command lines give it.
        if !crfGiven && (options.maxrate != nil || options.bitrate != nil) { options.crf = nil }
        rendition = VideoRendition(name: name, options: options)
    }

    /// Splits `OUTPUT@NAME` into the output and the rendition it names, when
    /// what follows the last `@` is a rendition name (letters, digits, `_`,
    /// `-`): `rtmp://u:p@host/app/key` and `meeting@2x.mp4` name none.
    static func split(_ text: String) -> (output: String, rendition: String?) {
        guard let at = text.lastIndex(of: "@") else { return (text, nil) }
        let name = String(text[text.index(after: at)...])
        guard VideoRendition.isValidName(name), at != text.startIndex else { return (text, nil) }
        return (String(text[..<at]), name)
    }
}
