/// A fixed set of equally sized buffers, made at start and recycled for the
/// whole session: the pool never grows while recording, and taking or returning
/// a buffer never allocates and never locks.
///
/// The free list is a lock-free `SlotFreeList`, so any thread may take or
/// return a buffer (a capture thread drops a frame it could not queue; an
/// encoder thread returns the ones it finished).
///
/// The pool must outlive every `PooledBuffer` taken from it: buffers point back
/// to it without retaining it, so the hot path has no reference counting.
public final class BufferPool: @unchecked Sendable {
    /// Number of buffers in the pool.
    public let count: Int
    /// Usable bytes in each buffer.
    public let byteCount: Int
    private let slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private let freeSlots: SlotFreeList
    private let slab: UnsafeMutableRawPointer?
    /// Whatever owns adopted memory (shared-memory segments, for instance); the
    /// pool keeps it alive and releases it last.
    private let memoryOwner: AnyObject?

    /// Creates `count` buffers of `byteCount` bytes each in one aligned slab.
    public convenience init(count: Int, byteCount: Int, alignment: Int = 64) {
        precondition(count > 0 && byteCount > 0)
        let stride = (byteCount + alignment - 1) / alignment * alignment
        let slab = UnsafeMutableRawPointer.allocate(byteCount: stride * count, alignment: alignment)
        let slots = (0..<count).map { slab + $0 * stride }
        self.init(slots: slots, byteCount: byteCount, slab: slab, memoryOwner: nil)
    }

    /// Adopts buffers that `memoryOwner` allocated and frees; the pool keeps the
    /// owner alive for as long as it lives.
    public convenience init(adopting slots: [UnsafeMutableRawPointer], byteCount: Int, memoryOwner: AnyObject) {
        self.init(slots: slots, byteCount: byteCount, slab: nil, memoryOwner: memoryOwner)
    }

    private init(slots: [UnsafeMutableRawPointer], byteCount: Int, slab: UnsafeMutableRawPointer?, memoryOwner: AnyObject?) {
        precondition(!slots.isEmpty && slots.count < Int(Int32.max))
        count = slots.count
        self.byteCount = byteCount
        self.slab = slab
        self.memoryOwner = memoryOwner
        self.slots = .allocate(capacity: slots.count)
        self.slots.initialize(from: slots, count: slots.count)
        freeSlots = SlotFreeList(capacity: slots.count)
    }

    deinit {
        precondition(freeSlots.freeCount == count,
                     "a BufferPool was released while some of its buffers were still in use")
        slots.deallocate()
        slab?.deallocate()
    }

    /// Buffers not in use right now.
    public var availableCount: Int { freeSlots.freeCount }

    /// Takes a free buffer, or returns nil when all are in use.
    @inline(__always)
    public func acquire() -> PooledBuffer? {
        guard let index = freeSlots.take() else { return nil }
        return PooledBuffer(pool: self, index: index, baseAddress: slots[Int(index)])
    }

    @inline(__always)
    fileprivate func release(_ index: Int32) {
        freeSlots.give(index)
    }
}

/// One buffer on loan from a `BufferPool`; it goes back to the pool when this
/// value is destroyed, exactly once, because it cannot be copied.
public struct PooledBuffer: ~Copyable, @unchecked Sendable {
    private unowned(unsafe) let pool: BufferPool
    /// Which slot of the pool this is (stable for the pool's life).
    public let index: Int32
    /// Start of the buffer's `pool.byteCount` bytes.
    public let baseAddress: UnsafeMutableRawPointer

    fileprivate init(pool: BufferPool, index: Int32, baseAddress: UnsafeMutableRawPointer) {
        self.pool = pool
        self.index = index
        self.baseAddress = baseAddress
    }

    /// Usable bytes in the buffer.
    public var byteCount: Int { pool.byteCount }

    deinit { pool.release(index) }
}
