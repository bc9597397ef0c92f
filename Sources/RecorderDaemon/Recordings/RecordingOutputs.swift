import RecorderEngine

/// What a request asks of the engine's outputs beyond one MP4 file and
/// RTMP streams: sound alone, segmented files, HLS, renditions and the
/// outputs that name them, SRT stream settings. Part of `RecordingRequest`
/// (decoded by `RecordingRequest+Outputs`); `Recorder.start` confines the
/// paths and sets the daemon's SRT policy.
struct RecordingOutputs: Sendable {
    /// Record sound alone (record-display's `--no-video`): no display, no
    /// video settings, an `.m4a` or `.mp4` file.
    var noVideo = false
    /// The file split into numbered files (`--segment-time`, `--segment-size`).
    var segments: FileSegmentation?
    /// The rendition the file takes (`--output FILE@NAME`); nil: the main one.
    var fileRendition: String?
    /// The HLS playlist, relative to the recordings directory, and its rendition.
    var hlsPlaylist: String?
    var hlsRendition: String?
    /// Named encodes outputs may take (`--rendition NAME:SPEC`).
    var renditions: [VideoRendition] = []
    /// Per stream (the same order as `RecordingRequest.streams`): the
    /// rendition it takes and, for `srt://`, its latency.
    var streamRenditions: [String?] = []
    var streamLatencies: [Duration?] = []

    init() {}

    /// The `StreamOutput` of stream `index` (`url`), with the daemon's SRT
    /// passphrase file for an `srt://` URL.
    func stream(_ index: Int, url: String, srtPassphraseFile: String?) -> StreamOutput {
        let rendition = index < streamRenditions.count ? streamRenditions[index] : nil
        guard url.hasPrefix("srt://") else { return StreamOutput(url: url, rendition: rendition) }
        let latency = index < streamLatencies.count ? streamLatencies[index] : nil
        return StreamOutput(url: url, srtPassphraseFile: srtPassphraseFile, srtLatency: latency, rendition: rendition)
    }
}
