import Synchronization

/// Wakes tasks waiting for a condition on state kept elsewhere (a
/// recording's state, the recorder's running tasks): the owner calls
/// `changed()` after each change; `wait(until:deadline:)` re-checks the
/// condition then. Every wait ends at its deadline or when its task is
/// cancelled (an `AsyncStream` per waiter, not a continuation that only
/// the owner can resume).
final class ChangeSignal: Sendable {
    private struct Waiters {
        var inputs: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var next: UInt64 = 0
    }

    private let waiters = Mutex(Waiters())

    /// Wakes every waiter to check its condition again.
    func changed() {
        let inputs = waiters.withLock { Array($0.inputs.values) }
        for input in inputs { input.yield() }
    }

    /// True once `condition` holds; false at `deadline` or when the task is
    /// cancelled first.
    func wait(until condition: @escaping @Sendable () -> Bool, deadline: ContinuousClock.Instant) async -> Bool {
        let (stream, input) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let ticket = waiters.withLock { waiters in
            waiters.next += 1
            waiters.inputs[waiters.next] = input
            return waiters.next
        }
        defer {
            waiters.withLock { $0.inputs[ticket] = nil }
            input.finish()
        }
        // Registered before this check, so a change made since is not missed.
        if condition() { return true }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in stream where condition() { return }
            }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
        return condition()
    }
}
