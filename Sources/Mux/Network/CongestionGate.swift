import MediaCore

/// Applies a `CongestionPolicy` to each packet as it is handed to a network
/// sink: one per sink, used by the thread that feeds it (the mux thread).
/// Plain arithmetic on integers, no allocation.
struct CongestionGate {
    enum Decision: Equatable {
        /// Queue the packet.
        case send
        /// Drop it: a disposable frame while the queue is past the first threshold.
        case dropDisposable
        /// Drop it: video while waiting for a keyframe that finds the queue short again.
        case dropUntilKeyframe
    }

    /// Thresholds in microseconds.
    let disposableThreshold: Int64
    let keyframeThreshold: Int64
    /// True from a drop past the keyframe threshold until a keyframe is sent.
    private(set) var awaitingKeyframe = false

    init(policy: CongestionPolicy) {
        disposableThreshold = Int64(policy.disposableDropThreshold * 1e6)
        keyframeThreshold = Int64(policy.keyframeDropThreshold * 1e6)
    }

    /// What to do with a packet of `kind` while `queued` microseconds of
    /// media wait ahead of it.
    @inline(__always)
    mutating func decide(kind: StreamKind, isKeyframe: Bool, isDisposable: Bool, queued: Int64) -> Decision {
        guard kind == .video else { return .send }
        if awaitingKeyframe || queued > keyframeThreshold {
            if isKeyframe && queued <= keyframeThreshold {
                awaitingKeyframe = false
                return .send
            }
            awaitingKeyframe = true
            return .dropUntilKeyframe
        }
        if isDisposable && queued > disposableThreshold { return .dropDisposable }
        return .send
    }

    /// After packets were lost for another reason (the queue was full): the
    /// next video sent must be a keyframe.
    mutating func requireKeyframe() { awaitingKeyframe = true }
}
