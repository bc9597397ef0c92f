import CFFmpeg
import MediaCore
import MediaPackets
import Synchronization

/// What an `NetworkSink`'s thread works on, and what the feeding thread shares
/// with it: the queue, its wake-up, the flags and counters. The thread's body
/// holds this object, never the sink that owns the thread.
final class NetworkSinkCore: @unchecked Sendable {
    let destination: StreamDestination
    let maxReconnects: Int?
    let policy: CongestionPolicy
    let backoff: ReconnectBackoff
    /// Longest a connection may take to come up (TCP, TLS, RTMP publish; the
    /// SRT handshake).
    let connectTimeout: Double
    /// Longest the queue may take to drain at the end.
    let drainTimeout: Double
    let streams: [StreamParameters]
    let events: @Sendable (NetworkSinkEvent) -> Void
    let ring: SPSCRing<QueuedPacket>
    /// Notified after a packet is queued and when input ends or the sink
    /// aborts: the sink's thread sleeps on it while the queue is empty.
    let packetsReady = WakeSignal()
    let interrupt = IOInterrupt()
    let counters = NetworkSinkCounters()
    let clock = MonotonicClock()
    /// Media time (µs) of the packet the sink's thread took last; `.min` before the first.
    let consumerTime = Atomic<Int64>(.min)
    /// When the packet the sink's thread is sending was offered (monotonic
    /// ns); `Int64.max` while the queue is empty or nothing is being sent.
    let inFlightSince = Atomic<Int64>(.max)
    /// No more packets will be offered.
    let inputFinished = Atomic<Bool>(false)
    /// Stop at once, sending nothing more.
    let stopping = Atomic<Bool>(false)
    /// The feeding thread found the queue past the stall limit and aborted the I/O.
    let stalled = Atomic<Bool>(false)
    /// The sink's thread has ended (gave up, or stopped): offers are ignored.
    let closed = Atomic<Bool>(false)
    let videoTimeBase: AVRational
    /// The first connection waits for a keyframe too (a sink added to a
    /// running recording gets packets from the middle of a GOP).
    let startsAtKeyframe: Bool
    let audioTimeBase: AVRational

    static let microseconds = AVRational(num: 1, den: 1_000_000)

    init(destination: StreamDestination, streams: [StreamParameters], maxReconnects: Int?, policy: CongestionPolicy,
         backoff: ReconnectBackoff, connectTimeout: Double, drainTimeout: Double, queueCapacity: Int,
         startsAtKeyframe: Bool = false, events: @escaping @Sendable (NetworkSinkEvent) -> Void) {
        self.startsAtKeyframe = startsAtKeyframe
        self.destination = destination
        self.streams = streams
        self.maxReconnects = maxReconnects
        self.policy = policy
        self.backoff = backoff
        self.connectTimeout = connectTimeout
        self.drainTimeout = drainTimeout
        self.events = events
        ring = SPSCRing(minimumCapacity: queueCapacity)
        videoTimeBase = streams.first { $0.kind == .video }?.timeBase ?? AVRational(num: 1, den: 1)
        audioTimeBase = streams.first { $0.kind == .audio }?.timeBase ?? AVRational(num: 1, den: 1)
    }

    @inline(__always)
    static func release(_ packet: consuming Packet) {}

    /// A packet's decoding time in microseconds.
    @inline(__always)
    static func mediaTime(_ packet: borrowing Packet, video: AVRational, audio: AVRational) -> Int64 {
        av_rescale_q(packet.decodingTimestamp, packet.kind == .video ? video : audio, microseconds)
    }
}
