import ArgumentParser
import Foundation
import MediaCore
import Synchronization

/// Cross-thread handoffs per second through the SPSC ring, with a mutex-guarded
/// bounded queue of the same capacity as the reference, alternating, same run.
struct RingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ring", abstract: "SPSC ring against a mutex-guarded queue.")

    @Option(help: "Items handed over per trial.") var items = 50_000_000
    @Option(help: "Trials of each queue, alternating; the best is reported.") var trials = 3
    @Option(help: "Queue capacity.") var capacity = 1024
    @OptionGroup var common: CommonOptions

    func run() throws {
        var ringBest = 0.0, mutexBest = 0.0
        for _ in 0..<trials {
            ringBest = max(ringBest, Self.measureRing(items: items, capacity: capacity))
            mutexBest = max(mutexBest, Self.measureMutex(items: items / 10, capacity: capacity))
        }
        var report = BenchReport(benchmark: "ring", settings: ["items": "\(items)", "capacity": "\(capacity)", "trials": "\(trials)"])
        report.add(Figure("handoffs per second", unit: "1/s", ours: ringBest, peer: mutexBest, peerName: "Mutex-guarded ring buffer"))
        report.printTable()
        try report.write(json: common.json)
    }

    /// Producer and consumer on two threads; returns items per second.
    static func measureRing(items: Int, capacity: Int) -> Double {
        let ring = SPSCRing<Int>(minimumCapacity: capacity)
        let checksum = Atomic<Int>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        let consumer = MediaThread(role: "ring-consumer") {
            var received = 0, sum = 0
            while received < items {
                if let value = ring.pop() { sum &+= value; received += 1 }
            }
            checksum.store(sum, ordering: .releasing)
        }
        var next = 0
        while next < items {
            if ring.push(next) == nil { next += 1 }
        }
        consumer.join()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        precondition(checksum.load(ordering: .acquiring) == items &* (items - 1) / 2, "ring lost or duplicated items")
        return Double(items) / elapsed
    }

    /// The same handoff through a bounded circular buffer guarded by a Mutex.
    static func measureMutex(items: Int, capacity: Int) -> Double {
        struct Queue: ~Copyable {
            var storage: [Int]
            var head = 0, count = 0
        }
        let queue = Mutex(Queue(storage: Array(repeating: 0, count: capacity)))
        let checksum = Atomic<Int>(0)
        let start = DispatchTime.now().uptimeNanoseconds
        let consumer = MediaThread(role: "mutex-consumer") {
            var received = 0, sum = 0
            while received < items {
                let value: Int? = queue.withLock { q in
                    guard q.count > 0 else { return nil }
                    let v = q.storage[q.head]
                    q.head = (q.head + 1) % capacity
                    q.count -= 1
                    return v
                }
                if let value { sum &+= value; received += 1 }
            }
            checksum.store(sum, ordering: .releasing)
        }
        var next = 0
        while next < items {
            let pushed = queue.withLock { q in
                guard q.count < capacity else { return false }
                q.storage[(q.head + q.count) % capacity] = next
                q.count += 1
                return true
            }
            if pushed { next += 1 }
        }
        consumer.join()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        precondition(checksum.load(ordering: .acquiring) == items &* (items - 1) / 2, "mutex queue lost items")
        return Double(items) / elapsed
    }
}
