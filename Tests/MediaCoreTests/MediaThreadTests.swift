import Foundation
import MediaCore
import Synchronization
import Testing

/// The one thread type every worker uses: named, joined by its owner, its
/// body released when it returns, its CPU time readable during and after.
@Suite struct MediaThreadTests {
    private final class Worker: Sendable {
        let ran = Atomic<Bool>(false)
    }

    @Test func theBodyIsReleasedWhenItReturnsAndTheNameCarriesTheTag() throws {
        weak var weakWorker: Worker?
        let name = Mutex<String>("")
        let thread: MediaThread
        do {
            let worker = Worker()
            weakWorker = worker
            thread = MediaThread(role: "venc", context: MediaThread.Context(tag: "t1")) {
                worker.ran.store(true, ordering: .relaxed)
                let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
                name.withLock { $0 = comm.trimmingCharacters(in: .newlines) }
            }
        }
        thread.join()
        #expect(thread.name == "venc:t1")
        #expect(name.withLock { $0 } == "venc:t1")
        #expect(weakWorker == nil, "the body kept its worker alive after returning")
        #expect(thread.hasExited)
    }

    @Test func cpuTimeIsReadWhileRunningAndKeptAfterTheEnd() throws {
        let stop = Atomic<Bool>(false)
        let thread = MediaThread(role: "spin") {
            while !stop.load(ordering: .relaxed) {}
        }
        let deadline = Date().addingTimeInterval(10)
        while thread.cpuTime < .milliseconds(20) && Date() < deadline { usleep(5_000) }
        let running = thread.cpuTime
        #expect(running >= .milliseconds(20), "the running thread's CPU clock reads \(running)")
        stop.store(true, ordering: .relaxed)
        thread.join()
        let final = thread.cpuTime
        #expect(final >= running)
        usleep(20_000)
        #expect(thread.cpuTime == final, "an ended thread's CPU time is fixed")
    }

    @Test func anAccountAddsUpItsThreadsByName() throws {
        let account = CPUAccount(tag: "acct7")
        let stop = Atomic<Bool>(false)
        let threads = (0..<2).map { _ in
            MediaThread(role: "work", context: MediaThread.Context(tag: "acct7", account: account)) {
                while !stop.load(ordering: .relaxed) {}
            }
        }
        usleep(100_000)
        let live = account.total()
        #expect(live > .milliseconds(20), "two spinning threads for 100 ms: \(live)")
        stop.store(true, ordering: .relaxed)
        for thread in threads { thread.join() }
        let final = account.total()
        let sum = threads.map(\.cpuTime).reduce(.zero, +)
        #expect(final >= live)
        #expect(abs((final - sum).seconds) < 0.005, "account \(final) against the threads' own \(sum)")
    }
}
