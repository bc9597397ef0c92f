public import RecorderEngine

/// An ffmpeg command line of the kind Jibri runs, read into a recording
/// session's configuration.
///
/// What is taken (docs/JIBRI.md lists it with each mapping): one x11grab
/// input, at most one sound input (`-f alsa`, or `-f pulse` through ALSA's
/// `pulse` plugin), one output: an MP4 file or an `rtmp://`/`rtmps://` FLV
/// stream, encoded with libx264 and AAC, with x264's keyframe rules and own
/// parameters (`-keyint_min`, `-sc_threshold`, `-x264-params`). Options that
/// only tune ffmpeg's own machinery (`-thread_queue_size`, `-strict`,
/// `-af aresample=async=...`, `-async`, `-vsync cfr`, `-nostdin`,
/// `-hide_banner`) are accepted and need nothing: the engine's queues are
/// sized by memory, its drift correction is built in and its timeline is
/// constant-rate. Anything else is refused with an `FFmpegArgumentError` naming
/// the option.
///
/// Defaults are ffmpeg's with libx264, where Jibri's list leaves a value out:
/// preset medium, profile high, CRF 23 (x264's), a keyframe every 250
/// frames (x264's `keyint`), 30 frames per second (x11grab's is 29.97, which
/// the engine's whole rates cannot take), sound as the device delivers it
/// (48 kHz stereo) at 128 kbit/s.
public struct JibriCommand: Sendable {
    public var configuration: RecordingConfiguration
    /// `-level` as `level_idc` (31 for 3.1), when given. The engine signals
    /// the lowest level that holds the size and rate instead (see `levelNote`).
    public var requestedLevel: Int?
    /// `-v`/`-loglevel`; info unless given.
    public var logLevel: FFmpegLogLevel = .info
    /// Whether progress lines are printed: ffmpeg prints them at `info` and
    /// above, or always with `-stats`, never with `-nostats`.
    public var printsProgress = true

    /// The output is a live stream (no file).
    public var isStream: Bool { configuration.output == nil }

    /// Reads `arguments` (without the program's name). Throws
    /// `FFmpegArgumentError` naming the first option or value the engine cannot
    /// honour; opens nothing.
    public init(arguments: [String]) throws(FFmpegArgumentError) {
        let line = try FFmpegCommandLine(arguments: arguments)
        if let option = line.global(.logLevel) { logLevel = try FFmpegLogLevel(option) }
        printsProgress = !line.has(.noStats) && (line.has(.stats) || logLevel >= .info)
        // Sync: the engine stamps sound on the capture clock, corrects its
        // drift gradually and writes a constant frame rate.
        if let option = line.global(.audioSync) { try OutputMapping.checkAudioSync(option) }
        if let option = line.global(.videoSync) { try OutputMapping.checkFrameRateMode(option) }
        if line.has(.overwrite) && line.has(.noOverwrite) {
            throw FFmpegArgumentError(name: "option", value: "-n", reason: "contradicts -y (ffmpeg refuses both too)")
        }

        var video: FFmpegCommandLine.File?, sound: FFmpegCommandLine.File?
        for input in line.inputs {
            guard let format = input.option(.format) else {
                throw FFmpegArgumentError(name: "-i", value: input.url,
                                          reason: "needs -f before it: x11grab for the display, alsa or pulse for sound")
            }
            switch format.value {
            case "x11grab":
                guard video == nil else { throw format.refuse("a second x11grab input: the engine records one display") }
                video = input
            case "alsa", "pulse":
                guard sound == nil else { throw format.refuse("a second sound input: the engine records one PCM") }
                sound = input
            default:
                throw format.refuse("inputs are x11grab (the display) and alsa or pulse (sound)")
            }
        }
        guard let video else {
            throw FFmpegArgumentError(name: "-i", value: "", reason: "no x11grab input: give -f x11grab ... -i :0.0+0,0")
        }
        guard line.outputs.count == 1, let output = line.outputs.first else {
            if line.outputs.isEmpty { throw FFmpegCommandLine.missingOutput }
            throw FFmpegArgumentError(name: "output", value: line.outputs.map(\.url).joined(separator: " "),
                                      reason: "jibri-ffmpeg writes one output; got \(line.outputs.count)")
        }

        let capture = try Self.capture(video)
        var duration = try video.option(.duration).map(FFmpegValue.duration)
        var audio: PCMCaptureConfiguration?
        if let sound, output.option(.noAudio) == nil {
            audio = try Self.soundInput(sound)
            if let seconds = try sound.option(.duration).map(FFmpegValue.duration) { duration = min(duration ?? seconds, seconds) }
        }
        let mapped = try OutputMapping(output, capture: capture, audio: audio)
        configuration = RecordingConfiguration(
            capture: mapped.capture, audio: audio, audioEncoding: mapped.audioEncoding, video: mapped.video,
            output: mapped.stream == nil ? FileOutput(path: mapped.path, overwrite: line.has(.overwrite)) : nil)
        if let stream = mapped.stream { configuration.streams = [StreamOutput(url: stream)] }
        if let seconds = mapped.duration { duration = min(duration ?? seconds, seconds) }
        configuration.duration = duration.map { .seconds($0) }
        // About twice a second, as ffmpeg prints its progress.
        configuration.statisticsInterval = .milliseconds(500)
        requestedLevel = mapped.level
    }

    /// What to say about `-level` once the engine has chosen the level it
    /// signals (`RecordingStarted.level`), or nil when they agree.
    public func levelNote(chosen: H264Level, width: Int, height: Int, framesPerSecond: Int) -> String? {
        guard let requested = requestedLevel, requested != chosen.idc else { return nil }
        let asked = FFmpegValue.levelName(requested)
        let what = "\(width)x\(height) at \(framesPerSecond) fps"
        if requested < chosen.idc {
            return "-level \(asked) is too low for \(what) (ITU-T H.264 table A-1); the stream signals level \(chosen)"
        }
        return "-level \(asked) asked; the stream signals level \(chosen), the lowest that holds \(what)"
    }

    /// A refusal as one line: the engine's, said with the ffmpeg option that
    /// gave the value (`SettingKey.ffmpegOption`: the region is `-s` here),
    /// or any other error as it describes itself; stream keys taken out
    /// either way.
    public static func describe(_ error: any Error) -> String {
        StreamURL.redactURLs(in: ffmpegTerms(error)).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    }

    private static func ffmpegTerms(_ error: any Error) -> String {
        switch error {
        case let setting as InvalidSetting: "\(FFmpegArgumentError(setting))"
        case let RecordingError.configuration(setting): "\(FFmpegArgumentError(setting))"
        default: "\(error)"
        }
    }

    // MARK: Inputs

    /// The x11grab input: display, rectangle and rate.
    static func capture(_ input: FFmpegCommandLine.File) throws(FFmpegArgumentError) -> DisplayCaptureConfiguration {
        let (display, x, y) = try FFmpegValue.x11Input(input.url)
        // x11grab draws the pointer unless told not to (`-draw_mouse`
        // defaults to 1); Jibri always says 0.
        var capture = DisplayCaptureConfiguration(display: display, drawsCursor: true)
        for option in input.options {
            switch option.key {
            case .format, .duration: break
            case .frameRate: capture.framesPerSecond = try FFmpegValue.frameRate(option)
            case .size:
                let (width, height) = try FFmpegValue.size(option)
                capture.region = CaptureRegion(width: width, height: height, x: x, y: y)
            case .drawMouse:
                switch option.value {
                case "0": capture.drawsCursor = false
                case "1": capture.drawsCursor = true
                default: throw option.refuse("expected 0 or 1")
                }
            case .threadQueueSize:
                // The engine's frame queue is sized by memory (50 MB), not by entries.
                _ = try FFmpegValue.integer(option, in: 1...1_000_000, what: "a queue size")
            default:
                throw option.misplaced("the x11grab input")
            }
        }
        if capture.region == nil && (x != 0 || y != 0) {
            throw FFmpegArgumentError(name: "-i", value: input.url, reason: "an offset needs the size too: give -s WxH before -i")
        }
        return capture
    }

    /// The sound input. `-f pulse -i SOURCE` opens ALSA's `pulse` plugin PCM
    /// on that PulseAudio source (`pulse:SOURCE`; `default` is the server's
    /// default source): the engine reads sound through ALSA only.
    static func soundInput(_ input: FFmpegCommandLine.File) throws(FFmpegArgumentError) -> PCMCaptureConfiguration {
        var device = input.url
        if input.value(.format) == "pulse" {
            guard !device.contains(where: { $0 == ":" || $0 == "'" || $0 == "\"" || $0.isWhitespace }) else {
                throw FFmpegArgumentError(name: "-i", value: device, reason: "expected a PulseAudio source name")
            }
            device = device == "default" ? "pulse" : "pulse:\(device)"
        }
        var pcm = PCMCaptureConfiguration(device: device)
        for option in input.options {
            switch option.key {
            case .format, .duration: break
            case .sampleRate: pcm.sampleRate = try FFmpegValue.integer(option, in: 8_000...192_000, what: "a rate in Hz")
            case .channels: pcm.channels = try FFmpegValue.integer(option, in: 1...8, what: "a channel count")
            case .threadQueueSize:
                // The engine's sound queue holds 2.5 s whatever this says.
                _ = try FFmpegValue.integer(option, in: 1...1_000_000, what: "a queue size")
            default:
                throw option.misplaced("the sound input")
            }
        }
        do {
            try pcm.validate()
        } catch {
            throw FFmpegArgumentError(name: "-i", value: input.url, reason: error.reason)
        }
        return pcm
    }
}
