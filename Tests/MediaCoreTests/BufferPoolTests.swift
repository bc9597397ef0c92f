import MediaCore
import Synchronization
import Testing
import TestSupport

@Suite struct BufferPoolTests {
    @Test func hasFixedCountAndRecyclesBuffers() {
        let pool = BufferPool(count: 3, byteCount: 100)
        var taken: [Int32] = []
        do {
            guard let a = pool.acquire(), let b = pool.acquire(), let c = pool.acquire() else {
                Issue.record("pool had fewer than 3 buffers"); return
            }
            let extra = pool.acquire()
            let poolWasEmpty = extra.isNil
            #expect(poolWasEmpty, "the pool never grows")
            _ = consume extra
            #expect(pool.availableCount == 0)
            taken = [a.index, b.index, c.index]
            #expect(Set(taken).count == 3)
            #expect(Set([a.baseAddress, b.baseAddress, c.baseAddress]).count == 3)
            _ = consume b
            #expect(pool.availableCount == 1)
            guard let again = pool.acquire() else { Issue.record("released buffer did not come back"); return }
            #expect(again.index == taken[1])
            _ = consume a
            _ = consume c
            _ = consume again
        }
        #expect(pool.availableCount == 3)
    }

    @Test func buffersMoveBetweenThreadsWithoutLoss() async {
        let pool = BufferPool(count: 16, byteCount: 64)
        let ring = SPSCRing<PooledBuffer>(minimumCapacity: 8)
        let rounds = 200_000
        let producer = TestThread {
            var sent = 0
            while sent < rounds {
                guard let buffer = pool.acquire() else { continue }
                buffer.baseAddress.storeBytes(of: sent, as: Int.self)
                if let back = ring.push(buffer) { _ = consume back } else { sent += 1 }
            }
        }
        let mismatches = Atomic<Int>(0)
        let consumer = TestThread {
            var received = 0
            while received < rounds {
                guard let buffer = ring.pop() else { continue }
                if buffer.baseAddress.load(as: Int.self) != received { mismatches.add(1, ordering: .relaxed) }
                received += 1
            }
        }
        await TestThread.runAll([producer, consumer])
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(pool.availableCount == 16)
    }
}
