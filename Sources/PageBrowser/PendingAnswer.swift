import Synchronization

/// One awaited result: set once (by the reader thread, a deadline, a crash or
/// the browser's end, whichever comes first), awaited by one task.
final class PendingAnswer<Value: Sendable>: Sendable {
    private struct State {
        var result: Result<Value, BrowserError>?
        var continuation: CheckedContinuation<Result<Value, BrowserError>, Never>?
    }
    private let state = Mutex(State())

    /// Sets the result unless one is set; wakes the waiter. Returns whether it was set.
    @discardableResult
    func resolve(_ result: Result<Value, BrowserError>) -> Bool {
        let (set, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Result<Value, BrowserError>, Never>?) in
            guard state.result == nil else { return (false, nil) }
            state.result = result
            defer { state.continuation = nil }
            return (true, state.continuation)
        }
        waiter?.resume(returning: result)
        return set
    }

    /// Whether a result is set.
    var isResolved: Bool { state.withLock { $0.result != nil } }

    /// Waits for the result, at most `timeout` (then `.timedOut(what)`).
    /// A cancelled task gets `.timedOut(what + " (cancelled)")` at once.
    func wait(timeout: Duration, what: String) async -> Result<Value, BrowserError> {
        let deadline = Task { [self] in
            if (try? await Task.sleep(for: timeout)) != nil { resolve(.failure(.timedOut(what))) }
        }
        defer { deadline.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, BrowserError>, Never>) in
                let ready: Result<Value, BrowserError>? = state.withLock { state in
                    if let result = state.result { return result }
                    state.continuation = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            resolve(.failure(.timedOut(what + " (cancelled)")))
        }
    }
}
