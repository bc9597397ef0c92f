public import MediaCore

extension SettingKey {
    /// One of each case (indexed ones at index 0), for the front ends'
    /// naming tests: `sampleOrder` makes the list complete, since its
    /// `switch` does not compile until a new case is placed in it, and the
    /// tests check the list holds every place once.
    public static let samples: [SettingKey] = [
        .region, .fps, .videoQueueCapacity,
        .audioDevice, .audioCaptureRate, .audioCaptureChannels, .audioSampleFormats, .audioPeriod, .audioQueue,
        .audioDeviceTimeout, .audioReopenInterval,
        .width, .height, .size, .sizeAndRate, .preset, .tune, .profile, .crf, .bitrate, .maxrate, .bufsize, .gop, .threads,
        .audioRate, .audioChannels, .audioBitrate,
        .encoderInputSize, .pictureSize, .audioInputRate, .audioInputChannels,
        .renditionName(index: 0), .renditionSize(index: 0), .rendition(index: 0),
        .output, .outputRendition, .segmentTime, .segmentSize, .segmentPolicy, .fragmentDuration, .reservedIndexBytes,
        .muxerOption,
        .hls, .hlsRendition, .hlsSegmentDuration,
        .stream(index: 0), .streamRendition(index: 0), .maxReconnects(index: 0), .srtLatency(index: 0),
        .srtPassphraseFile(index: 0), .tlsAuthority(index: 0), .allowPattern(index: 0),
        .sessionID, .duration, .statisticsInterval, .finalizeScript, .noVideo,
        .silenceLevel, .silenceDuration, .frozenDuration,
        .keyframeMinimum, .sceneCut, .x264Parameter, .displayAnswerTimeout,
    ]

    /// This case's place in `samples`.
    public var sampleOrder: Int {
        switch self {
        case .region: 0
        case .fps: 1
        case .videoQueueCapacity: 2
        case .audioDevice: 3
        case .audioCaptureRate: 4
        case .audioCaptureChannels: 5
        case .audioSampleFormats: 6
        case .audioPeriod: 7
        case .audioQueue: 8
        case .audioDeviceTimeout: 9
        case .audioReopenInterval: 10
        case .width: 11
        case .height: 12
        case .size: 13
        case .sizeAndRate: 14
        case .preset: 15
        case .tune: 16
        case .profile: 17
        case .crf: 18
        case .bitrate: 19
        case .maxrate: 20
        case .bufsize: 21
        case .gop: 22
        case .threads: 23
        case .audioRate: 24
        case .audioChannels: 25
        case .audioBitrate: 26
        case .encoderInputSize: 27
        case .pictureSize: 28
        case .audioInputRate: 29
        case .audioInputChannels: 30
        case .renditionName: 31
        case .renditionSize: 32
        case .rendition: 33
        case .output: 34
        case .outputRendition: 35
        case .segmentTime: 36
        case .segmentSize: 37
        case .segmentPolicy: 38
        case .fragmentDuration: 39
        case .reservedIndexBytes: 40
        case .muxerOption: 41
        case .hls: 42
        case .hlsRendition: 43
        case .hlsSegmentDuration: 44
        case .stream: 45
        case .streamRendition: 46
        case .maxReconnects: 47
        case .srtLatency: 48
        case .srtPassphraseFile: 49
        case .tlsAuthority: 50
        case .allowPattern: 51
        case .sessionID: 52
        case .duration: 53
        case .statisticsInterval: 54
        case .finalizeScript: 55
        case .noVideo: 56
        case .silenceLevel: 57
        case .silenceDuration: 58
        case .frozenDuration: 59
        case .keyframeMinimum: 60
        case .sceneCut: 61
        case .x264Parameter: 62
        case .displayAnswerTimeout: 63
        }
    }

    /// The keys of `samples` that a front end names alike, beyond the
    /// `shared` groups it declares on purpose (one option that carries
    /// several settings): empty when every other key has its own name. An
    /// empty or blank name is reported as a collision of its own.
    public static func unexpectedlySharedNames(_ name: (SettingKey) -> String,
                                               shared: [String: Set<SettingKey>]) -> [String: [SettingKey]] {
        var byName: [String: [SettingKey]] = [:]
        for key in samples { byName[name(key), default: []].append(key) }
        var problems: [String: [SettingKey]] = [:]
        for (text, keys) in byName {
            if text.allSatisfy(\.isWhitespace) {
                problems[text] = keys
            } else if keys.count > 1, Set(keys) != shared[text] {
                problems[text] = keys
            }
        }
        return problems
    }
}
