import CX264
import MediaCore

/// One x264 parameter by x264's own name and value (`x264_param_parse`, as
/// `x264 --fullhelp` lists them and ffmpeg's `-x264-params` passes them),
/// checked when made: x264 must know the name and take the value, and the
/// engine must not be the one that sets it.
public struct X264Parameter: Sendable, Equatable {
    /// The name as x264 reads it (`_` written as `-`).
    public let name: String
    public let value: String

    /// Throws `InvalidSetting` (key `x264Parameter`) when the engine sets
    /// this parameter itself (see `reserved`), or x264 does not know the name
    /// or refuses the value.
    public init(name: String, value: String) throws {
        let name = name.replacingUnderscores()
        let bare = name.hasPrefix("no-") ? String(name.dropFirst(3)) : name
        if let reason = Self.reserved[name] ?? Self.reserved[bare] {
            throw InvalidSetting(.x264Parameter, value: "\(name)=\(value)", reason: reason)
        }
        var param = x264_param_t()
        x264_param_default(&param)
        let status = x264_param_parse(&param, name, value)
        x264_param_cleanup(&param)
        switch status {
        case 0: break
        case X264_PARAM_BAD_NAME:
            throw InvalidSetting(.x264Parameter, value: "\(name)=\(value)", reason: "x264 has no parameter of that name")
        default:
            throw InvalidSetting(.x264Parameter, value: "\(name)=\(value)", reason: "x264 refuses that value")
        }
        self.name = name
        self.value = value
    }

    /// Parameters the engine sets itself, each with why: those it takes as
    /// its own settings (the GOP, rate control, threads, level, keyframe
    /// rules), and those its outputs depend on (a constant frame rate,
    /// progressive 8-bit 4:2:0 with the VUI of its colour conversion, closed
    /// GOPs with IDR keyframes to cut files and segments at, headers out of
    /// band for MP4 and FLV) or that write files of their own.
    public static let reserved: [String: String] = {
        var reasons: [String: String] = [:]
        let own: [(String, String)] = [
            ("keyint", "the GOP (-g)"), ("min-keyint", "the keyframe minimum (-keyint_min)"),
            ("keyint-min", "the keyframe minimum (-keyint_min)"), ("scenecut", "the scene-cut threshold (-sc_threshold)"),
            ("crf", "the CRF (-crf)"), ("bitrate", "the bit rate (-b:v)"), ("vbv-maxrate", "the VBV rate (-maxrate)"),
            ("vbv-bufsize", "the VBV buffer (-bufsize)"), ("threads", "the threads (-threads)"), ("level", "the level (-level)"),
        ]
        for (name, setting) in own { reasons[name] = "give it as \(setting), which the engine sets" }
        let fixed: [(String, String)] = [
            ("fps", "the engine's frame rate is the capture's"), ("force-cfr", "the engine's timeline is constant-rate"),
            ("interlaced", "the engine encodes progressive pictures"), ("tff", "the engine encodes progressive pictures"),
            ("bff", "the engine encodes progressive pictures"), ("fake-interlaced", "the engine encodes progressive pictures"),
            ("pic-struct", "the engine encodes progressive pictures"),
            ("open-gop", "files, segments and streams are cut at IDR keyframes (closed GOPs)"),
            ("intra-refresh", "files, segments and streams are cut at IDR keyframes, which intra refresh leaves out"),
            ("repeat-headers", "MP4 and FLV carry the headers once, out of band"),
            ("annexb", "MP4 and FLV carry the headers once, out of band"),
            ("input-csp", "the engine encodes 8-bit 4:2:0"), ("output-csp", "the engine encodes 8-bit 4:2:0"),
            ("input-depth", "the engine encodes 8-bit 4:2:0"), ("output-depth", "the engine encodes 8-bit 4:2:0"),
            ("bitdepth", "the engine encodes 8-bit 4:2:0"),
            ("sar", "the engine's pixels are the screen's, square"),
            ("fullrange", "the VUI says what the engine's colour conversion did"),
            ("colorprim", "the VUI says what the engine's colour conversion did"),
            ("transfer", "the VUI says what the engine's colour conversion did"),
            ("colormatrix", "the VUI says what the engine's colour conversion did"),
            ("pass", "two-pass encoding reads and writes files of its own"),
            ("stats", "two-pass encoding reads and writes files of its own"),
            ("dump-yuv", "it writes a file of its own"),
        ]
        for (name, reason) in fixed { reasons[name] = "not taken: \(reason)" }
        return reasons
    }()
}

private extension String {
    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}
