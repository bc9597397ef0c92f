import RecorderEngine

extension SettingKey {
    /// The request field (docs/API.md) that gives this value (`video.crf`,
    /// `streams[2]`), or for a value no request field sets (the daemon's
    /// own settings, the engine's fixed ones) the daemon's option or the
    /// engine's words. The region gives the encoded picture's width and
    /// height too.
    var requestField: String {
        switch self {
        case .region, .width, .height: "region"
        case .fps: "fps"
        case .audioDevice: "audioDevice"
        case .preset: "video.preset"
        case .tune: "video.tune"
        case .profile: "video.profile"
        case .crf: "video.crf"
        case .maxrate: "video.maxrate"
        case .bufsize: "video.bufsize"
        case .gop: "video.gop"
        case .size: "video.size"
        case .noVideo: "noVideo"
        case let .renditionName(index): "renditions[\(index)].name"
        case let .renditionSize(index): "renditions[\(index)].size"
        case let .rendition(index): "renditions[\(index)]"
        case .outputRendition: "fileRendition"
        case .segmentTime: "segments.time"
        case .segmentSize: "segments.size"
        case .segmentPolicy: "segments"
        case .hls: "hls.playlist"
        case .hlsRendition: "hls.rendition"
        case let .streamRendition(index): "streams[\(index)].rendition"
        case let .srtLatency(index): "streams[\(index)].srtLatency"
        // The daemon's `srtPassphraseFile` (or `--srt-passphrase-file`).
        case .srtPassphraseFile: "srtPassphraseFile"
        case .audioRate: "audio.rate"
        case .audioBitrate: "audio.bitrate"
        case .output: "file"
        case let .stream(index): "streams[\(index)]"
        // A pattern of the daemon's `streamAllowList`: the streams cannot be checked.
        case .allowPattern: "streams"
        case .duration: "duration"
        case .silenceLevel: "noMedia"
        case .silenceDuration: "noMedia.silenceSeconds"
        case .frozenDuration: "noMedia.frozenSeconds"
        // The daemon's `--finalize-script` (or `finalizeScript`).
        case .finalizeScript: "--finalize-script"
        // No request field: the engine's words.
        case .sizeAndRate, .videoQueueCapacity, .audioCaptureRate, .audioCaptureChannels, .audioSampleFormats,
             .audioPeriod, .audioQueue, .audioDeviceTimeout, .audioReopenInterval, .bitrate, .threads,
             .audioChannels, .encoderInputSize, .pictureSize, .audioInputRate, .audioInputChannels,
             .fragmentDuration, .reservedIndexBytes, .muxerOption, .hlsSegmentDuration,
             .maxReconnects, .tlsAuthority, .sessionID,
             .statisticsInterval, .keyframeMinimum, .sceneCut, .x264Parameter, .displayAnswerTimeout:
            description
        }
    }
}

extension FieldError {
    /// The engine's refusal of a value, named by the request field.
    init(_ setting: InvalidSetting) {
        self.init(field: setting.key.requestField, reason: "\(setting.value): \(setting.reason)")
    }

    /// The request field a session's refusal concerns (`body` for an error
    /// that is not a refused value).
    init(_ error: RecordingError) {
        guard case let .configuration(setting) = error else {
            self.init(field: "body", reason: "\(error)")
            return
        }
        self.init(setting)
    }
}
