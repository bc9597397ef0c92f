import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension ChildProcess {
    // MARK: Blocking the calling thread

    /// Blocks until the child ends.
    @discardableResult
    public func wait() -> Termination { reaper.wait(until: nil as Date?)! }

    /// Blocks up to `seconds`; nil when the child still runs then.
    public func wait(timeout seconds: Double) -> Termination? {
        reaper.wait(until: Date(timeIntervalSinceNow: max(0, seconds)))
    }

    /// Asks the group to end (SIGTERM), kills it (SIGKILL) if the child has
    /// not ended after `grace` seconds, and blocks until the child is reaped.
    /// Whatever is left of the group is killed too.
    @discardableResult
    public func stop(grace: Double = 3) -> Termination {
        send(SIGTERM)
        let ended = wait(timeout: grace)
        send(SIGKILL)
        return ended ?? wait()
    }

    // MARK: Suspending a task

    /// Suspends until the child ends.
    /// - Throws: `CancellationError` as soon as the task is cancelled (the
    ///   child runs on; its owner still ends it).
    public func terminated() async throws -> Termination {
        let reaper = self.reaper
        let id = reaper.newWaiter()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { reaper.register(id, $0) }
        } onCancel: {
            reaper.cancel(id)
        }
    }

    /// Suspends until the child ends or `timeout` passes (nil then).
    /// - Throws: `CancellationError` when the task is cancelled.
    public func terminated(within timeout: Duration) async throws -> Termination? {
        try await withThrowingTaskGroup(of: Termination?.self) { group in
            group.addTask { try await self.terminated() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// Asks the group to end (SIGTERM), kills it (SIGKILL) after `grace` or
    /// at once when the task is cancelled, and waits for the child at most
    /// `reapWithin` more (a SIGKILLed child can only linger in an
    /// uninterruptible wait). Nil when it was not reaped by then.
    @discardableResult
    public func terminate(grace: Duration = .seconds(5), reapWithin: Duration = .seconds(5)) async -> Termination? {
        send(SIGTERM)
        if let ended = try? await terminated(within: grace) {
            send(SIGKILL)
            return ended
        }
        send(SIGKILL)
        // Not cancellable from here: the kill is sent, only the reaping is left.
        return await Task.detached { [self] in try? await terminated(within: reapWithin) }.value
    }
}
