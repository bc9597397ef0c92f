/// When a network sink drops media instead of queueing it, measured in media
/// time queued toward the server (newest packet handed to the sink minus the
/// packet it is sending now).
///
/// - Past `disposableDropThreshold`, video frames no other frame refers to
///   (non-reference B-frames) are dropped: nothing else breaks.
/// - Past `keyframeDropThreshold`, video is dropped up to the next keyframe
///   that finds the queue back under this threshold, so the picture freezes
///   rather than decoding garbage.
/// - Audio is never dropped by congestion: it is small, and a gap in it is
///   heard at once.
/// - Past `stallLimit` the connection is taken for dead (even audio does not
///   get through): it is closed and reconnected, and what was queued is
///   discarded and counted.
///
/// With x264 `ultrafast` or `zerolatency` there are no B-frames, so nothing
/// is disposable and the first tier never fires: congestion goes straight to
/// dropping up to the next keyframe.
public struct CongestionPolicy: Sendable, Equatable {
    /// Seconds of queued media past which disposable video frames are dropped.
    public var disposableDropThreshold: Double
    /// Seconds of queued media past which video is dropped up to a keyframe.
    public var keyframeDropThreshold: Double
    /// Seconds of queued media past which the connection is reconnected.
    public var stallLimit: Double

    public init(disposableDropThreshold: Double = 0.7, keyframeDropThreshold: Double = 0.9, stallLimit: Double = 5) {
        precondition(0 < disposableDropThreshold && disposableDropThreshold <= keyframeDropThreshold
                     && keyframeDropThreshold < stallLimit)
        self.disposableDropThreshold = disposableDropThreshold
        self.keyframeDropThreshold = keyframeDropThreshold
        self.stallLimit = stallLimit
    }
}
