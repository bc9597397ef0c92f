public import CaptureALSA
public import CaptureX11
public import Encoder
public import MediaCore
public import Mux

/// What a session reports while it runs, in this order: `started` first,
/// then `statistics` every `statisticsInterval`, `warning`s and live streams'
/// connection changes as they happen, then `stopped` exactly once, after
/// which every events stream finishes. A session that fails to start sends
/// nothing; its streams just finish (the error is thrown by `run()`).
public enum RecordingEvent: Sendable {
    case started(RecordingStarted)
    case statistics(RecordingStatistics)
    case warning(RecordingWarning)
    /// A live stream connected, failed to, lost its connection, came back or gave up.
    case stream(StreamEvent)
    /// Silence or a frozen picture lasted its `NoMediaDetection` duration,
    /// or ended after that.
    case noMedia(NoMediaEvent)
    case stopped(RecordingResult)
}

/// What the session opened. A recording of sound alone (`recordsVideo`
/// false) has no display: `display` is empty, the sizes and rate 0, the
/// level `H264Level.none` and `renditions` empty.
public struct RecordingStarted: Sendable {
    /// The session's id (also the `session` dimension of its metrics and the
    /// `session` metadata of its log lines).
    public var session: String
    /// The display name in use (the resolved `$DISPLAY` when none was given).
    public var display: String
    /// Captured and encoded picture size, pixels.
    public var width: Int
    public var height: Int
    public var framesPerSecond: Int
    public var grabMethod: GrabMethod
    /// The PCM and the format it delivers, when recording sound.
    public var audio: AudioInput?
    /// The MP4 file, when recording to one.
    public var output: String?
    /// The live streams' URLs, redacted.
    public var streams: [String]
    /// The H.264 level chosen for the size and rate.
    public var level: H264Level
    /// x264 threads at the start (the main rendition's).
    public var encoderThreads: Int
    /// Each video encode: the renditions it serves, its size (the main
    /// rendition's first), its x264 threads.
    public var renditions: [RenditionStatistics]
    /// The HLS playlist, when writing one.
    public var hls: String?

    /// Whether the recording has a picture.
    public var hasVideo: Bool { !renditions.isEmpty }

    /// A sound device as opened.
    public struct AudioInput: Sendable, Equatable {
        /// The ALSA PCM name.
        public var device: String
        /// What the device agreed to deliver.
        public var format: AudioFormat
    }
}

/// Something the user should know that does not stop the recording.
public enum RecordingWarning: Sendable, Equatable, CustomStringConvertible {
    /// TLS certificate verification is off for this stream (redacted URL).
    case insecureTLS(url: String)
    /// The finalize script exited with a failure.
    case finalizeScriptFailed(path: String, outcome: FinalizeScriptOutcome)
    /// The screen changed size (RandR) to `screenWidth`x`screenHeight`: the
    /// recording keeps its size; `visibleWidth`x`visibleHeight` pixels of the
    /// region are on screen, the rest is black.
    case screenResized(display: String, screenWidth: Int, screenHeight: Int, visibleWidth: Int, visibleHeight: Int,
                       recordingWidth: Int, recordingHeight: Int)
    /// The display has no working X DAMAGE: every frame is grabbed whole.
    case damageUnavailable(display: String, reason: String)
    /// The sound device failed, disappeared or delivered nothing for
    /// `PCMCaptureConfiguration.deviceTimeoutSeconds` (the error says which
    /// and names the PCM). The recording goes on: its audio is silence that
    /// keeps time with the video, and the device is opened again with
    /// backoff (after an error) or waited for (when it went quiet).
    case audioDeviceLost(ALSAError)
    /// The sound device delivers again, `after` the last sound it gave
    /// before its loss (that span is silence in the recording); its sound
    /// continues in sync.
    case audioDeviceRestored(device: String, after: Duration)

    public var description: String {
        switch self {
        case let .audioDeviceLost(error):
            "\(error); recording silence until it is back"
        case let .audioDeviceRestored(device, after):
            "audio device '\(device)' is back after \((after.seconds * 10).rounded() / 10) s of silence"
        case let .insecureTLS(url):
            "TLS certificate verification is off for \(url)"
        case let .finalizeScriptFailed(path, outcome):
            "finalize script \(path) \(outcome)"
        case let .screenResized(display, screenWidth, screenHeight, visibleWidth, visibleHeight, width, height):
            "display '\(display)' is now \(screenWidth)x\(screenHeight): "
                + (visibleWidth == width && visibleHeight == height
                    ? "the region is on screen whole; the recording stays \(width)x\(height)"
                    : visibleWidth <= 0 || visibleHeight <= 0
                        ? "the region is off screen; the recording stays \(width)x\(height) and is black until the screen grows"
                        : "\(visibleWidth)x\(visibleHeight) of the region is on screen; the recording stays "
                            + "\(width)x\(height), the part off screen is black")
        case let .damageUnavailable(display, reason):
            "display '\(display)': \(reason); grabbing every frame whole"
        }
    }
}

/// How the finalize script ended.
public enum FinalizeScriptOutcome: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status (0: success).
    case exited(Int32)
    /// A signal ended it.
    case killed(signal: Int32)
    /// It could not be started.
    case couldNotStart(errno: Int32)
    /// The recording was cancelled, so the script was not run.
    case skipped

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case let .exited(status): "exited with status \(status)"
        case let .killed(signal): "was killed by signal \(signal)"
        case let .couldNotStart(code): "could not be started (errno \(code))"
        case .skipped: "was not run (the recording was cancelled)"
        }
    }
}

/// A running or final account of a recording.
public struct RecordingStatistics: Sendable {
    /// Media written (the video timeline's length).
    public var mediaDuration: Duration = .zero
    /// Wall-clock time since the session started recording.
    public var elapsed: Duration = .zero
    /// Frames grabbed from the display.
    public var framesCaptured = 0
    /// Frames encoded into the output (duplicates included).
    public var framesEncoded = 0
    /// Grabs dropped: queue full, or more than one grab for an output slot.
    public var framesDropped = 0
    /// Output slots filled by repeating the previous picture (late grabs).
    public var framesDuplicated = 0
    /// Grabs that ran a frame or more late.
    public var lateGrabs = 0
    /// Frames the screen did not change in (DAMAGE reported nothing, or
    /// the grab showed the same pixels): nothing converted or encoded.
    /// Their share of `framesCaptured` is the still share.
    public var framesUnchanged = 0
    /// Frames converted to I420, in whole or in part: once per frame that
    /// changed, whatever the number of renditions.
    public var framesConverted = 0
    /// Scaled pictures made from the converted ones (one per rendition size
    /// other than the capture's, per changed frame encoded).
    public var framesScaled = 0
    /// Output frames written as an all-skipped H.264 picture, without x264.
    public var skipPictures = 0
    /// Pixels read from the X server for the picture.
    public var pixelsGrabbed = 0
    /// Whole grabs made to check that DAMAGE reports every change (one
    /// every 2 s while it is followed; a change it missed ends following it).
    public var damageChecks = 0
    /// Times the screen changed size (RandR).
    public var screenSizeChanges = 0
    /// Overruns (xruns) the sound device reported or the clock revealed
    /// (frames it lost without an error, stalls in which it delivered nothing).
    public var audioOverruns = 0
    /// Frames (samples per channel, device rate) of silence filled in for
    /// audio the device did not deliver in time: overruns, stalls, a lost device.
    public var audioSilenceFrames = 0
    /// Frames (device rate) lost because the audio queue was full, or
    /// delivered by the device too late to be placed (a burst after a stall
    /// whose time was already silence).
    public var audioFramesDropped = 0
    /// Bytes of encoded media produced (written to the file, offered to the streams).
    public var bytesWritten = 0
    /// Output frames per second over the last interval (the whole recording
    /// in the final statistics).
    public var framesPerSecond: Double = 0
    /// Encoded bit rate over the last interval, bits/s.
    public var bitrate: Double = 0
    /// Audio ahead of video (positive) or behind, as last measured.
    public var audioVideoOffset: Duration = .zero
    /// CPU time of this session's threads, and of the threads libraries
    /// started from them (x264's, the sound plugin's).
    public var cpuTime: Duration = .zero
    /// x264 threads encoding now (one until one does not keep up, unless
    /// the configuration fixed them).
    public var encoderThreads = 0
    /// Each live stream's account (redacted URL, connections, packets sent,
    /// drops), in the order the streams were configured.
    public var streams: [NetworkSinkStatistics] = []
    /// Each video encode's account (renditions, size, threads, bytes).
    public var renditions: [RenditionStatistics] = []
    /// The file output's numbered files when it is segmented, in order: the
    /// finished ones (with their outcome) and the one being written (outcome
    /// nil). In the final statistics every one is finished.
    public var segments: [FileSegment] = []
    /// Segments the HLS playlist lists.
    public var hlsSegments = 0
    /// How long the sound has been silent (`NoMediaDetection.silenceLevel`)
    /// up to now; zero when it is not, or when silence is not checked.
    public var silence: Duration = .zero
    /// How long the picture has not changed; zero when it has just changed,
    /// or when a frozen picture is not checked.
    public var frozenPicture: Duration = .zero
    /// Paused now (`RecordingSession.pause()`).
    public var paused = false
    /// Pauses so far (one still open counts).
    public var pauses = 0
    /// Time left out of the recording by pauses so far (from each pause's
    /// cut to its resume's, or to now): `elapsed` less this is about
    /// `mediaDuration`.
    public var pausedDuration: Duration = .zero

    public init() {}
}

/// How a recording ended.
public struct RecordingResult: Sendable {
    /// What ended the recording.
    public enum StopReason: Sendable, Equatable {
        /// The configured duration was recorded.
        case durationReached
        /// `stop()` or a graceful shutdown.
        case stopRequested
        /// The task running the session was cancelled.
        case cancelled
        /// An error (`error`) ended it; what was recorded was kept.
        case failed
    }

    /// The final statistics.
    public var statistics: RecordingStatistics
    public var stopReason: StopReason
    /// The file, when one was written (finished, or kept as written when
    /// finishing failed): for a segmented file the last segment
    /// (`statistics.segments` lists every one); for HLS alone its playlist.
    public var output: String?
    /// Time spent turning the crash-safe file into a regular MP4.
    public var finalizeDuration: Duration?
    /// The error that ended the recording early or came up while finishing
    /// it, if any; the first one.
    public var error: RecordingError?
    /// How the finalize script ended, when one was configured and a file written.
    public var finalizeScript: FinalizeScriptOutcome?
    /// Bytes of the file on disk at the end (whole fragments only, after a
    /// failed write), when there is a file.
    public var outputBytes: Int64? = nil
    /// Whether the file was finished (a regular MP4) or kept as the
    /// fragmented recording it was written as.
    public var outputState: MP4FinishOutcome? = nil
}

/// A change in one live stream's connection, reported as `RecordingEvent.stream`.
public struct StreamEvent: Sendable, Equatable {
    /// Which configured stream, counting from 0.
    public var index: Int
    /// The stream's URL, redacted (`rtmp://host/app/***`).
    public var url: String
    public var change: NetworkSinkEvent

    public init(index: Int, url: String, change: NetworkSinkEvent) {
        self.index = index
        self.url = url
        self.change = change
    }
}
