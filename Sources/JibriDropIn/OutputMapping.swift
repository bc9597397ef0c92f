import RecorderEngine

/// The output of a Jibri command line: where it goes and how it is encoded.
struct OutputMapping {
    var capture: DisplayCaptureConfiguration
    var video = VideoEncodingOptions()
    var audioEncoding: AudioEncoderSettings
    /// The MP4 file's path, exactly as given (Jibri looks for it there).
    var path = ""
    /// The stream URL, for an `rtmp://` or `rtmps://` output.
    var stream: String?
    var duration: Double?
    /// `-level` as `level_idc`.
    var level: Int?

    /// x264's defaults as ffmpeg leaves them when an option is not given.
    static let x264DefaultKeyframeInterval = 250

    init(_ output: FFmpegCommandLine.File, capture: DisplayCaptureConfiguration,
         audio: PCMCaptureConfiguration?) throws(FFmpegArgumentError) {
        self.capture = capture
        video.preset = .medium
        video.profile = .high
        video.crf = nil
        video.gop = Self.x264DefaultKeyframeInterval
        (path, stream) = try Self.place(output)

        var sampleRate = audio?.sampleRate ?? 48_000, channels = audio?.channels ?? 2, audioBitrate = 128_000
        for option in output.options {
            let value = option.value ?? ""
            switch option.key {
            case .format:
                break  // checked with the URL
            case .videoCodec:
                guard value == "libx264" || value == "h264" else { throw option.refuse("the engine encodes video with libx264 only") }
            case .audioCodec:
                guard value == "aac" else { throw option.refuse("the engine encodes sound with AAC only (libavcodec's aac)") }
            case .strict:
                // `-strict -2` once let ffmpeg use its then-experimental AAC encoder.
                let levels = ["very", "strict", "normal", "unofficial", "experimental", "-2", "-1", "0", "1", "2"]
                guard levels.contains(value) else { throw option.refuse("expected one of \(levels.joined(separator: ", "))") }
            case .audioFilter:
                try Self.checkAudioFilter(option)
            case .pixelFormat:
                guard value == "yuv420p" else { throw option.refuse("the engine encodes yuv420p only") }
            case .frameRate:
                self.capture.framesPerSecond = try FFmpegValue.frameRate(option)
            case .size:
                let (width, height) = try FFmpegValue.size(option)
                guard let region = capture.region, region.width == width, region.height == height else {
                    throw option.refuse("the engine does not scale: the output size must be the x11grab input's -s")
                }
            case .crf:
                guard let crf = Double(value), crf.rounded() == crf, (0...51).contains(crf) else {
                    throw option.refuse("expected a whole constant rate factor from 0 to 51")
                }
                video.crf = Int(crf)
            case .videoBitrate:
                // As in libx264 through ffmpeg: average bit rate, unless -crf is given, which wins.
                video.bitrate = try Self.bitrate(option)
            case .preset:
                video.preset = try Self.choice(option, VideoEncoderSettings.Preset.self)
            case .tune:
                video.tune = try Self.choice(option, VideoEncoderSettings.Tune.self)
            case .profile:
                video.profile = try Self.choice(option, VideoEncoderSettings.Profile.self)
            case .level:
                level = try FFmpegValue.level(option)
            case .gop:
                video.gop = try FFmpegValue.integer(option, in: 1...100_000, what: "a number of frames")
            case .maxrate:
                video.maxrate = try Self.bitrate(option)
            case .bufsize:
                video.bufsize = try Self.bitrate(option)
            case .threads:
                video.threads = try FFmpegValue.integer(option, in: 0...64, what: "a thread count (0: the engine's choice)")
            case .sampleRate:
                sampleRate = try FFmpegValue.integer(option, in: 8_000...96_000, what: "a rate in Hz")
            case .channels:
                channels = try FFmpegValue.integer(option, in: 1...2, what: "a channel count")
            case .audioBitrate:
                audioBitrate = try Self.bitrate(option)
            case .duration:
                duration = try FFmpegValue.duration(option)
            case .timestamp:
                guard value == "now" else { throw option.refuse("jibri-ffmpeg takes -timestamp now only") }
            case .movflags:
                // The finished file has its index before the media already.
                let flags = value.split(separator: "+").filter { !$0.isEmpty }
                guard !flags.isEmpty, flags.allSatisfy({ $0 == "faststart" }) else {
                    throw option.refuse("only +faststart is taken (a finished recording has moov before mdat)")
                }
            case .keyframeMinimum:
                video.x264.keyframeMinimum = try FFmpegValue.integer(option, in: 0...100_000, what: "a number of frames")
            case .sceneCut:
                // libx264 through ffmpeg: a negative threshold leaves x264's own.
                let threshold = try FFmpegValue.integer(option, in: -1...100, what: "a scene-cut threshold (0: none)")
                video.x264.sceneCut = threshold < 0 ? nil : threshold
            case .x264Parameters, .x264Options:
                try Self.mapX264(option, video: &video, level: &level)
            case .frameRateMode:
                try Self.checkFrameRateMode(option)
            case .threadQueueSize, .noAudio:
                break
            case .drawMouse:
                throw option.misplaced("the output (it is an x11grab input option)")
            default:
                throw option.misplaced("the output")
            }
        }
        do {
            audioEncoding = try AudioEncoderSettings(sampleRate: sampleRate, channels: channels, bitrate: audioBitrate)
        } catch let error as InvalidSetting {
            throw FFmpegArgumentError(error)
        } catch {
            throw FFmpegArgumentError(name: "-b:a", value: "\(audioBitrate)", reason: "\(error)")
        }
    }

    /// The output URL and format: an MP4 file's path, or the URL of an FLV
    /// stream to an RTMP(S) server.
    private static func place(_ output: FFmpegCommandLine.File) throws(FFmpegArgumentError) -> (path: String, stream: String?) {
        var url = output.url
        let format = output.option(.format)
        let isStream = url.hasPrefix("rtmp://") || url.hasPrefix("rtmps://")
        if url.hasPrefix("file:") { url.removeFirst(5) }
        func refuse(_ reason: String) -> FFmpegArgumentError { FFmpegArgumentError(name: "output", value: output.url, reason: reason) }
        guard url != "-", url != "pipe:", !url.hasPrefix("pipe:") else { throw refuse("the engine cannot write to a pipe") }
        if isStream {
            if let format, format.value != "flv" { throw format.refuse("a stream is sent as FLV: use -f flv") }
            return ("", url)
        }
        guard !url.contains("://") else { throw refuse("expected an MP4 file path or an rtmp:// or rtmps:// URL") }
        guard !url.isEmpty else { throw refuse("empty output path") }
        if let format {
            guard format.value == "mp4" else {
                throw format.refuse(format.value == "flv" ? "FLV goes to rtmp:// or rtmps:// streams only; files are MP4"
                                    : "the engine writes MP4 files and FLV streams")
            }
        } else if !url.lowercased().hasSuffix(".mp4") {
            throw refuse("cannot tell the format: give -f mp4")
        }
        return (url, nil)
    }

    /// `-x264-params name=value:...` (or `-x264opts`, where a name alone is
    /// `name=1`): the GOP, rate control, threads, level and keyframe rules
    /// go to the engine's own settings, as their ffmpeg options would; any
    /// other parameter x264 takes is passed to it (`X264Parameter`), unless
    /// the engine sets it itself.
    private static func mapX264(_ option: FFmpegOption, video: inout VideoEncodingOptions,
                                level: inout Int?) throws(FFmpegArgumentError) {
        for pair in (option.value ?? "").split(separator: ":") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = String(parts[0].map { $0 == "_" ? "-" : $0 })
            guard parts.count == 2 || option.key == .x264Options else {
                throw option.refuse("'\(pair)' has no value: write name=value, separated by ':'")
            }
            let value = parts.count == 2 ? String(parts[1]) : "1"
            let part = FFmpegOption(key: option.key, spelling: "\(option.spelling) \(name)", value: value)
            switch name {
            case "keyint":
                guard value != "infinite" else {
                    throw option.refuse("keyint=infinite: the engine cuts files, segments and stream resumes at keyframes")
                }
                video.gop = try FFmpegValue.integer(part, in: 1...100_000, what: "a number of frames")
            case "min-keyint", "keyint-min":
                video.x264.keyframeMinimum = try FFmpegValue.integer(part, in: 0...100_000, what: "a number of frames")
            case "scenecut":
                video.x264.sceneCut = try FFmpegValue.integer(part, in: 0...100, what: "a scene-cut threshold (0: none)")
            case "no-scenecut":
                video.x264.sceneCut = 0
            case "crf":
                guard let crf = Double(value), crf.rounded() == crf, (1...51).contains(crf) else {
                    throw part.refuse("expected a whole constant rate factor from 1 to 51")
                }
                video.crf = Int(crf)
            case "bitrate":
                video.bitrate = try FFmpegValue.integer(part, in: 1...10_000_000, what: "kbit/s") * 1000
                video.crf = nil
            case "vbv-maxrate":
                video.maxrate = try FFmpegValue.integer(part, in: 1...10_000_000, what: "kbit/s") * 1000
            case "vbv-bufsize":
                video.bufsize = try FFmpegValue.integer(part, in: 1...10_000_000, what: "kbit") * 1000
            case "threads":
                video.threads = value == "auto" ? 0 : try FFmpegValue.integer(part, in: 0...64, what: "a thread count")
            case "level":
                level = try FFmpegValue.level(part)
            default:
                do {
                    video.x264.parameters.append(try X264Parameter(name: name, value: value))
                } catch let error as InvalidSetting {
                    throw option.refuse("\(error.value): \(error.reason)")
                } catch {
                    throw option.refuse("\(name)=\(value): \(error)")
                }
            }
        }
    }

    /// `-fps_mode` (`-vsync`): what the engine does is constant frame rate,
    /// every frame at n/fps, a late grab repeating the picture (counted).
    static func checkFrameRateMode(_ option: FFmpegOption) throws(FFmpegArgumentError) {
        switch option.value ?? "" {
        case "cfr", "1", "auto", "-1":
            break
        case "vfr", "2", "passthrough", "0", "drop":
            throw option.refuse("the engine writes a constant frame rate (each frame at n/fps); take cfr or auto")
        default:
            throw option.refuse("expected cfr, auto, 1 or -1 (vfr, passthrough and drop are not taken)")
        }
    }

    /// `-async N`: ffmpeg's audio sync (stretch or squeeze to the
    /// timestamps), which the engine's drift correction does.
    static func checkAudioSync(_ option: FFmpegOption) throws(FFmpegArgumentError) {
        _ = try FFmpegValue.integer(option, in: 0...1_000_000, what: "samples per second of correction")
    }

    /// `aresample` with sync options only: the engine stamps sound on the
    /// capture clock and corrects drift itself, which is what they ask for.
    static func checkAudioFilter(_ option: FFmpegOption) throws(FFmpegArgumentError) {
        let text = option.value ?? ""
        let syncOptions: Set<Substring> = ["async", "min_hard_comp", "first_pts", "min_comp", "max_soft_comp"]
        guard text.hasPrefix("aresample=") else {
            throw option.refuse("the only filter taken is aresample=async=N (the engine corrects drift itself)")
        }
        for pair in text.dropFirst("aresample=".count).split(separator: ":") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, syncOptions.contains(parts[0]), Double(parts[1]) != nil else {
                throw option.refuse("aresample takes only async, first_pts, min_comp, min_hard_comp and max_soft_comp here")
            }
        }
    }

    static func bitrate(_ option: FFmpegOption) throws(FFmpegArgumentError) -> Int {
        do {
            return try VideoEncoderSettings.parseBitrate(option.value ?? "", key: .bitrate)
        } catch {
            throw option.refuse(error.reason)
        }
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(_ option: FFmpegOption, _ type: Choice.Type) throws(FFmpegArgumentError)
        -> Choice where Choice.RawValue == String
    {
        if let choice = Choice(rawValue: option.value ?? "") { return choice }
        throw option.refuse("valid values: " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
    }
}
