import Synchronization

/// At most `limit` browser launches at a time (`browserLaunchConcurrency`):
/// the others wait their turn, in order. A waiting task that is cancelled
/// leaves the queue.
final class LaunchLimiter: Sendable {
    private struct State {
        var running = 0
        var waiting: [(ticket: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var next: UInt64 = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(1, limit) }

    /// Runs `body` once a launch slot is free; throws `CancellationError`
    /// when cancelled while waiting.
    func withSlot<T: Sendable, E: Error>(_ body: () async throws(E) -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let ticket = state.withLock { state -> UInt64 in
            state.next += 1
            return state.next
        }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.running < limit && state.waiting.isEmpty {
                        state.running += 1
                        return true
                    }
                    state.waiting.append((ticket, continuation))
                    return false
                }
                if now { continuation.resume(returning: true) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiting.firstIndex { $0.ticket == ticket }.map { state.waiting.remove(at: $0).continuation }
            }
            waiter?.resume(returning: false)
        }
        guard granted else { throw CancellationError() }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst().continuation
        }
        next?.resume(returning: true)
    }
}
