import MediaCore
import MediaPackets

/// A fixed-capacity first-in first-out queue of packets, used by one thread:
/// one stream's side of the interleaver. Made once, never grows; unlike
/// `SPSCRing` it can look at its oldest packet without taking it out.
final class PacketQueue {
    let capacity: Int
    private let slots: UnsafeMutablePointer<Packet>
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
    }

    deinit {
        // Packets still queued go back to their pools.
        while count > 0 { _ = pop() }
        slots.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == capacity }

    /// Appends `packet`; the queue must not be full.
    @inline(__always)
    func push(_ packet: consuming Packet) {
        precondition(count < capacity, "packet queue overflow")
        var tail = head + count
        if tail >= capacity { tail -= capacity }
        (slots + tail).initialize(to: packet)
        count += 1
    }

    /// Takes the oldest packet out.
    @inline(__always)
    func pop() -> Packet? {
        guard count > 0 else { return nil }
        let packet = (slots + head).move()
        head += 1
        if head == capacity { head = 0 }
        count -= 1
        return packet
    }

    /// The oldest packet's decoding timestamp, or nil when empty.
    @inline(__always)
    var oldestDecodingTimestamp: Int64? {
        count > 0 ? (slots + head).pointee.decodingTimestamp : nil
    }
}
