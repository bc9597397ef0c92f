import Synchronization

/// A lock-free stack of free slot indices `0..<capacity`, for pools whose
/// items are taken and returned on any threads, several at once.
///
/// A Treiber stack over indices: the head word holds the top index in its low
/// 32 bits and a generation tag in its high 32 bits, bumped on every change,
/// so a thread that read a stale head cannot swing it (ABA). Taking and
/// returning never lock and never allocate.
///
/// Each slot's link to the next free slot is itself an atomic: a taker reads
/// the link of the slot it found on top while a giver may be rewriting it
/// (the slot was taken and given back meanwhile). The taker's compare-exchange
/// then fails on the tag and it retries, but the read itself must not be a
/// data race, so links are relaxed atomics; the head's acquire/release
/// orders them.
package struct SlotFreeList: ~Copyable {
    package let capacity: Int
    private let next: UnsafeMutablePointer<Atomic<Int32>>
    private let head: Atomic<UInt64>
    private let free: Atomic<Int>

    private static var emptyIndex: UInt64 { 0xFFFF_FFFF }

    /// Starts with every slot free.
    package init(capacity: Int) {
        precondition(capacity > 0 && capacity < Int(Int32.max))
        self.capacity = capacity
        next = .allocate(capacity: capacity)
        for index in 0..<capacity {
            (next + index).initialize(to: Atomic(index + 1 < capacity ? Int32(index + 1) : -1))
        }
        head = Atomic(0)
        free = Atomic(capacity)
    }

    deinit {
        next.deinitialize(count: capacity)
        next.deallocate()
    }

    /// Slots free right now (a relaxed reading).
    package var freeCount: Int { free.load(ordering: .relaxed) }

    /// Takes a free slot, or returns nil when none is free.
    @inline(__always)
    package func take() -> Int32? {
        var observed = head.load(ordering: .acquiring)
        while true {
            let index = observed & Self.emptyIndex
            if index == Self.emptyIndex { return nil }
            let successor = next[Int(index)].load(ordering: .relaxed)
            let desired = ((observed >> 32) &+ 1) << 32 | UInt64(UInt32(bitPattern: successor))
            let (exchanged, original) = head.compareExchange(
                expected: observed, desired: desired, ordering: .acquiringAndReleasing)
            if exchanged {
                free.subtract(1, ordering: .relaxed)
                return Int32(truncatingIfNeeded: index)
            }
            observed = original
        }
    }

    /// Returns `index`, which must have been taken and not yet returned.
    @inline(__always)
    package func give(_ index: Int32) {
        free.add(1, ordering: .relaxed)
        var observed = head.load(ordering: .relaxed)
        while true {
            let top = observed & Self.emptyIndex
            next[Int(index)].store(top == Self.emptyIndex ? -1 : Int32(truncatingIfNeeded: top), ordering: .relaxed)
            let desired = ((observed >> 32) &+ 1) << 32 | UInt64(UInt32(bitPattern: index))
            let (exchanged, original) = head.compareExchange(
                expected: observed, desired: desired, ordering: .acquiringAndReleasing)
            if exchanged { return }
            observed = original
        }
    }
}
