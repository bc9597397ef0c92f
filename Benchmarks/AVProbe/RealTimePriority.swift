import Foundation

/// Real-time scheduling for the probe's threads, so that a machine busy with
/// the recorders (and, here, with other people's builds) does not make a
/// flash or a read late. Best effort: without the privilege the thread keeps
/// its normal priority, and the probe's measured bounds show the cost.
package enum RealTimePriority {
    /// Puts the calling thread under SCHED_FIFO at a modest priority (above
    /// every normal thread, below the kernel's own real-time threads).
    /// Returns whether it was granted.
    @discardableResult
    package static func request() -> Bool {
        var parameters = sched_param()
        parameters.sched_priority = 20
        return pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0
    }
}
