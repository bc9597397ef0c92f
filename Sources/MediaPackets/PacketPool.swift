public import MediaCore
import CFFmpeg
import Synchronization

/// A fixed set of `AVPacket` structs allocated at start and recycled for the
/// whole session, so an encoder hands out packets without `av_packet_alloc`.
///
/// Packets are taken on an encoder thread and usually given back on the mux
/// thread (or on the encoder thread, when a receive finds nothing): the free
/// list is a lock-free `SlotFreeList`, as in `BufferPool`, so taking and
/// returning never lock.
///
/// When every packet is out (a sink fell far behind), `acquire` allocates one
/// more packet that is freed instead of recycled, and counts it in
/// `overflowCount`: the encoder never stalls on the pool.
public final class PacketPool: @unchecked Sendable {
    /// Packets in the pool.
    public let capacity: Int
    private let packets: UnsafeMutablePointer<UnsafeMutablePointer<AVPacket>>
    private let freeSlots: SlotFreeList
    private let overflows: Atomic<Int>

    /// Allocates `capacity` packets.
    public init(capacity: Int = 128) {
        precondition(capacity > 0 && capacity < Int(Int32.max))
        self.capacity = capacity
        packets = .allocate(capacity: capacity)
        for index in 0..<capacity {
            guard let packet = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
            (packets + index).initialize(to: packet)
        }
        freeSlots = SlotFreeList(capacity: capacity)
        overflows = Atomic(0)
    }

    deinit {
        // Every packet holds the pool strongly, so all of them are back by now.
        for index in 0..<capacity {
            var packet: UnsafeMutablePointer<AVPacket>? = packets[index]
            av_packet_free(&packet)
        }
        packets.deallocate()
    }

    /// Packets not in use right now.
    public var availableCount: Int { freeSlots.freeCount }

    /// Packets allocated because the pool was empty (each freed after use).
    public var overflowCount: Int { overflows.load(ordering: .relaxed) }

    /// Takes a blank packet for stream `kind`.
    @inline(__always)
    public func acquire(kind: StreamKind) -> Packet {
        guard let index = freeSlots.take() else { return overflowPacket(kind: kind) }
        return Packet(pointer: packets[Int(index)], kind: kind, slot: index, pool: self)
    }

    private func overflowPacket(kind: StreamKind) -> Packet {
        guard let packet = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
        overflows.add(1, ordering: .relaxed)
        return Packet(pointer: packet, kind: kind, slot: -1, pool: self)
    }

    /// Returns slot `index`; its packet has been unreferenced already.
    @inline(__always)
    func recycle(_ index: Int32) {
        freeSlots.give(index)
    }
}
