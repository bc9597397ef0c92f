import MediaCore
import MediaPackets

/// A packet in a network sink's queue, with the `CLOCK_MONOTONIC` time it was
/// offered: how long the packet being sent has waited is what tells
/// congestion (the network falls behind real time) from a burst (the encoders
/// or the interleaver hand over several frames at once, which a healthy
/// connection sends within milliseconds).
struct QueuedPacket: ~Copyable {
    var packet: Packet
    /// Nanoseconds on the monotonic clock.
    let offeredAt: Int64
}
