public import RecorderEngine

extension SettingKey {
    /// The ffmpeg option of a Jibri command line that gives this value
    /// (`-crf`; `-s` the x11grab size, which is the encoded picture's;
    /// `output` the file or stream URL), or the engine's words for a value
    /// no ffmpeg option of Jibri's sets (renditions, segments, SRT...).
    public var ffmpegOption: String {
        switch self {
        case .region, .width, .height: "-s"
        case .fps: "-r"
        case .sizeAndRate: "-s and -r"
        case .duration: "-t"
        case .output, .stream: "output"
        case .audioDevice: "-i"
        case .audioCaptureRate, .audioRate: "-ar"
        case .audioCaptureChannels, .audioChannels: "-ac"
        case .audioBitrate: "-b:a"
        case .preset: "-preset"
        case .tune: "-tune"
        case .profile: "-profile:v"
        case .crf: "-crf"
        case .bitrate: "-b:v"
        case .maxrate: "-maxrate"
        case .bufsize: "-bufsize"
        case .gop: "-g"
        case .threads: "-threads"
        case .keyframeMinimum: "-keyint_min"
        case .sceneCut: "-sc_threshold"
        case .x264Parameter: "-x264-params"
        case .videoQueueCapacity, .displayAnswerTimeout, .audioSampleFormats, .audioPeriod, .audioQueue, .audioDeviceTimeout,
             .audioReopenInterval, .size, .encoderInputSize, .pictureSize, .audioInputRate, .audioInputChannels,
             .renditionName, .renditionSize, .rendition, .outputRendition, .segmentTime, .segmentSize, .segmentPolicy,
             .fragmentDuration, .reservedIndexBytes, .muxerOption, .hls, .hlsRendition, .hlsSegmentDuration,
             .streamRendition, .maxReconnects, .srtLatency, .srtPassphraseFile, .tlsAuthority, .allowPattern,
             .sessionID, .statisticsInterval, .finalizeScript, .noVideo, .silenceLevel, .silenceDuration,
             .frozenDuration:
            description
        }
    }
}
