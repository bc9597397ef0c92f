import RecorderEngine

/// A recording's outputs beyond its one file, as the API shows them:
/// whether it records sound alone, its renditions, the file's finished
/// segments (each listed once it is finished), the HLS playlist. nil
/// (absent from the answer) for a plain file and RTMP streams.
struct OutputsView: Encodable, Sendable {
    var noVideo: Bool
    var renditions: [String]?
    var segments: [SegmentView]?
    /// The playlist, absolute, and the media segments listed in it so far.
    var hlsPlaylist: String?
    var hlsSegments: Int?

    struct SegmentView: Encodable, Sendable {
        var index: Int
        /// Absolute path.
        var file: String
        var startSeconds: Double
        var durationSeconds: Double
        var bytes: Int64
        /// `finishedInPlace` (a regular MP4) or `keptAsWritten` (plays; `repair` finishes it).
        var outcome: String
    }

    init?(_ configuration: RecordingConfiguration, statistics: RecordingStatistics) {
        let segmented = configuration.output?.segments != nil
        guard !configuration.recordsVideo || !configuration.renditions.isEmpty || segmented || configuration.hls != nil
        else { return nil }
        noVideo = !configuration.recordsVideo
        renditions = configuration.renditions.isEmpty ? nil : configuration.renditions.map(\.name)
        if segmented {
            segments = statistics.segments.compactMap { segment in
                segment.outcome.map {
                    SegmentView(index: segment.index, file: segment.path, startSeconds: segment.start,
                                durationSeconds: segment.duration, bytes: segment.bytes, outcome: "\($0)")
                }
            }
        }
        hlsPlaylist = configuration.hls?.playlist
        hlsSegments = configuration.hls.map { _ in statistics.hlsSegments }
    }
}
