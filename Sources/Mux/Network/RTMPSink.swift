import CFFmpeg
public import MediaCore
public import MediaPackets
import Synchronization

/// Streams a recording's packets as FLV to an `rtmp://` or `rtmps://` ingest
/// server, on its own thread, and keeps streaming through network trouble.
///
/// The feeding thread (the mux thread) calls `offer(_:)` for every packet,
/// in decoding order. `offer` never blocks: it takes a reference to the
/// packet's payload (no copy) from the sink's own packet pool and pushes it
/// into the sink's bounded lock-free queue, unless the congestion policy says
/// to drop it. So the encoders and the file sink never wait on the network.
///
/// The queue is bounded in media time (`CongestionPolicy`): past 0.7 s
/// queued, disposable video frames are dropped; past 0.9 s, video up to the
/// next keyframe; audio is never dropped for congestion; past 5 s the
/// connection is taken for stalled and reconnected. Every drop is counted.
/// The ring behind it (1024 packets) is a hard backstop that only a stalled
/// connection can fill.
///
/// "Queued" is the smaller of two measures: the media time between the
/// newest packet offered and the packet being sent, and how long (wall
/// clock) the packet being sent has waited since it was offered. Under
/// congestion both grow together, since media is produced in real time. A
/// burst (at start the encoders' first packets reach the interleaver in a
/// clump, several hundred ms of media at once) makes only the first large,
/// and a stalled encoder only the second: neither is congestion.
///
/// The sink's thread connects, sends and, when the connection fails or the
/// server goes away, retries with `ReconnectBackoff` (about 2 s, then
/// doubling, capped at 30 s, with jitter) until `maxReconnects` failed
/// attempts in a row (nil: until stopped). Media arriving while disconnected
/// is discarded and counted. A new connection starts with fresh FLV sequence
/// headers and the next keyframe; its timestamps continue the session's
/// media timeline (a connection made 12 s in starts at 12 s, never back at
/// 0), so what the server receives is on one timeline across reconnections.
///
/// `finishInput()` ends the stream: queued packets are sent (for at most
/// `drainTimeout` seconds), then the FLV trailer and the RTMP close.
public final class RTMPSink: @unchecked Sendable {
    /// The destination; prints redacted.
    public var url: StreamURL { core.url }
    public var tls: TLSVerification { core.tls }
    /// Failed attempts in a row after which the sink gives up; nil: never.
    public var maxReconnects: Int? { core.maxReconnects }
    public var policy: CongestionPolicy { core.policy }

    /// What the sink's thread works on; the thread holds it, not this owner.
    let core: RTMPSinkCore
    private let pool: PacketPool
    private var thread: MediaThread?

    // The feeding thread's own state.
    private var gate: CongestionGate
    private let stallLimit: Int64
    private let videoIsH264: Bool
    private var newestTime: Int64 = .min
    private var firstTime: Int64 = .min

    /// A sink for `url` carrying `streams` (one video, at most one audio).
    /// Nothing connects until `start()`. `authorities` is the bundle for
    /// `.addingAuthority` (built once by the caller, shared by its sinks).
    /// `events` is called on the sink's thread.
    public init(url: StreamURL, streams: [StreamParameters], tls: TLSVerification = .systemAuthorities,
                authorities: CertificateAuthorityBundle? = nil, maxReconnects: Int? = nil,
                policy: CongestionPolicy = CongestionPolicy(), backoff: ReconnectBackoff = ReconnectBackoff(),
                connectTimeout: Double = 10, drainTimeout: Double = 3, queueCapacity: Int = 1024,
                events: @escaping @Sendable (RTMPSinkEvent) -> Void) {
        precondition(maxReconnects.map { $0 >= 0 } ?? true, "maxReconnects cannot be negative")
        let video = streams.first { $0.kind == .video }
        core = RTMPSinkCore(url: url, streams: streams, tls: tls, authorities: authorities,
                            maxReconnects: maxReconnects, policy: policy, backoff: backoff,
                            connectTimeout: connectTimeout, drainTimeout: drainTimeout,
                            queueCapacity: queueCapacity, events: events)
        pool = PacketPool(capacity: core.ring.capacity)
        gate = CongestionGate(policy: policy)
        stallLimit = Int64(policy.stallLimit * 1e6)
        videoIsH264 = video.map { $0.codecParameters.pointee.codec_id == AV_CODEC_ID_H264 } ?? false
    }

    deinit {
        // Queued packets hold references into `pool`; the core goes with them.
        assert(thread == nil || thread!.hasExited, "an RTMPSink was released while its thread ran")
    }

    /// Starts the sink's thread (named `rtmp`, with `context`'s tag, log
    /// target and CPU account), which connects at once.
    public func start(context: MediaThread.Context = MediaThread.Context()) {
        precondition(thread == nil, "a sink starts once")
        let core = self.core
        thread = MediaThread(role: "rtmp", context: context) { core.run() }
    }

    /// Feeding thread: queues a reference to `packet` unless congestion says
    /// to drop it. Never blocks; allocates nothing in Swift.
    @inline(__always)
    public func offer(_ packet: borrowing Packet) {
        let core = self.core
        let counters = core.counters
        if core.closed.load(ordering: .relaxed) { return }
        let time = RTMPSinkCore.mediaTime(packet, video: core.videoTimeBase, audio: core.audioTimeBase)
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
            RTMPSinkCore.release(dropped.packet)
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
    public var statistics: RTMPSinkStatistics {
        var statistics = core.counters.snapshot(url: core.url.redacted)
        if let thread { statistics.threadCPUTime = thread.cpuTime }
        return statistics
    }
}
