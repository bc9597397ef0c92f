public import Synchronization

/// A bounded single-producer single-consumer queue that never blocks, never
/// allocates after creation and moves its elements (noncopyable ones included).
///
/// Exactly one thread may call `push` and exactly one (other) thread may call
/// `pop`; that contract is the caller's, as with swift-system's `IORing`.
///
/// Layout: indices run free (they are never wrapped, only masked), `head` is
/// written only by the consumer and `tail` only by the producer, each on its
/// own 128-byte block (two cache lines, against adjacent-line prefetch) together
/// with that side's private cache of the other side's index. A side reads the
/// other's atomic only when its cached copy says the ring looks full (or empty).
///
/// `push` and `pop` are inlinable so callers in other modules get them
/// specialized for their element type: unspecialized generic code through
/// witness tables halves the throughput.
public final class SPSCRing<Element: ~Copyable>: @unchecked Sendable {
    /// How many elements the ring holds at most (a power of two).
    public let capacity: Int
    @usableFromInline let mask: Int
    @usableFromInline let slots: UnsafeMutablePointer<Element>
    @usableFromInline let control: UnsafeMutableRawPointer

    @usableFromInline static var lineBlock: Int { 128 }

    /// Creates a ring holding at least `minimumCapacity` elements; the capacity
    /// is rounded up to a power of two.
    public init(minimumCapacity: Int) {
        precondition(minimumCapacity > 0, "a ring needs room for one element")
        var capacity = 1
        while capacity < minimumCapacity { capacity <<= 1 }
        self.capacity = capacity
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        control = .allocate(byteCount: 2 * Self.lineBlock, alignment: Self.lineBlock)
        // Block 0: consumer's line (head, consumer's cached tail).
        // Block 1: producer's line (tail, producer's cached head).
        (control).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        (control + 8).bindMemory(to: Int.self, capacity: 1).initialize(to: 0)
        (control + Self.lineBlock).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        (control + Self.lineBlock + 8).bindMemory(to: Int.self, capacity: 1).initialize(to: 0)
    }

    @inlinable @inline(__always) var head: UnsafeMutablePointer<Atomic<Int>> {
        control.assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inlinable @inline(__always) var consumerCachedTail: UnsafeMutablePointer<Int> {
        (control + 8).assumingMemoryBound(to: Int.self)
    }
    @inlinable @inline(__always) var tail: UnsafeMutablePointer<Atomic<Int>> {
        (control + Self.lineBlock).assumingMemoryBound(to: Atomic<Int>.self)
    }
    @inlinable @inline(__always) var producerCachedHead: UnsafeMutablePointer<Int> {
        (control + Self.lineBlock + 8).assumingMemoryBound(to: Int.self)
    }

    deinit {
        // Both threads are gone by now: drop whatever is still queued.
        var index = head.pointee.load(ordering: .relaxed)
        let end = tail.pointee.load(ordering: .relaxed)
        while index != end {
            (slots + (index & mask)).deinitialize(count: 1)
            index &+= 1
        }
        slots.deallocate()
        head.deinitialize(count: 1)
        tail.deinitialize(count: 1)
        control.deallocate()
    }

    /// Producer side: moves `element` into the ring. When the ring is full the
    /// element is handed back, so the caller decides what a drop means (return a
    /// buffer to its pool, count it).
    @inlinable @inline(__always)
    public func push(_ element: consuming Element) -> Element? {
        let t = tail.pointee.load(ordering: .relaxed)
        if t &- producerCachedHead.pointee == capacity {
            producerCachedHead.pointee = head.pointee.load(ordering: .acquiring)
            if t &- producerCachedHead.pointee == capacity { return element }
        }
        (slots + (t & mask)).initialize(to: element)
        tail.pointee.store(t &+ 1, ordering: .releasing)
        return nil
    }

    /// Consumer side: moves the oldest element out, or returns nil when empty.
    @inlinable @inline(__always)
    public func pop() -> Element? {
        let h = head.pointee.load(ordering: .relaxed)
        if h == consumerCachedTail.pointee {
            consumerCachedTail.pointee = tail.pointee.load(ordering: .acquiring)
            if h == consumerCachedTail.pointee { return nil }
        }
        let element = (slots + (h & mask)).move()
        head.pointee.store(h &+ 1, ordering: .releasing)
        return element
    }

    /// An estimate of the queued count; exact only when neither side is active.
    public var approximateCount: Int {
        tail.pointee.load(ordering: .acquiring) &- head.pointee.load(ordering: .acquiring)
    }
}
