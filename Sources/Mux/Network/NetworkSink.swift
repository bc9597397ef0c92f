import CFFmpeg
public import MediaCore
public import MediaPackets
import Synchronization

/// Streams a recording's packets to a live ingest server, on its own thread,
/// and keeps streaming through network trouble: FLV over `rtmp://` or
/// `rtmps://`, or MPEG-TS over `srt://` (`StreamDestination`; each protocol's
/// connection is its own type, `RTMPConnection` and `SRTConnection`).
///
/// The feeding thread (the mux thread) calls `offer(_:)` for every packet, in
/// decoding order. `offer` never blocks: it takes a reference to the packet's
/// payload from the sink's own pool and pushes it into a lock-free queue
/// bounded in media time (`CongestionPolicy`: video dropped past 0.7 s and
/// 0.9 s queued, audio never, reconnect past 5 s), every drop counted.
///
/// The sink's thread connects, sends, and retries with `ReconnectBackoff`
/// until `maxReconnects` failed attempts in a row (nil: until stopped); a new
/// connection starts with fresh sequence headers and the next keyframe, on the
/// session's media timeline. How "queued" is measured and why:
/// docs/ARCHITECTURE.md, "What travels between threads" and "Live streams".
///
/// `finishInput()` ends the stream: queued packets are sent (for at most
/// `drainTimeout` seconds), then the container's trailer and the protocol's
/// close.
public final class NetworkSink: @unchecked Sendable {
    /// Where the stream goes and by which protocol.
    public var destination: StreamDestination { core.destination }
    /// The destination's URL; prints redacted.
    public var url: StreamURL { core.destination.url }
    /// Failed attempts in a row after which the sink gives up; nil: never.
    public var maxReconnects: Int? { core.maxReconnects }
    public var policy: CongestionPolicy { core.policy }

    /// What the sink's thread works on; the thread holds it, not this owner.
    let core: NetworkSinkCore
    private let pool: PacketPool
    private var thread: MediaThread?

    // The feeding thread's own state.
    private var gate: CongestionGate
    private let stallLimit: Int64
    private let videoIsH264: Bool
    private var newestTime: Int64 = .min
    private var firstTime: Int64 = .min

    /// A sink for `destination` carrying `streams` (one video, at most one
    /// audio). Nothing connects until `start()`. `events` is called on the
    /// sink's thread. `startsAtKeyframe`: the first packet sent is a
    /// keyframe's (for a sink added to a running recording; otherwise the
    /// first connection sends from the first packet offered).
    public init(destination: StreamDestination, streams: [StreamParameters], maxReconnects: Int? = nil,
                policy: CongestionPolicy = CongestionPolicy(), backoff: ReconnectBackoff = ReconnectBackoff(),
                connectTimeout: Double = 10, drainTimeout: Double = 3, queueCapacity: Int = 1024,
                startsAtKeyframe: Bool = false, events: @escaping @Sendable (NetworkSinkEvent) -> Void) {
        precondition(maxReconnects.map { $0 >= 0 } ?? true, "maxReconnects cannot be negative")
        let video = streams.first { $0.kind == .video }
        core = NetworkSinkCore(destination: destination, streams: streams, maxReconnects: maxReconnects,
                               policy: policy, backoff: backoff, connectTimeout: connectTimeout,
                               drainTimeout: drainTimeout, queueCapacity: queueCapacity,
                               startsAtKeyframe: startsAtKeyframe, events: events)
        pool = PacketPool(capacity: core.ring.capacity)
        gate = CongestionGate(policy: policy)
        stallLimit = Int64(policy.stallLimit * 1e6)
        videoIsH264 = video.map { $0.codecParameters.pointee.codec_id == AV_CODEC_ID_H264 } ?? false
    }

    /// An RTMP(S) sink for `url` (see `init(destination:...)`); `authorities`
    /// is the bundle for `.addingAuthority` (built once by the caller, shared
    /// by its sinks).
    public convenience init(url: StreamURL, streams: [StreamParameters], tls: TLSVerification = .systemAuthorities,
                            authorities: CertificateAuthorityBundle? = nil, maxReconnects: Int? = nil,
                            policy: CongestionPolicy = CongestionPolicy(), backoff: ReconnectBackoff = ReconnectBackoff(),
                            connectTimeout: Double = 10, drainTimeout: Double = 3, queueCapacity: Int = 1024,
                            events: @escaping @Sendable (NetworkSinkEvent) -> Void) {
        self.init(destination: .rtmp(url, tls: tls, authorities: authorities), streams: streams,
                  maxReconnects: maxReconnects, policy: policy, backoff: backoff, connectTimeout: connectTimeout,
                  drainTimeout: drainTimeout, queueCapacity: queueCapacity, events: events)
    }

    deinit {
        // Queued packets hold references into `pool`; the core goes with them.
        assert(thread == nil || thread!.hasExited, "an NetworkSink was released while its thread ran")
    }

    /// Starts the sink's thread (named after the protocol, `rtmp` or `srt`,
    /// with `context`'s tag, log target and CPU account), which connects at once.
    public func start(context: MediaThread.Context = MediaThread.Context()) {
        precondition(thread == nil, "a sink starts once")
        let core = self.core
        let role = if case .srt = core.destination { "srt" } else { "rtmp" }
        thread = MediaThread(role: role, context: context) { core.run() }
    }

    /// Feeding thread: queues a reference to `packet` unless congestion says
    /// to drop it. Never blocks; allocates nothing in Swift.
    @inline(__always)
    public func offer(_ packet: borrowing Packet) {
        let core = self.core
        let counters = core.counters
        if core.closed.load(ordering: .relaxed) { return }
        let time = NetworkSinkCore.mediaTime(packet, video: core.videoTimeBase, audio: core.audioTimeBase)
        if time > newestTime { newestTime = time }
        if firstTime == .min { firstTime = time }
        let now = core.clock.now()
        let taken = core.consumerTime.load(ordering: .acquiring)
        let span = max(0, newestTime - (taken == .min ? firstTime : taken))
        let since = core.inFlightSince.load(ordering: .acquiring)
        let waited = since == .max ? 0 : max(0, (now - since) / 1000)
        let queued = min(span, waited)
        counters.queued.store(Int(queued))
        if queued > counters.maximumQueued.load() { counters.maximumQueued.store(Int(queued)) }
        if queued > stallLimit, counters.connected.load(ordering: .relaxed), !core.stalled.load(ordering: .relaxed) {
            core.stalled.store(true, ordering: .releasing)
            core.interrupt.abort()
        }
        let isVideo = packet.kind == .video
        let disposable = isVideo && queued > gate.disposableThreshold
            && (packet.isFlaggedDisposable
                || (videoIsH264 && H264NonReference.check(packet.pointer.pointee.data, count: Int(packet.pointer.pointee.size))))
        switch gate.decide(kind: packet.kind, isKeyframe: packet.isKeyframe, isDisposable: disposable, queued: queued) {
        case .send:
            break
        case .dropDisposable:
            counters.droppedDisposable.add()
            return
        case .dropUntilKeyframe:
            counters.droppedToKeyframe.add()
            return
        }
        guard let copy = packet.reference(from: pool) else {
            refused(isVideo: isVideo)
            return
        }
        var refusedCopy = core.ring.push(QueuedPacket(packet: copy, offeredAt: now))
        if let dropped = refusedCopy.take() {
            NetworkSinkCore.release(dropped.packet)
            refused(isVideo: isVideo)
        } else {
            core.packetsReady.notify()
        }
    }

    private func refused(isVideo: Bool) {
        core.counters.droppedQueueFull.add()
        // A hole in the video: what follows must start at a keyframe.
        if isVideo { gate.requireKeyframe() }
    }

    /// No more packets: the sink sends what is queued (for at most
    /// `drainTimeout` seconds), closes the stream and its thread ends. Call
    /// after the last `offer`, from the feeding thread or after it ended.
    public func finishInput() {
        core.interrupt.arm(seconds: core.drainTimeout)
        core.inputFinished.store(true, ordering: .releasing)
        core.packetsReady.notify()
    }

    /// Stops at once: the queue is discarded and the connection closed.
    public func abort() {
        core.stopping.store(true, ordering: .releasing)
        core.interrupt.abort()
        core.packetsReady.notify()
    }

    /// Waits for the sink's thread to end (after `finishInput()` or `abort()`).
    public func join() {
        thread?.join()
    }

    /// True once the sink's thread has ended (it gave up, or finished).
    public var isClosed: Bool { core.closed.load(ordering: .acquiring) }

    /// The counters now, with the sink's thread's CPU time.
    public var statistics: NetworkSinkStatistics {
        var statistics = core.counters.snapshot(url: core.destination.url.redacted)
        if let thread { statistics.threadCPUTime = thread.cpuTime }
        return statistics
    }
}
