import MediaCore
import Mux
import Synchronization

/// Every live stream of a running session, the configured ones and those
/// added while recording, numbered in the order they came (a number is
/// never reused: a removed stream keeps its place, marked removed), and the
/// changes on their way to the mux thread.
///
/// The control side (`SessionRunner.addStream`/`removeStream`, any thread)
/// records a change under the lock and bumps `pending`; the mux thread loads
/// `pending` once per pass (no lock) and takes the changes only when it
/// moved. A removed stream is finished on the mux thread, after its last
/// packet; every stream is joined by the control thread at the end.
final class LiveStreams: Sendable {
    /// The most streams a session sends to at once.
    static let limit = 8

    struct Entry: @unchecked Sendable {
        let sink: NetworkSink
        /// The video encode it takes (nil for sound alone).
        let encode: Int?
        var removed = false
    }

    enum Change: @unchecked Sendable {
        case add(NetworkSink, encode: Int?)
        case remove(NetworkSink)
    }

    private struct State {
        var entries: [Entry] = []
        var changes: [Change] = []
        /// The mux thread has ended: changes are no longer taken.
        var closed = false
    }

    private let state = LockedValue(State())
    private let pending = Atomic<Int>(0)

    /// The configured streams, before the mux thread starts.
    func configure(_ sinks: [(NetworkSink, encode: Int?)]) {
        state.withLock { state in state.entries = sinks.map { Entry(sink: $0.0, encode: $0.encode) } }
    }

    var all: [NetworkSink] { state.withLock { $0.entries.map(\.sink) } }
    var entries: [Entry] { state.withLock { $0.entries } }
    var activeCount: Int { state.withLock { $0.entries.filter { !$0.removed }.count } }

    /// Adds `sink` (already started) unless `limit` streams are active or
    /// the mux thread has ended; returns its number.
    func add(_ sink: NetworkSink, encode: Int?) -> Int? {
        let number = state.withLock { state -> Int? in
            guard !state.closed, state.entries.filter({ !$0.removed }).count < Self.limit else { return nil }
            state.entries.append(Entry(sink: sink, encode: encode))
            state.changes.append(.add(sink, encode: encode))
            return state.entries.count - 1
        }
        if number != nil { pending.add(1, ordering: .releasing) }
        return number
    }

    /// Why a removal was refused.
    enum RemoveRefusal: Error { case unknown, alreadyRemoved }

    /// Marks stream `number` removed; the mux thread stops offering it
    /// packets and finishes it (at once when the mux thread has ended).
    func remove(_ number: Int) throws(RemoveRefusal) {
        let closedSink = try state.withLock { state -> Result<NetworkSink?, RemoveRefusal> in
            guard state.entries.indices.contains(number) else { return .failure(.unknown) }
            guard !state.entries[number].removed else { return .failure(.alreadyRemoved) }
            state.entries[number].removed = true
            if state.closed { return .success(state.entries[number].sink) }
            state.changes.append(.remove(state.entries[number].sink))
            return .success(nil)
        }.get()
        if let closedSink {
            closedSink.finishInput()
        } else {
            pending.add(1, ordering: .releasing)
        }
    }

    /// Mux thread: whether changes wait (one atomic load).
    @inline(__always)
    var hasChanges: Bool { pending.load(ordering: .acquiring) != 0 }

    /// Mux thread: the changes recorded since the last call.
    func takeChanges() -> [Change] {
        state.withLock { state in
            pending.store(0, ordering: .relaxed)
            defer { state.changes.removeAll() }
            return state.changes
        }
    }

    /// Mux thread, as it ends: later changes are refused (additions) or
    /// applied by the caller (removals finish at once); returns what was
    /// still pending.
    func close() -> [Change] {
        state.withLock { state in
            state.closed = true
            pending.store(0, ordering: .relaxed)
            defer { state.changes.removeAll() }
            return state.changes
        }
    }
}
