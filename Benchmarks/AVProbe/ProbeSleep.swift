package import MediaCore
package import Synchronization

extension MonotonicClock {
    /// Sleeps until `deadline` (ns) in steps of at most `step` ns, so that a
    /// probe's `stop()` is not held up; false when `running` turned false
    /// meanwhile.
    package func sleep(until deadline: Int64, step: Int64, while running: borrowing Atomic<Bool>) -> Bool {
        while running.load(ordering: .acquiring) {
            let now = self.now()
            if now >= deadline { return true }
            sleep(until: min(deadline, now + step))
        }
        return false
    }
}
