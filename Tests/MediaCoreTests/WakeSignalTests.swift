import Foundation
import MediaCore
import Synchronization
import Testing
import TestSupport

/// The consumer sleeps on the signal whenever the ring is empty; a lost
/// wake-up would leave it asleep with items queued and the test would hang
/// (a deadline fails it instead).
@Suite(.serialized) struct WakeSignalTests {
    private static var items: Int {
        ProcessInfo.processInfo.environment["RING_TEST_ITEMS"].flatMap { Int($0) }.map { $0 / 10 } ?? 500_000
    }

    @Test func aConsumerSleepingBetweenItemsMissesNoWakeUp() async throws {
        let ring = SPSCRing<Int>(minimumCapacity: 64)
        let signal = WakeSignal()
        let count = Self.items
        let received = Atomic<Int>(0)
        let outOfOrder = Atomic<Int>(0)
        let sleeps = Atomic<Int>(0)
        let producer = TestThread {
            var next = 0
            while next < count {
                if ring.push(next) == nil {
                    signal.notify()
                    next += 1
                    // Now and then let the consumer run dry and sleep.
                    if next % 4096 == 0 { usleep(50) }
                }
            }
        }
        let consumer = TestThread {
            var expected = 0
            while expected < count {
                if let value = ring.pop() {
                    if value != expected { outOfOrder.add(1, ordering: .relaxed) }
                    expected += 1
                    received.store(expected, ordering: .relaxed)
                    continue
                }
                let ticket = signal.prepareToWait()
                if ring.approximateCount > 0 {
                    signal.cancelWait()
                    continue
                }
                sleeps.add(1, ordering: .relaxed)
                // Without a lost wake-up the producer always wakes us; the
                // timeout only turns a bug into a failure instead of a hang.
                if !signal.wait(ticket, timeout: 5_000_000_000) { return }
            }
        }
        await TestThread.runAll([producer, consumer])
        #expect(received.load(ordering: .relaxed) == count, "the consumer slept through queued items")
        #expect(outOfOrder.load(ordering: .relaxed) == 0)
        #expect(sleeps.load(ordering: .relaxed) > 0, "the consumer never slept: the test did not test waking")
    }

    @Test func waitTimesOutWhenNobodyNotifies() {
        let signal = WakeSignal()
        let start = MonotonicClock().now()
        let ticket = signal.prepareToWait()
        #expect(signal.wait(ticket, timeout: 20_000_000) == false)
        #expect(MonotonicClock().now() - start >= 20_000_000)
    }

    @Test func aNotifyBetweenTheTicketAndTheWaitIsNotLost() {
        let signal = WakeSignal()
        let ticket = signal.prepareToWait()
        signal.notify()
        // The epoch moved after the ticket: the wait returns at once, woken.
        #expect(signal.wait(ticket, timeout: 10_000_000_000) == true)
    }
}
