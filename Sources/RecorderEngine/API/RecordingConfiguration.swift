public import CaptureALSA
public import CaptureX11
public import Encoder
public import Logging
public import MediaCore
public import Mux

/// x264 options of a recording; the picture size comes from the capture region.
public struct VideoEncodingOptions: Sendable, Equatable {
    public var preset: VideoEncoderSettings.Preset = .ultrafast
    public var tune: VideoEncoderSettings.Tune?
    public var profile: VideoEncoderSettings.Profile = .main
    /// Constant rate factor 0...51; nil for x264's default.
    public var crf: Int? = 25
    /// Average bit rate in bits/s (x264's ABR); unused when `crf` is set.
    public var bitrate: Int?
    /// VBV maximum rate in bits/s.
    public var maxrate: Int?
    /// VBV buffer size in bits.
    public var bufsize: Int?
    /// Frames between keyframes.
    public var gop = 60
    /// x264 threads; 0 lets the engine choose: up to 1080p30's pixel rate,
    /// one thread while one keeps up (busy at most half of each frame
    /// interval over two seconds), then the session's share of the cores
    /// (cores / sessions open in this process, at least two), switched at an
    /// IDR picture; above that rate, the share from the start. One x264
    /// thread costs 8-10 % less CPU per frame than x264's own choice of 1.5
    /// per core, and less memory, for a real-time source that cannot run
    /// ahead.
    public var threads = 0
    /// Output picture size; nil encodes at the capture size. Scaled from
    /// the one converted picture per frame (see `RenditionPictures`).
    public var size: PictureSize?
    /// How a `size` of another shape than the capture's is filled.
    public var scaling: PictureScaling = .letterbox
    /// Keyframe rules and x264's own parameters (jibri-ffmpeg's
    /// `-keyint_min`, `-sc_threshold`, `-x264-params`).
    public var x264 = X264Tuning()

    public init() {}
}

/// Where and how the recording is written.
public struct FileOutput: Sendable, Equatable {
    /// The MP4 file to write.
    public var path: String
    /// Replace a file already at `path`; otherwise its presence is an error.
    public var overwrite: Bool
    /// The rendition written (`VideoRendition.name`); nil: the main one
    /// (`RecordingConfiguration.video`).
    public var rendition: String?
    /// Split the recording into numbered files (`path` gives the names, see
    /// `SegmentNames`); nil writes one file.
    public var segments: FileSegmentation?

    public init(path: String, overwrite: Bool = false, rendition: String? = nil, segments: FileSegmentation? = nil) {
        self.path = path
        self.overwrite = overwrite
        self.rendition = rendition
        self.segments = segments
    }
}

/// Everything a recording session needs to know, checked by `RecordingSession`
/// before it opens or writes anything.
public struct RecordingConfiguration: Sendable {
    /// The session's id: its log lines' `session` metadata and its metrics'
    /// `session` dimension. nil: the session makes one (`rec-` and 8 hex digits).
    /// At most 64 characters from `A-Z a-z 0-9 . _ -`.
    public var id: String?
    /// Where the session logs (with `session` metadata added), and where the
    /// C libraries' own lines from its threads go. Defaults to a logger
    /// labelled `RecorderEngine` at level `.info`.
    public var logger = Logger(label: "RecorderEngine")
    /// The display, region and frame rate to capture.
    public var capture: DisplayCaptureConfiguration
    /// False records sound alone: no display is opened and `capture` is
    /// not used (it must name no region); `audio` must be set.
    public var recordsVideo = true
    /// The PCM to record sound from; nil records video only.
    public var audio: PCMCaptureConfiguration?
    /// Output sample rate, channels and bit rate of the AAC stream.
    public var audioEncoding: AudioEncoderSettings
    /// The main rendition's encoding: what every output takes unless it
    /// names another rendition.
    public var video: VideoEncodingOptions
    /// Further renditions outputs may name (`FileOutput.rendition`,
    /// `StreamOutput.rendition`, `HLSOutput.rendition`), each encoded once
    /// from the same capture and conversion; renditions with the same
    /// options share one encode. Each must be taken by some output.
    public var renditions: [VideoRendition] = []
    /// The MP4 file (or numbered files); nil streams only (then `streams`
    /// or `hls` must be given).
    public var output: FileOutput?
    /// Live streams, each fed from the encode of its rendition.
    public var streams: [StreamOutput] = []
    /// An HLS playlist and its segments, written while recording.
    public var hls: HLSOutput?
    /// The directory every file output (the file, its segments, the HLS
    /// playlist and segments) is created and finished beneath, never
    /// opened by name: their paths must lie under its `path`, and a
    /// symbolic link on the way, even one swapped in while recording,
    /// fails the open (`ELOOP`). nil: paths are opened as given.
    public var confinement: ConfinedDirectory?
    /// Regular expressions, each matched against a whole stream URL,
    /// case-sensitively (Jibri's `rtmp-allow-list`); a stream URL must match
    /// one of them. Empty: every URL of an allowed scheme is accepted.
    public var streamAllowList: [String] = []
    /// The stream URL schemes accepted at all, whatever the allow-list says:
    /// `rtmp` and `rtmps` unless the embedding program adds `srt`.
    public var allowedStreamSchemes: Set<StreamURL.Scheme> = StreamURL.Scheme.defaultAllowed
    /// Stop after this much media; nil records until `stop()`.
    public var duration: Duration?
    /// Run after the file is final (the last segment, when the file is
    /// segmented), with the file's directory as its argument.
    public var finalizeScript: String?
    /// Time between `.statistics` events (and metrics updates), from 0.1 s
    /// to 1 hour.
    public var statisticsInterval: Duration = .seconds(1)
    /// Silence and frozen-picture detection (off unless a duration is set);
    /// see `NoMediaDetection` and `RecordingEvent.noMedia`.
    public var noMedia = NoMediaDetection()

    public init(capture: DisplayCaptureConfiguration, audio: PCMCaptureConfiguration?,
                audioEncoding: AudioEncoderSettings, video: VideoEncodingOptions, output: FileOutput?) {
        self.capture = capture
        self.audio = audio
        self.audioEncoding = audioEncoding
        self.video = video
        self.output = output
    }
}
