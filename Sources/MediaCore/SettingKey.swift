/// Which setting of a recording a refused value was given for: the engine's
/// own name for it, never a front end's (a flag, a JSON field, an ffmpeg
/// option). Each front end names every case in its own words with an
/// exhaustive `switch`, so a new key does not compile until each says how
/// its users call it.
///
/// Indexed cases name one of several: `index` counts from 0 in the
/// configuration's list (`RecordingConfiguration.streams`,
/// `.renditions`, `.streamAllowList`).
public enum SettingKey: Sendable, Hashable, CustomStringConvertible {
    // The display capture (`DisplayCaptureConfiguration`).
    case region, fps, videoQueueCapacity, displayAnswerTimeout
    // The sound capture (`PCMCaptureConfiguration`).
    case audioDevice, audioCaptureRate, audioCaptureChannels, audioSampleFormats, audioPeriod, audioQueue
    case audioDeviceTimeout, audioReopenInterval
    // The video encode (`VideoEncoderSettings`, `VideoEncodingOptions`): the
    // picture's `width` and `height`, the main rendition's scaled `size`,
    // and their `sizeAndRate` together against H.264's levels.
    case width, height, size, sizeAndRate, preset, tune, profile, crf, bitrate, maxrate, bufsize, gop, threads
    /// x264's own keyframe rules and parameters (`X264Tuning`).
    case keyframeMinimum, sceneCut, x264Parameter
    // The sound encode (`AudioEncoderSettings`).
    case audioRate, audioChannels, audioBitrate
    // What an encoder is handed when it opens: sizes and formats the session derives.
    case encoderInputSize, pictureSize, audioInputRate, audioInputChannels
    // Renditions (`RecordingConfiguration.renditions`): a name, a size, one
    // no output takes.
    case renditionName(index: Int), renditionSize(index: Int), rendition(index: Int)
    // The file output (`FileOutput`), its segments, its MP4 layout.
    case output, outputRendition, segmentTime, segmentSize, segmentPolicy, fragmentDuration, reservedIndexBytes
    case muxerOption
    // The HLS output (`HLSOutput`).
    case hls, hlsRendition, hlsSegmentDuration
    // Live streams (`StreamOutput`) and the allow-list.
    case stream(index: Int), streamRendition(index: Int), maxReconnects(index: Int), srtLatency(index: Int)
    case srtPassphraseFile(index: Int), tlsAuthority(index: Int), allowPattern(index: Int)
    // The session (`RecordingConfiguration`).
    case sessionID, duration, statisticsInterval, finalizeScript
    /// `recordsVideo` off, refused with something that needs video.
    case noVideo
    // No-media detection (`NoMediaDetection`).
    case silenceLevel, silenceDuration, frozenDuration

    /// The engine's own words, for logs and tests; front ends print theirs.
    public var description: String {
        switch self {
        case .region: "region"
        case .fps: "fps"
        case .videoQueueCapacity: "video queue capacity"
        case .displayAnswerTimeout: "display answer timeout"
        case .audioDevice: "audio device"
        case .audioCaptureRate: "audio sample rate"
        case .audioCaptureChannels: "audio capture channels"
        case .audioSampleFormats: "audio sample formats"
        case .audioPeriod: "audio period"
        case .audioQueue: "audio queue"
        case .audioDeviceTimeout: "audio device timeout"
        case .audioReopenInterval: "audio reopen interval"
        case .width: "width"
        case .height: "height"
        case .size: "size"
        case .sizeAndRate: "size and rate"
        case .preset: "preset"
        case .tune: "tune"
        case .profile: "profile"
        case .crf: "crf"
        case .bitrate: "bitrate"
        case .maxrate: "maxrate"
        case .bufsize: "bufsize"
        case .gop: "gop"
        case .threads: "threads"
        case .keyframeMinimum: "keyframe minimum"
        case .sceneCut: "scene cut"
        case .x264Parameter: "x264 parameter"
        case .audioRate: "audio rate"
        case .audioChannels: "audio channels"
        case .audioBitrate: "audio bitrate"
        case .encoderInputSize: "input size"
        case .pictureSize: "picture size"
        case .audioInputRate: "audio input rate"
        case .audioInputChannels: "audio input channels"
        case let .renditionName(index): "rendition \(index) name"
        case let .renditionSize(index): "rendition \(index) size"
        case let .rendition(index): "rendition \(index)"
        case .output: "output"
        case .outputRendition: "output rendition"
        case .segmentTime: "segment time"
        case .segmentSize: "segment size"
        case .segmentPolicy: "segment policy"
        case .fragmentDuration: "fragment duration"
        case .reservedIndexBytes: "reserved index bytes"
        case .muxerOption: "muxer option"
        case .hls: "HLS playlist"
        case .hlsRendition: "HLS rendition"
        case .hlsSegmentDuration: "HLS segment duration"
        case let .stream(index): "stream \(index)"
        case let .streamRendition(index): "stream \(index) rendition"
        case let .maxReconnects(index): "stream \(index) reconnection limit"
        case let .srtLatency(index): "stream \(index) SRT latency"
        case let .srtPassphraseFile(index): "stream \(index) SRT passphrase file"
        case let .tlsAuthority(index): "stream \(index) CA certificate"
        case let .allowPattern(index): "allow-list pattern \(index)"
        case .sessionID: "session id"
        case .duration: "duration"
        case .statisticsInterval: "statistics interval"
        case .finalizeScript: "finalize script"
        case .noVideo: "no video"
        case .silenceLevel: "silence level"
        case .silenceDuration: "silence duration"
        case .frozenDuration: "frozen duration"
        }
    }
}
