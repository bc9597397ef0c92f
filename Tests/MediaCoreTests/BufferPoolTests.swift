#if canImport(Glibc)
import Glibc
#endif
import HostProcesses
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

    /// Fills every buffer, returns them in order and trims: the two most
    /// recently returned keep their bytes and stay first in line; the others
    /// read as zeros (their pages were given back).
    @Test func trimGivesBackAllButTheMostRecentlyUsed() {
        let size = 1 << 20
        let pool = BufferPool(count: 4, byteCount: size, alignment: 4096)
        var order: [Int32] = []
        do {
            guard let a = pool.acquire(), let b = pool.acquire(), let c = pool.acquire(), let d = pool.acquire() else {
                Issue.record("pool had fewer than 4 buffers"); return
            }
            for buffer in [a.baseAddress, b.baseAddress, c.baseAddress, d.baseAddress] {
                buffer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: size)
            }
            order = [a.index, b.index, c.index, d.index]
            _ = consume a
            _ = consume b
            _ = consume c
            _ = consume d
        }
        #expect(pool.trim(keeping: 2) == 2)
        #expect(pool.availableCount == 4)
        // Last in, first out as before the trim: d, c, then the trimmed b, a.
        guard let first = pool.acquire(), let second = pool.acquire(), let third = pool.acquire(),
              let fourth = pool.acquire() else { Issue.record("a buffer was lost by the trim"); return }
        #expect([first.index, second.index, third.index, fourth.index] == order.reversed())
        func bytes(_ base: UnsafeMutableRawPointer) -> Set<UInt8> {
            Set(UnsafeRawBufferPointer(start: base, count: size))
        }
        #expect(bytes(first.baseAddress) == [0xA5])
        #expect(bytes(second.baseAddress) == [0xA5])
        #expect(bytes(third.baseAddress) == [0])
        #expect(bytes(fourth.baseAddress) == [0])
    }

    /// Shared memory (the capture's MIT-SHM slots): a trim frees the
    /// segment's pages themselves, as the kernel's table reports them.
    @Test func trimFreesSharedMemoryPages() throws {
        let size = 8 << 20
        var ids: [Int32] = []
        var addresses: [UnsafeMutableRawPointer] = []
        defer {
            for address in addresses { shmdt(address) }
        }
        for _ in 0..<3 {
            let id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
            try #require(id >= 0)
            let address = shmat(id, nil, 0)
            shmctl(id, IPC_RMID, nil)
            try #require(address != UnsafeMutableRawPointer(bitPattern: -1))
            ids.append(id)
            addresses.append(address!)
        }
        func residentBytes(_ id: Int32) -> Int {
            SharedMemorySegments.all().first { $0.shmid == id }?.residentBytes ?? -1
        }
        final class Segments {}
        let pool = BufferPool(adopting: addresses, byteCount: size, memoryOwner: Segments(), pageRelease: .remove)
        do {
            guard let a = pool.acquire(), let b = pool.acquire(), let c = pool.acquire() else {
                Issue.record("pool had fewer than 3 buffers"); return
            }
            for buffer in [a.baseAddress, b.baseAddress, c.baseAddress] {
                buffer.initializeMemory(as: UInt8.self, repeating: 1, count: size)
            }
            _ = consume a
            _ = consume b
            _ = consume c
        }
        #expect(ids.map(residentBytes) == [size, size, size])
        #expect(pool.trim(keeping: 1) == 2)
        // The last returned (c) stays resident; a and b are freed.
        #expect(ids.map(residentBytes) == [0, 0, size])
    }
}
