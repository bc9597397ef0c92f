import MediaCore
import Synchronization

/// A session's events, for any number of consumers: each `subscribe()` gives
/// a stream that starts with `.started` (replayed when the session started
/// before the subscription), then every later event, and finishes after
/// `.stopped`; a subscription made after the end gets `.started` and
/// `.stopped` and finishes. A session that never started finishes every
/// stream empty.
///
/// Events are yielded from the session's control and sink threads; the lock
/// guards only the subscriber list (a few events a second, never a media
/// path). Each stream buffers at most `bufferLimit` events for a slow
/// consumer, dropping the oldest: `.stopped`, always the newest, is kept.
final class EventBroadcast: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<RecordingEvent>.Continuation] = [:]
        var nextID = 0
        var started: RecordingEvent?
        var stopped: RecordingEvent?
        var finished = false
    }

    private let state = LockedValue(State())
    let bufferLimit: Int

    init(bufferLimit: Int = 1024) {
        self.bufferLimit = bufferLimit
    }

    func subscribe() -> AsyncStream<RecordingEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: RecordingEvent.self,
                                                            bufferingPolicy: .bufferingNewest(bufferLimit))
        let id: Int? = state.withLock { state in
            if let started = state.started { continuation.yield(started) }
            if state.finished {
                if let stopped = state.stopped { continuation.yield(stopped) }
                return nil
            }
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return state.nextID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends `event` to every subscriber. `.started` is remembered for later
    /// subscribers; `.stopped` also ends every stream.
    func send(_ event: RecordingEvent) {
        let ending: [AsyncStream<RecordingEvent>.Continuation] = state.withLock { state in
            guard !state.finished else { return [] }
            switch event {
            case .started: state.started = event
            case .stopped: state.stopped = event
            default: break
            }
            for continuation in state.subscribers.values { continuation.yield(event) }
            guard case .stopped = event else { return [] }
            return Self.end(&state)
        }
        // Outside the lock: finishing runs `onTermination`, which takes it.
        for continuation in ending { continuation.finish() }
    }

    /// Ends every stream (after `.stopped`, or with nothing when the session
    /// never started).
    func finish() {
        let ending = state.withLock { Self.end(&$0) }
        for continuation in ending { continuation.finish() }
    }

    private static func end(_ state: inout State) -> [AsyncStream<RecordingEvent>.Continuation] {
        guard !state.finished else { return [] }
        state.finished = true
        defer { state.subscribers.removeAll() }
        return Array(state.subscribers.values)
    }
}
