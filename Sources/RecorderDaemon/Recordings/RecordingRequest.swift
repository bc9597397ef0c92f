import RecorderEngine

/// A recording asked for: what to capture, how to encode it, where it
/// goes, and the daemon's policies for it. The HTTP layer decodes it from
/// a request (`RecordingRequest+Decodable`); `Recorder.start` checks the
/// rest and runs it.
struct RecordingRequest: Sendable {
    var display: String?
    var region: CaptureRegion?
    var fps = 30
    /// Draw the pointer (record-display's `--draw-cursor`).
    var drawCursor = false
    /// nil: no sound.
    var audioDevice: String?
    var video = VideoEncodingOptions()
    var audioRate = 44_100
    var audioBitrate = 128_000
    /// Relative to the recordings directory; nil: `ID/ID.mp4`.
    var file: String?
    var streams: [String] = []
    var duration: Double?
    /// Explicit values; nil means "the daemon's default", `.off` none.
    var silenceSeconds: Setting<Double> = .default
    var frozenSeconds: Setting<Double> = .default
    var noMediaAction: DaemonConfiguration.NoMediaAction?
    var workspace: String?
    var metadata: [String: String] = [:]
    /// Sound alone, segments, HLS, renditions (`RecordingOutputs`).
    var outputs = RecordingOutputs()
    /// A page to open in a browser and record, instead of a display.
    var page: PageRequest?

    enum Setting<Value: Sendable>: Sendable {
        case `default`, off, value(Value)
    }

    init() {}
}
