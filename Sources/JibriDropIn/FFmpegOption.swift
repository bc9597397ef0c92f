public import RecorderEngine

/// One option as written on an ffmpeg command line: `-name value`, or
/// `-name` alone for a flag, under the spelling the command used.
public struct FFmpegOption: Sendable, Equatable {
    public let key: Key
    /// The spelling as given, with its dash (`-c:v`, `-vcodec`): what a
    /// refusal names.
    public let spelling: String
    /// The value that followed, or nil for a flag.
    public let value: String?

    /// What an option means, whichever of ffmpeg's spellings named it.
    public enum Key: Sendable, Equatable {
        // Global: may stand anywhere.
        case overwrite, noOverwrite, logLevel, noStdin, stdin, hideBanner, stats, noStats, audioSync, videoSync
        // Per file: apply to the next input (`-i`) or to the output.
        case format, frameRate, size, drawMouse, threadQueueSize, sampleRate, channels
        case videoCodec, audioCodec, videoBitrate, audioBitrate, strict, audioFilter, pixelFormat
        case crf, preset, tune, profile, level, gop, maxrate, bufsize, threads, duration, timestamp, movflags
        case noAudio, keyframeMinimum, sceneCut, x264Parameters, x264Options, frameRateMode

        var isGlobal: Bool {
            switch self {
            case .overwrite, .noOverwrite, .logLevel, .noStdin, .stdin, .hideBanner, .stats, .noStats, .audioSync, .videoSync:
                return true
            default: return false
            }
        }

        var takesValue: Bool {
            switch self {
            case .overwrite, .noOverwrite, .noStdin, .stdin, .hideBanner, .stats, .noStats, .noAudio: return false
            default: return true
            }
        }
    }

    /// Every spelling jibri-ffmpeg takes, as ffmpeg 5.1 to 7.x spell them:
    /// the fftools options (`-y`, `-c:v`, `-af`...), the AVCodecContext and
    /// libx264 options Jibri's lists use (`-crf`, `-preset`, `-maxrate`...), and
    /// the x11grab and ALSA demuxer options (`-draw_mouse`, `-framerate`,
    /// `-video_size`, `-sample_rate`, `-channels`). A stream specifier is
    /// accepted where it names the only stream of that kind (`-b:a`, `-profile:v`).
    static let spellings: [String: Key] = [
        "y": .overwrite, "n": .noOverwrite, "v": .logLevel, "loglevel": .logLevel, "nostdin": .noStdin,
        "stdin": .stdin, "hide_banner": .hideBanner, "stats": .stats, "nostats": .noStats,
        "f": .format,
        "r": .frameRate, "r:v": .frameRate, "framerate": .frameRate,
        "s": .size, "s:v": .size, "video_size": .size,
        "draw_mouse": .drawMouse, "thread_queue_size": .threadQueueSize,
        "ar": .sampleRate, "ar:a": .sampleRate, "sample_rate": .sampleRate,
        "ac": .channels, "ac:a": .channels, "channels": .channels,
        "c:v": .videoCodec, "codec:v": .videoCodec, "vcodec": .videoCodec,
        "c:a": .audioCodec, "codec:a": .audioCodec, "acodec": .audioCodec,
        "b:v": .videoBitrate, "b:a": .audioBitrate, "ab": .audioBitrate,
        "strict": .strict, "strict:a": .strict,
        "af": .audioFilter, "filter:a": .audioFilter,
        "pix_fmt": .pixelFormat, "pix_fmt:v": .pixelFormat,
        "crf": .crf, "crf:v": .crf, "preset": .preset, "preset:v": .preset, "tune": .tune, "tune:v": .tune,
        "profile:v": .profile, "profile": .profile, "level": .level, "level:v": .level,
        "g": .gop, "g:v": .gop, "maxrate": .maxrate, "maxrate:v": .maxrate, "bufsize": .bufsize, "bufsize:v": .bufsize,
        "threads": .threads, "t": .duration, "timestamp": .timestamp, "movflags": .movflags, "an": .noAudio,
        // libx264's keyframe rules and x264's own parameters; the sync
        // options (`-async`, `-vsync` global in ffmpeg 5.1; `-fps_mode` per output).
        "keyint_min": .keyframeMinimum, "keyint_min:v": .keyframeMinimum,
        "sc_threshold": .sceneCut, "sc_threshold:v": .sceneCut,
        "x264-params": .x264Parameters, "x264-params:v": .x264Parameters, "x264opts": .x264Options, "x264opts:v": .x264Options,
        "async": .audioSync, "vsync": .videoSync, "fps_mode": .frameRateMode, "fps_mode:v": .frameRateMode,
    ]

    /// A refusal of this option's value: `invalid -crf 'abc': reason`.
    func refuse(_ reason: String) -> FFmpegArgumentError {
        FFmpegArgumentError(name: spelling, value: value ?? "", reason: reason)
    }

    /// A refusal of the option where it stands: it does not apply there.
    func misplaced(_ place: String) -> FFmpegArgumentError {
        FFmpegArgumentError(name: "option", value: spelling, reason: "does not apply to \(place)")
    }
}
