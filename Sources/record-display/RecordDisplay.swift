public import ArgumentParser
import Foundation
public import Logging
import RecorderEngine

/// `record-display`: records an X display and an ALSA PCM to a crash-safe MP4
/// and/or streams it live over RTMP(S), from one encode. A thin command line
/// over `RecordingSession`, the API a recorder daemon embeds.
struct RecordDisplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record-display",
        abstract: "Record an X display and sound to an MP4 file that survives a crash, and stream it live.",
        discussion: """
            Exit status: 0 on success; 2 on bad input (one line on stderr naming the value, nothing written, \
            no connection made); 1 on a failure after start (the file keeps every whole fragment and is finished \
            in place when it can be), including a stream that \
            gave up after --max-reconnects. SIGINT and SIGTERM stop and finalize. \
            SIGUSR1 pauses the recording and SIGUSR2 resumes it (`kill -USR1 PID`): the paused time is left out \
            of the file, whose timeline goes on without a gap (each resume starts with a keyframe); streams stay \
            connected with the last picture and silence; --duration counts recorded time. A second SIGUSR1 while \
            paused (or SIGUSR2 while recording) changes nothing.
            Stream keys are never printed: URLs are shown as rtmp://host/app/*** and srt://host:port?***; \
            SRT passphrases are read from a file and never printed.
            `record-display repair FILE` makes an interrupted recording a regular MP4 in place (see its --help).
            """)

    @Option(help: "X display to capture (default $DISPLAY).") var display: String?
    @Option(help: "Part of the screen, WxH+X+Y (default: the whole screen).") var region: String?
    @Option(parsing: .unconditional, help: "Frames per second, 1-120.") var fps = 30
    @Flag(help: "Grab every frame whole instead of only what the X DAMAGE extension reports as changed.")
    var fullGrabs = false
    @Flag(help: "Draw the pointer into the recording (off by default, as Jibri records).")
    var drawCursor = false
    @Option(help: "ALSA PCM to record sound from (hw:Loopback,1,0, plug:bsnoop, default...).") var audioDevice = "default"
    @Flag(help: "Record no sound.") var noAudio = false
    @Flag(help: "Record sound alone (AAC in an MP4/.m4a): no display is opened; --region, --size and --rendition do not apply.")
    var noVideo = false
    @Option(help: "Longest wait in seconds between attempts to reopen a lost sound device (0.25-300); meanwhile the sound is silence.")
    var audioReopenMax = 2.0
    @Option(parsing: .unconditional, help: "AAC sample rate in Hz.") var audioRate = 44_100
    @Option(help: "AAC bit rate, e.g. 128k.") var audioBitrate = "128k"
    @Option(help: "x264 preset.") var preset = "ultrafast"
    // Numbers are read unconditionally, so that `--crf -3` is refused as
    // `--crf=-3` is (naming the option), not taken for an unknown flag.
    @Option(parsing: .unconditional, help: "Constant rate factor, 1-51 (lower is better and bigger).") var crf = 25
    @Option(help: "VBV maximum bit rate, e.g. 2976k.") var maxrate: String?
    @Option(help: "VBV buffer size, e.g. 5952k.") var bufsize: String?
    @Option(parsing: .unconditional, help: "Frames between keyframes.") var gop = 60
    @Option(help: "x264 tune (e.g. zerolatency).") var tune: String?
    @Option(parsing: .unconditional, help: "x264 threads (default 0: one while one keeps up, then one per core).")
    var encoderThreads = 0
    @Option(help: "H.264 profile: baseline, main or high.") var profile = "main"
    @Option(help: "Scale the main rendition to WxH (letterboxed to keep the aspect ratio, unless --stretch).")
    var size: String?
    @Flag(help: "Scaled renditions fill their size, changing the aspect ratio, instead of being letterboxed.")
    var stretch = false
    @Option(name: .customLong("rendition"), help: ArgumentHelp(
        "A named encode of the same capture that outputs take with @NAME (repeatable): NAME:SPEC, SPEC being a size "
            + "WxH and preset=, tune=, profile=, crf=, maxrate=, bufsize=, bitrate=, gop=, threads=, letterbox or stretch, "
            + "comma-separated, from the engine's defaults (maxrate without crf: x264's own rate control capped by it). "
            + "E.g. --rendition live:1280x720,preset=veryfast,tune=zerolatency,maxrate=2976k --stream URL@live. "
            + "Outputs without @NAME take the main rendition (the options above).", valueName: "NAME:SPEC"))
    var renditions: [String] = []
    @Option(parsing: .unconditional, help: "Stop after this many seconds.") var duration: Double?
    // Collected as a list only to refuse a second one: left to the parser,
    // the last would win and the first file would silently not be written.
    @Option(name: .customLong("output"),
            help: ArgumentHelp("MP4 file to write, FILE or FILE@RENDITION, once (default without --stream or --hls: "
                               + "recording-DATE.mp4 here).", valueName: "file"))
    var outputs: [String] = []
    @Option(parsing: .unconditional, help: ArgumentHelp("Split the file into numbered files of this many seconds, each cut at the first keyframe "
                               + "at or after the time and finished on its own (meeting.mp4: meeting-000.mp4, "
                               + "meeting-001.mp4...; a %d or %03d in the name places the number).", valueName: "seconds"))
    var segmentTime: Double?
    @Option(help: ArgumentHelp("Split the file into numbered files of at most this size, each cut at the last keyframe "
                               + "before it would pass it (e.g. 500M, 2G; at least 1M; a GOP larger than every GOP "
                               + "before it can still pass it).", valueName: "bytes"))
    var segmentSize: String?
    @Option(name: .customLong("hls"), help: ArgumentHelp("Also write HLS: this .m3u8 playlist (EVENT while recording, ENDLIST at the end) and "
                               + "fMP4 segments of a GOP each beside it; PLAYLIST or PLAYLIST@RENDITION.",
                               valueName: "playlist"))
    var hlsPlaylists: [String] = []
    @Option(name: .customLong("stream"),
            help: "Also stream to this rtmp://, rtmps:// or (with --allow-scheme srt) srt://HOST:PORT URL, or URL@RENDITION (repeatable; one encode feeds all that take the same rendition).")
    var streams: [String] = []
    @Option(name: .customLong("allow"),
            help: "Accept only stream URLs this regular expression matches whole, case-sensitively (repeatable).")
    var allowList: [String] = []
    @Option(name: .customLong("allow-scheme"),
            help: "Also accept stream URLs of this scheme: srt (rtmp and rtmps always are; repeatable).")
    var allowedSchemes: [String] = []
    @Option(name: .customLong("srt-passphrase-file"),
            help: "Encrypt srt:// streams with the passphrase on this file's first line (10 to 79 characters).")
    var srtPassphraseFile: String?
    @Option(name: .customLong("srt-latency"), parsing: .unconditional, help: "SRT latency of srt:// streams in milliseconds, 10-10000 (default 120).")
    var srtLatency: Int?
    @Option(parsing: .unconditional, help: "Give a stream up after this many failed reconnection attempts in a row (default: never).")
    var maxReconnects: Int?
    @Option(name: .customLong("tls-ca"), help: "Also trust this PEM CA certificate for rtmps:// servers.")
    var tlsCA: String?
    @Flag(name: .customLong("insecure-tls"), help: "Do not verify rtmps:// server certificates.")
    var insecureTLS = false
    @Flag(help: "Replace the output file if it exists.") var overwrite = false
    @Option(help: "Run this after the file is final, with its directory as the argument.") var finalizeScript: String?
    @Option(help: "Write the final statistics as JSON to this file.") var statsJson: String?
    @Option(help: "The engine's log lines to show: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .error

    /// Turns the options into a session configuration; every bad value becomes
    /// an `OptionError` naming the option and the value.
    func makeConfiguration() throws(OptionError) -> RecordingConfiguration {
        do {
            return try configuration()
        } catch let error as OptionError {
            throw error
        } catch let error as InvalidSetting {
            throw OptionError(error)
        } catch {
            preconditionFailure("options are refused with OptionError or InvalidSetting only: \(error)")
        }
    }

    private func configuration() throws -> RecordingConfiguration {
        var capture = DisplayCaptureConfiguration(display: display, framesPerSecond: fps, tracksDamage: !fullGrabs,
                                                  drawsCursor: drawCursor)
        if let region { capture.region = try CaptureRegion(parsing: region) }
        try capture.validate()

        var video = VideoEncodingOptions()
        video.preset = try Self.choice(preset, option: "--preset", VideoEncoderSettings.Preset.self)
        video.profile = try Self.choice(profile, option: "--profile", VideoEncoderSettings.Profile.self)
        video.tune = try tune.map { try Self.choice($0, option: "--tune", VideoEncoderSettings.Tune.self) }
        video.crf = crf
        video.maxrate = try maxrate.map { try VideoEncoderSettings.parseBitrate($0, key: .maxrate) }
        video.bufsize = try bufsize.map { try VideoEncoderSettings.parseBitrate($0, key: .bufsize) }
        guard gop > 0 else { throw OptionError(option: "--gop", value: "\(gop)", reason: "must be a positive number of frames") }
        video.gop = gop
        guard (0...64).contains(encoderThreads) else {
            throw OptionError(option: "--encoder-threads", value: "\(encoderThreads)", reason: "must be 0 to 64")
        }
        video.threads = encoderThreads
        if let size {
            let parsed = try PictureSize(parsing: size, key: .size)
            try parsed.validate(key: .size)
            video.size = parsed
        }
        video.scaling = stretch ? .stretch : .letterbox

        let bitrate = try VideoEncoderSettings.parseBitrate(audioBitrate, key: .audioBitrate)
        let audioEncoding = try AudioEncoderSettings(sampleRate: audioRate, channels: 2, bitrate: bitrate)
        var audio = noAudio ? nil : PCMCaptureConfiguration(device: audioDevice)
        audio?.reopenMaximumIntervalSeconds = audioReopenMax
        if !(0.25...300).contains(audioReopenMax) {
            throw OptionError(option: "--audio-reopen-max", value: "\(audioReopenMax)",
                              reason: "must be from 0.25 to 300 seconds")
        }

        let output = try Self.once(outputs, option: "--output",
                                   reason: "one file output: more renditions go to --stream or --hls, --segment-time splits it")
        let hls = try Self.once(hlsPlaylists, option: "--hls", reason: "one HLS output")
        let file = output.map(RenditionSpec.split)
        if let path = file?.output {
            // The file is an MP4 whatever its name: a name saying otherwise is
            // refused, as recorderd refuses it (sound alone may be .m4a).
            let extensions = noVideo ? [".m4a", ".mp4"] : [".mp4"]
            let name = path.split(separator: "/").last.map(String.init) ?? path
            guard let suffix = extensions.first(where: { name.hasSuffix($0) }), name.count > suffix.count else {
                throw OptionError(option: "--output", value: path,
                                  reason: "must name a " + extensions.joined(separator: " or ") + " file (an MP4 is written)")
            }
        }
        let path = file?.output ?? (streams.isEmpty && hls == nil ? "recording-\(Self.timestamp()).mp4" : nil)
        let segments = try makeSegmentation()
        var configuration = RecordingConfiguration(capture: capture, audio: audio, audioEncoding: audioEncoding,
                                                   video: video, output: path.map {
                                                       FileOutput(path: $0, overwrite: overwrite, rendition: file?.rendition,
                                                                  segments: segments)
                                                   })
        if segmentTime != nil || segmentSize != nil, path == nil {
            throw OptionError(option: segmentTime != nil ? "--segment-time" : "--segment-size",
                              value: segmentTime.map { "\($0)" } ?? segmentSize ?? "",
                              reason: "splits the file output: give --output")
        }
        configuration.recordsVideo = !noVideo
        if noVideo && noAudio {
            throw OptionError(option: "--no-video", value: "", reason: "with --no-audio there is nothing to record")
        }
        var seen: Set<String> = []
        for text in renditions {
            let rendition = try RenditionSpec(parsing: text, stretch: stretch).rendition
            guard seen.insert(rendition.name).inserted else {
                throw OptionError(option: "--rendition", value: text, reason: "the name \(rendition.name) is given twice")
            }
            configuration.renditions.append(rendition)
        }
        configuration.hls = hls.map(RenditionSpec.split).map {
            HLSOutput(playlist: $0.output, rendition: $0.rendition, overwrite: overwrite)
        }
        configuration.streams = try makeStreams()
        configuration.streamAllowList = allowList
        for scheme in allowedSchemes {
            guard let allowed = StreamURL.Scheme(rawValue: scheme) else {
                throw OptionError(option: "--allow-scheme", value: scheme, reason: "valid values: rtmp, rtmps, srt")
            }
            configuration.allowedStreamSchemes.insert(allowed)
        }
        if let duration {
            guard duration > 0, duration.isFinite else {
                throw OptionError(option: "--duration", value: "\(duration)", reason: "must be a positive number of seconds")
            }
            configuration.duration = .seconds(duration)
        }
        configuration.finalizeScript = finalizeScript
        return configuration
    }

    /// The one value of an option given at most once; a second is refused
    /// naming it.
    private static func once(_ values: [String], option: String, reason: String) throws -> String? {
        if values.count > 1 {
            throw OptionError(option: option, value: values[1], reason: "given twice (\(reason))")
        }
        return values.first
    }

    /// The `--stream` outputs with the TLS and reconnect options; the URLs
    /// themselves are checked by the session (scheme, allow-list), before
    /// anything opens.
    private func makeStreams() throws -> [StreamOutput] {
        if insecureTLS, let tlsCA {
            throw OptionError(option: "--tls-ca", value: tlsCA, reason: "cannot be combined with --insecure-tls")
        }
        if let maxReconnects, maxReconnects < 0 {
            throw OptionError(option: "--max-reconnects", value: "\(maxReconnects)", reason: "cannot be negative")
        }
        let tls: TLSVerification = insecureTLS ? .disabled : tlsCA.map { .addingAuthority(path: $0) } ?? .systemAuthorities
        // The SRT options go to the srt:// streams (the session checks them).
        let isSRT = { (url: String) in url.hasPrefix("srt://") }
        if !streams.contains(where: isSRT) {
            if let srtLatency {
                throw OptionError(option: "--srt-latency", value: "\(srtLatency)", reason: "applies to srt:// streams only")
            }
            if let srtPassphraseFile {
                throw OptionError(option: "--srt-passphrase-file", value: srtPassphraseFile,
                                  reason: "applies to srt:// streams only")
            }
        }
        return streams.map(RenditionSpec.split).map { stream in
            isSRT(stream.output)
                ? StreamOutput(url: stream.output, maxReconnects: maxReconnects, srtPassphraseFile: srtPassphraseFile,
                               srtLatency: srtLatency.map { .milliseconds($0) }, rendition: stream.rendition)
                : StreamOutput(url: stream.output, tls: tls, maxReconnects: maxReconnects, rendition: stream.rendition)
        }
    }

    /// `--segment-time` and `--segment-size`, when given.
    private func makeSegmentation() throws -> FileSegmentation? {
        guard segmentTime != nil || segmentSize != nil else { return nil }
        var segments = FileSegmentation()
        if let segmentTime {
            guard segmentTime.isFinite, segmentTime > 0 else {
                throw OptionError(option: "--segment-time", value: "\(segmentTime)",
                                  reason: "must be a positive number of seconds")
            }
            segments.duration = .milliseconds(Int64((segmentTime * 1000).rounded()))
        }
        if let segmentSize {
            // Sizes as ffmpeg's bit rates are written: k = 1000, M = 10^6, G = 10^9.
            var text = Substring(segmentSize)
            var unit: Double = 1
            if let last = text.last, let scale = ["k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9][last] {
                unit = scale
                text = text.dropLast()
            }
            guard let number = Double(text), number.isFinite, number > 0 else {
                throw OptionError(option: "--segment-size", value: segmentSize,
                                  reason: "expected a positive size in bytes such as 500M or 2G")
            }
            segments.maxBytes = Int64(number * unit)
        }
        return segments
    }

    private static func choice<T: RawRepresentable & CaseIterable>(_ text: String, option: String, _ type: T.Type) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            throw OptionError(option: option, value: text,
                              reason: "valid values: " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    private static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
