import Synchronization

/// Counters the pipeline's threads bump as they work and anyone may read at any
/// time. Each is a relaxed atomic: a reader sees a recent value, never a torn one.
public final class MediaCounters: Sendable {
    /// A counter that one thread writes and others read.
    public struct Counter: ~Copyable, Sendable {
        private let value = Atomic<Int>(0)
        public init() {}
        @inline(__always) public func add(_ amount: Int = 1) { value.add(amount, ordering: .relaxed) }
        @inline(__always) public func store(_ newValue: Int) { value.store(newValue, ordering: .relaxed) }
        public func load() -> Int { value.load(ordering: .relaxed) }
    }

    /// Frames the grabber handed on: grabbed whole, in part (the damaged
    /// rectangles) or unchanged (`videoFramesUnchanged`, nothing grabbed).
    public let videoFramesCaptured = Counter()
    /// Grabs that started after their deadline had passed by a frame or more.
    public let videoLateGrabs = Counter()
    /// Deadlines skipped because a grab ran late (the grabber does not catch up in a burst).
    public let videoSkippedDeadlines = Counter()
    /// Frames dropped because the ring toward the encoder was full or the pool empty.
    public let videoFramesDroppedQueueFull = Counter()
    /// Frames the grabber passed on bringing nothing: the DAMAGE extension
    /// reported no change in the region since the previous frame, or what
    /// it grabbed held the same pixels as before (a repaint).
    public let videoFramesUnchanged = Counter()
    /// Pixels read from the X server for the picture (whole frames and
    /// damaged rectangles); the DAMAGE checks' whole grabs count apart.
    public let videoPixelsGrabbed = Counter()
    /// Whole grabs made to check that DAMAGE reports every change (one every
    /// `DamageAudit.checkSeconds` while DAMAGE is followed).
    public let videoDamageChecks = Counter()
    /// Times the screen changed size while capturing (RandR).
    public let videoScreenSizeChanges = Counter()
    /// Frames the encoder converted to I420, in whole or in part.
    public let videoFramesConverted = Counter()
    /// Scaled pictures made from the converted one, one per rendition size
    /// other than the capture's, for each changed frame that is encoded.
    public let videoFramesScaled = Counter()
    /// Output frames written as an H.264 picture whose macroblocks are all
    /// skipped (a copy of the previous one), without running x264.
    public let videoSkipPictures = Counter()
    /// Periods read from the PCM.
    public let audioPeriodsCaptured = Counter()
    /// Frames (samples per channel) read from the PCM.
    public let audioFramesCaptured = Counter()
    /// Overruns (xruns) the PCM reported and capture recovered from, and
    /// losses the clock revealed (frames the device lost without an error,
    /// stalls in which it delivered nothing).
    public let audioOverruns = Counter()
    /// Frames of silence inserted to keep the timeline on the clock: for
    /// overruns, stalls, and while the device was lost.
    public let audioSilenceFrames = Counter()
    /// Frames lost because the ring toward the encoder was full or the pool
    /// empty (the timeline skips them, so later audio keeps its place), or
    /// because the device delivered them too late to be placed (what it held
    /// back during a stall and sent in a burst after it, whose time had
    /// already been filled with silence).
    public let audioFramesDropped = Counter()

    public init() {}

    /// A consistent-enough copy of every counter, for reports.
    public func snapshot() -> MediaStatistics {
        MediaStatistics(
            videoFramesCaptured: videoFramesCaptured.load(),
            videoLateGrabs: videoLateGrabs.load(),
            videoSkippedDeadlines: videoSkippedDeadlines.load(),
            videoFramesDroppedQueueFull: videoFramesDroppedQueueFull.load(),
            videoFramesUnchanged: videoFramesUnchanged.load(),
            videoPixelsGrabbed: videoPixelsGrabbed.load(),
            videoDamageChecks: videoDamageChecks.load(),
            videoScreenSizeChanges: videoScreenSizeChanges.load(),
            videoFramesConverted: videoFramesConverted.load(),
            videoFramesScaled: videoFramesScaled.load(),
            videoSkipPictures: videoSkipPictures.load(),
            audioPeriodsCaptured: audioPeriodsCaptured.load(),
            audioFramesCaptured: audioFramesCaptured.load(),
            audioOverruns: audioOverruns.load(),
            audioSilenceFrames: audioSilenceFrames.load(),
            audioFramesDropped: audioFramesDropped.load())
    }
}

/// A copy of `MediaCounters` at one moment.
public struct MediaStatistics: Sendable, Equatable, Codable {
    public var videoFramesCaptured: Int
    public var videoLateGrabs: Int
    public var videoSkippedDeadlines: Int
    public var videoFramesDroppedQueueFull: Int
    public var videoFramesUnchanged: Int
    public var videoPixelsGrabbed: Int
    public var videoDamageChecks: Int
    public var videoScreenSizeChanges: Int
    public var videoFramesConverted: Int
    public var videoFramesScaled: Int
    public var videoSkipPictures: Int
    public var audioPeriodsCaptured: Int
    public var audioFramesCaptured: Int
    public var audioOverruns: Int
    public var audioSilenceFrames: Int
    public var audioFramesDropped: Int
}
