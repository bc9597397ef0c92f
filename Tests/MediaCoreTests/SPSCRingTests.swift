import Foundation
import MediaCore
import Synchronization
import Testing
import TestSupport

/// Items to pass through the ring in the two-thread test: four million by
/// default (a debug build moves them in about 15 s on this machine, with
/// hundreds of thousands of wrap-arounds of the indices and full/empty
/// transitions); the ThreadSanitizer run (about 20x slower) sets fewer, a
/// stress run may set more.
private let crossThreadItemCount: Int = {
    if let text = ProcessInfo.processInfo.environment["RING_TEST_ITEMS"], let count = Int(text) { return count }
    return 4_000_000
}()

/// A noncopyable element that counts how many of it are alive, so a test can see
/// any duplicate or leak.
private struct Tracked: ~Copyable {
    static let alive = Atomic<Int>(0)
    let value: Int
    init(_ value: Int) {
        self.value = value
        Self.alive.add(1, ordering: .relaxed)
    }
    deinit { Self.alive.subtract(1, ordering: .relaxed) }
}

@Suite(.serialized) struct SPSCRingTests {
    @Test func capacityRoundsUpToPowerOfTwo() {
        #expect(SPSCRing<Int>(minimumCapacity: 1).capacity == 1)
        #expect(SPSCRing<Int>(minimumCapacity: 5).capacity == 8)
        #expect(SPSCRing<Int>(minimumCapacity: 1024).capacity == 1024)
    }

    @Test func fullAndEmptyEdges() {
        let ring = SPSCRing<Int>(minimumCapacity: 4)
        #expect(ring.pop() == nil)
        for round in 0..<3 {  // several laps, so the indices wrap past the capacity
            for i in 0..<4 { #expect(ring.push(round * 10 + i) == nil) }
            #expect(ring.approximateCount == 4)
            let refused = ring.push(99)
            #expect(refused == 99, "a full ring hands the element back")
            for i in 0..<4 { #expect(ring.pop() == round * 10 + i) }
            #expect(ring.pop() == nil)
            #expect(ring.approximateCount == 0)
        }
    }

    @Test func noncopyableElementsAreNeitherDuplicatedNorLeaked() {
        let before = Tracked.alive.load(ordering: .relaxed)
        do {
            let ring = SPSCRing<Tracked>(minimumCapacity: 8)
            for i in 0..<8 {
                let refused = ring.push(Tracked(i))
                let accepted = refused.isNil
                #expect(accepted)
            }
            #expect(Tracked.alive.load(ordering: .relaxed) == before + 8)
            // Refused element comes back to us and dies here, once.
            if let back = ring.push(Tracked(100)) { #expect(back.value == 100) } else { Issue.record("full ring accepted") }
            #expect(Tracked.alive.load(ordering: .relaxed) == before + 8)
            for i in 0..<5 {
                guard let item = ring.pop() else { Issue.record("ring empty early"); return }
                #expect(item.value == i)
            }
            #expect(Tracked.alive.load(ordering: .relaxed) == before + 3)
            // Three stay queued; the ring's deinit must destroy them.
        }
        #expect(Tracked.alive.load(ordering: .relaxed) == before)
    }

    @Test func twoThreadsDeliverEverythingInOrder() async {
        let count = crossThreadItemCount
        let ring = SPSCRing<Int>(minimumCapacity: 1024)
        let producer = TestThread {
            var next = 0
            while next < count {
                if ring.push(next) == nil { next += 1 }
            }
        }
        let received = Atomic<Int>(0)
        let firstError = Atomic<Int>(-1)
        let consumer = TestThread {
            var expected = 0
            while expected < count {
                if let value = ring.pop() {
                    if value != expected, firstError.load(ordering: .relaxed) < 0 {
                        firstError.store(expected, ordering: .relaxed)
                    }
                    expected += 1
                }
            }
            received.store(expected, ordering: .releasing)
        }
        await TestThread.runAll([producer, consumer])
        #expect(received.load(ordering: .acquiring) == count)
        #expect(firstError.load(ordering: .relaxed) == -1, "item out of order")
        #expect(ring.pop() == nil)
    }

    @Test func noncopyableElementsCrossThreadsExactlyOnce() async {
        let count = min(crossThreadItemCount, 2_000_000)
        let before = Tracked.alive.load(ordering: .relaxed)
        let ring = SPSCRing<Tracked>(minimumCapacity: 64)
        let sum = Atomic<Int>(0)
        let producer = TestThread {
            var next = 0
            var pending: Tracked? = nil
            while next < count {
                let item = pending.take() ?? Tracked(next)
                if let back = ring.push(item) { pending = consume back } else { next += 1 }
            }
        }
        let consumer = TestThread {
            var seen = 0
            var total = 0
            while seen < count {
                if let item = ring.pop() { total &+= item.value; seen += 1 }
            }
            sum.store(total, ordering: .releasing)
        }
        await TestThread.runAll([producer, consumer])
        #expect(sum.load(ordering: .acquiring) == count * (count - 1) / 2)
        #expect(Tracked.alive.load(ordering: .relaxed) == before)
    }
}

extension Optional where Wrapped: ~Copyable {
    /// Whether this is `.none`, without consuming a noncopyable payload.
    var isNil: Bool {
        switch self {
        case .none: true
        case .some: false
        }
    }
}
