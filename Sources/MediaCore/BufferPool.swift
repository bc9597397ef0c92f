#if canImport(Glibc)
import Glibc
#endif

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
///
/// A backlog touches buffers a steady session never uses again; `trim(keeping:)`
/// gives their pages back, so the pool's resident memory follows its working
/// set rather than its largest backlog.
public final class BufferPool: @unchecked Sendable {
    /// How `trim(keeping:)` gives a free buffer's pages back (madvise(2)).
    public enum PageRelease: Sendable {
        /// `MADV_DONTNEED`: private memory (malloc'd, anonymous).
        case dontNeed
        /// `MADV_REMOVE`: shared memory (SysV shm, tmpfs), whose pages another
        /// process may also map: the backing pages themselves are freed.
        case remove
    }

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
    private let pageRelease: PageRelease
    /// `trim`'s scratch list of the indices it took, `count` long.
    private let trimOrder: UnsafeMutablePointer<Int32>

    /// Creates `count` buffers of `byteCount` bytes each in one aligned slab.
    public convenience init(count: Int, byteCount: Int, alignment: Int = 64) {
        precondition(count > 0 && byteCount > 0)
        let stride = (byteCount + alignment - 1) / alignment * alignment
        let slab = UnsafeMutableRawPointer.allocate(byteCount: stride * count, alignment: alignment)
        let slots = (0..<count).map { slab + $0 * stride }
        self.init(slots: slots, byteCount: byteCount, slab: slab, memoryOwner: nil, pageRelease: .dontNeed)
    }

    /// Adopts buffers that `memoryOwner` allocated and frees; the pool keeps the
    /// owner alive for as long as it lives. `pageRelease`: how `trim` gives
    /// their pages back (`.remove` for shared memory).
    public convenience init(adopting slots: [UnsafeMutableRawPointer], byteCount: Int, memoryOwner: AnyObject,
                            pageRelease: PageRelease = .dontNeed) {
        self.init(slots: slots, byteCount: byteCount, slab: nil, memoryOwner: memoryOwner, pageRelease: pageRelease)
    }

    private init(slots: [UnsafeMutableRawPointer], byteCount: Int, slab: UnsafeMutableRawPointer?, memoryOwner: AnyObject?,
                 pageRelease: PageRelease) {
        precondition(!slots.isEmpty && slots.count < Int(Int32.max))
        count = slots.count
        self.byteCount = byteCount
        self.slab = slab
        self.memoryOwner = memoryOwner
        self.pageRelease = pageRelease
        trimOrder = .allocate(capacity: slots.count)
        self.slots = .allocate(capacity: slots.count)
        self.slots.initialize(from: slots, count: slots.count)
        freeSlots = SlotFreeList(capacity: slots.count)
    }

    deinit {
        precondition(freeSlots.freeCount == count,
                     "a BufferPool was released while some of its buffers were still in use")
        slots.deallocate()
        trimOrder.deallocate()
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

    /// Gives back to the system the pages of every free buffer but the
    /// `keeping` most recently returned (the free list is last in, first
    /// out, so those are the ones a steady session cycles through); a buffer
    /// given back reads as zeros and is faulted in again when next written.
    ///
    /// Call only on the thread that acquires buffers (nothing may acquire
    /// meanwhile; other threads may return buffers), and now and then, not per
    /// frame: one madvise(2) per free buffer beyond `keeping`. Never allocates.
    /// - Returns: how many buffers' pages were given back.
    @discardableResult
    public func trim(keeping: Int) -> Int {
        var taken = 0
        while let index = freeSlots.take() {
            trimOrder[taken] = index
            taken += 1
        }
        var released = 0
        if taken > keeping {
            for position in keeping..<taken where releasePages(of: slots[Int(trimOrder[position])]) { released += 1 }
        }
        // Back coldest first, so the most recently used are on top again.
        var position = taken
        while position > 0 {
            position -= 1
            freeSlots.give(trimOrder[position])
        }
        return released
    }

    /// madvise(2) over the whole pages inside one buffer.
    private func releasePages(of buffer: UnsafeMutableRawPointer) -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: buffer) + page - 1) / page * page
        // A shared segment is whole pages from its page-aligned start; a
        // buffer inside private memory keeps its partial pages.
        let end = pageRelease == .remove
            ? (Int(bitPattern: buffer) + byteCount + page - 1) / page * page
            : (Int(bitPattern: buffer) + byteCount) / page * page
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return false }
        return madvise(address, end - start, pageRelease == .remove ? MADV_REMOVE : MADV_DONTNEED) == 0
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
