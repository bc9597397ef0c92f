import Foundation
import MediaCore
import Synchronization
import Testing
import TestSupport

/// The pools' free list with several takers and several givers at once: no
/// slot is ever held twice, none is lost. Run again under ThreadSanitizer by
/// the test command, which also checks the links are read and written
/// without a data race.
@Suite(.serialized) struct SlotFreeListTests {
    private static var rounds: Int {
        ProcessInfo.processInfo.environment["RING_TEST_ITEMS"].flatMap { Int($0) }.map { $0 / 20 } ?? 500_000
    }

    /// The list and a holder count per slot, shared by the test's threads.
    private final class Shared: @unchecked Sendable {
        let list: SlotFreeList
        let holders: UnsafeMutablePointer<Atomic<Int>>
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            list = SlotFreeList(capacity: capacity)
            holders = .allocate(capacity: capacity)
            for index in 0..<capacity { (holders + index).initialize(to: Atomic(0)) }
        }

        deinit {
            holders.deinitialize(count: capacity)
            holders.deallocate()
        }
    }

    @Test func fourThreadsTakingAndGivingNeverShareASlot() async {
        let capacity = 8
        let shared = Shared(capacity: capacity)
        let collisions = Atomic<Int>(0)
        let rounds = Self.rounds
        let threads = (0..<4).map { _ in
            TestThread {
                var done = 0
                while done < rounds {
                    guard let slot = shared.list.take() else { continue }
                    // Exactly one holder at a time.
                    if shared.holders[Int(slot)].add(1, ordering: .acquiringAndReleasing).newValue != 1 {
                        collisions.add(1, ordering: .relaxed)
                    }
                    shared.holders[Int(slot)].subtract(1, ordering: .acquiringAndReleasing)
                    shared.list.give(slot)
                    done += 1
                }
            }
        }
        await TestThread.runAll(threads)
        #expect(collisions.load(ordering: .relaxed) == 0)
        #expect(shared.list.freeCount == capacity)
        var seen = Set<Int32>()
        while let slot = shared.list.take() { seen.insert(slot) }
        #expect(seen == Set(0..<Int32(capacity)), "every slot is back exactly once")
    }

    @Test func aBufferPoolWithTwoTakersAndOneGiver() async {
        let pool = BufferPool(count: 6, byteCount: 64)
        let ring = SPSCRing<PooledBuffer>(minimumCapacity: 4)
        let corrupt = Atomic<Int>(0)
        let rounds = Self.rounds / 2
        // Two takers stamp a buffer, check the stamp, and either hand it on
        // (one of them, through the ring) or drop it back themselves.
        let handing = TestThread {
            var done = 0
            while done < rounds {
                guard let buffer = pool.acquire() else { continue }
                buffer.baseAddress.storeBytes(of: 1, as: Int.self)
                if let back = ring.push(buffer) { _ = consume back }
                done += 1
            }
        }
        let dropping = TestThread {
            var done = 0
            while done < rounds {
                guard let buffer = pool.acquire() else { continue }
                buffer.baseAddress.storeBytes(of: 2, as: Int.self)
                if buffer.baseAddress.load(as: Int.self) != 2 { corrupt.add(1, ordering: .relaxed) }
                done += 1
            }
        }
        let giver = TestThread {
            var done = 0
            while done < rounds {
                if let buffer = ring.pop() {
                    if buffer.baseAddress.load(as: Int.self) != 1 { corrupt.add(1, ordering: .relaxed) }
                    done += 1
                } else if ring.approximateCount == 0 {
                    // The handing side may have had every push refused at the end.
                    if done > 0 && pool.availableCount == pool.count { break }
                }
            }
        }
        await TestThread.runAll([handing, dropping, giver])
        while let buffer = ring.pop() { _ = consume buffer }
        #expect(corrupt.load(ordering: .relaxed) == 0, "a buffer was held by two threads at once")
        #expect(pool.availableCount == pool.count)
    }
}
