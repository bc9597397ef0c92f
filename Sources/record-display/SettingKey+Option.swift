import RecorderEngine

extension SettingKey {
    /// The option that sets this value (`--crf`), or for the few the
    /// command line does not set (the capture's queue, the MP4 layout...)
    /// the engine's words. Several keys share an option that carries more
    /// than one setting: `--region` the capture and the encoded picture's
    /// width and height, `--output FILE@RENDITION` the path and the
    /// rendition, `--rendition` a rendition's name and size.
    var option: String {
        switch self {
        case .region, .width, .height: "--region"
        case .fps: "--fps"
        case .sizeAndRate: "--region/--fps"
        case .size: "--size"
        case .audioDevice: "--audio-device"
        case .audioReopenInterval: "--audio-reopen-max"
        case .preset: "--preset"
        case .tune: "--tune"
        case .profile: "--profile"
        case .crf: "--crf"
        case .maxrate: "--maxrate"
        case .bufsize: "--bufsize"
        case .gop: "--gop"
        case .threads: "--encoder-threads"
        case .audioRate: "--audio-rate"
        case .audioBitrate: "--audio-bitrate"
        case .renditionName, .renditionSize, .rendition: "--rendition"
        case .output, .outputRendition: "--output"
        case .segmentTime: "--segment-time"
        case .segmentSize: "--segment-size"
        case .hls, .hlsRendition: "--hls"
        case .stream, .streamRendition: "--stream"
        case .maxReconnects: "--max-reconnects"
        case .srtLatency: "--srt-latency"
        case .srtPassphraseFile: "--srt-passphrase-file"
        case .tlsAuthority: "--tls-ca"
        case .allowPattern: "--allow"
        case .duration: "--duration"
        case .finalizeScript: "--finalize-script"
        case .noVideo: "--no-video"
        // Set by no option: the engine's words. A rendition's `bitrate=`
        // is one of its items; the others are fixed here (two channels,
        // the capture's queues, the MP4 layout) or derived.
        case .bitrate, .videoQueueCapacity, .audioCaptureRate, .audioCaptureChannels, .audioSampleFormats,
             .audioPeriod, .audioQueue, .audioDeviceTimeout, .audioChannels, .encoderInputSize, .pictureSize,
             .audioInputRate, .audioInputChannels, .segmentPolicy, .fragmentDuration, .reservedIndexBytes,
             .muxerOption, .hlsSegmentDuration, .sessionID, .statisticsInterval, .silenceLevel, .silenceDuration,
             .frozenDuration, .keyframeMinimum, .sceneCut, .x264Parameter, .displayAnswerTimeout:
            description
        }
    }
}
