import Foundation
import NIOCore
import Prometheus
import RecorderEngine
import ServiceLifecycle
import Synchronization

/// What the list, `/health` and `/metrics` answer from: each recording's
/// JSON (`RecordingView`, with its statistics), the host's figures (free
/// disk, a writable recordings directory, the cores, the encoders) and the
/// `/metrics` text, made at most once per tick (`statisticsIntervalSeconds`),
/// not once per request: 50 clients polling a list of 100 recordings once
/// read every session's statistics 50 times a second and kept `/health`
/// waiting seconds (docs/BENCHMARKS.md).
///
/// Each tick also takes the metric series of recordings finished more than
/// `finishedMetricsSeconds` ago out of `/metrics`, so that its text does not
/// grow with the recordings kept in the list.
///
/// A recording whose state changed since the tick (started, stopped) is
/// read again when asked for, so that an answer never shows a state older
/// than the one a stop or start just answered. A `Service` of the
/// application; before its first tick, answers read what they need.
final class SnapshotCache: Service, Sendable {
    /// The host's figures behind `/health`.
    struct Host: Sendable {
        var capacityCores: Double
        var freeBytes: Int64?
        var writable: Bool
        var missingEncoders: [String]
    }

    private struct Entry {
        var state: Recording.State
        var json: Data
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Each listed recording's place in the list, for the cursor (ids
        /// are random): given in the list's order, which only appends.
        var sequences: [String: UInt64] = [:]
        var nextSequence: UInt64 = 1
        var host: Host?
        /// `/metrics`' text and the tick it was rendered in.
        var metrics: (tick: Int, text: ByteBuffer)?

        mutating func number(_ listed: [Recording]) -> [UInt64] {
            listed.map { recording in
                if let sequence = sequences[recording.id] { return sequence }
                defer { nextSequence += 1 }
                sequences[recording.id] = nextSequence
                return nextSequence
            }
        }
    }

    let recorder: Recorder
    /// The registry `/metrics` shows.
    let registry: PrometheusCollectorRegistry
    let interval: Duration
    /// A scrape came since the last tick: the tick renders the next text,
    /// so that no scrape waits for a render while someone is scraping.
    private let scraped = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let views = Atomic<Int>(0)
    private let refreshes = Atomic<Int>(0)

    init(recorder: Recorder, registry: PrometheusCollectorRegistry) {
        self.recorder = recorder
        self.registry = registry
        interval = .milliseconds(Int64(recorder.configuration.statisticsIntervalSeconds * 1000))
    }

    /// Recordings' views built so far (their statistics read): a test's
    /// proof that answers come from the snapshot.
    var viewsBuilt: Int { views.load(ordering: .relaxed) }
    /// Ticks so far.
    var ticks: Int { refreshes.load(ordering: .relaxed) }

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.refresh()
                if self.scraped.exchange(false, ordering: .relaxed) { _ = await self.renderMetrics() }
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// One tick: every listed recording's view whose state may have moved
    /// (active ones; a finished one once), and the host's figures.
    func refresh() {
        let listed = recorder.list()
        let known = state.withLock { $0.entries.mapValues(\.state) }
        var fresh: [(String, Recording.State, Data)] = []
        for recording in listed {
            let now = recording.state
            if let before = known[recording.id], before == now, !now.isActive { continue }
            fresh.append((recording.id, now, build(recording)))
        }
        let host = Self.readHost(recorder)
        releaseFinishedMetrics(listed)
        state.withLock { state in
            _ = state.number(listed)
            for (id, now, json) in fresh { state.entries[id] = Entry(state: now, json: json) }
            let ids = Set(listed.map(\.id))
            state.entries = state.entries.filter { ids.contains($0.key) }
            state.sequences = state.sequences.filter { ids.contains($0.key) }
            state.host = host
        }
        refreshes.add(1, ordering: .relaxed)
    }

    /// `/metrics`' text: the one rendered in this tick (by the tick itself
    /// while scrapes come, so none waits for it), or rendered now. At most
    /// one render per tick; a scrape between ticks gets the same bytes.
    func metricsText() async -> ByteBuffer {
        scraped.store(true, ordering: .relaxed)
        if let cached = state.withLock({ $0.metrics }), cached.tick == ticks { return cached.text }
        return await renderMetrics()
    }

    /// Renders the registry for this tick (a tick that passes meanwhile
    /// makes the next scrape render again).
    private func renderMetrics() async -> ByteBuffer {
        let tick = ticks
        // Gauges that are read, not pushed, are brought up to date first.
        _ = await recorder.health(host: host)
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        let text = ByteBuffer(bytes: bytes)
        state.withLock { $0.metrics = (tick, text) }
        return text
    }

    /// Takes the metric series of recordings done for
    /// `finishedMetricsSeconds` out of the registry (the recordings stay).
    private func releaseFinishedMetrics(_ listed: [Recording]) {
        let bound = recorder.configuration.finishedMetricsSeconds
        let now = Date()
        for recording in listed where recording.state.isDone {
            if let finishedAt = recording.finishedAt, now.timeIntervalSince(finishedAt) >= bound {
                recording.session.releaseMetrics()
            }
        }
    }

    /// The host's figures of the last tick (read now before the first).
    var host: Host {
        if let host = state.withLock({ $0.host }) { return host }
        let host = Self.readHost(recorder)
        state.withLock { $0.host = host }
        return host
    }

    /// A page of the list: the recordings after `cursor` (a sequence an
    /// earlier page gave) in `state` (any when nil), at most `limit`, as
    /// the list's JSON (`{"nextCursor": ..., "recordings": [...]}`).
    func listPage(limit: Int, after cursor: UInt64?, state wanted: Recording.State?) -> Data {
        let listed = recorder.list()
        let sequences = state.withLock { $0.number(listed) }
        var page: [Data] = []
        var last: UInt64 = 0
        var more = false
        for (recording, sequence) in zip(listed, sequences) {
            if let cursor, sequence <= cursor { continue }
            let now = recording.state
            if let wanted, now != wanted { continue }
            if page.count == limit {
                more = true
                break
            }
            page.append(json(recording, now))
            last = sequence
        }
        var answer = Data("{".utf8)
        if more { answer.append(contentsOf: Array("\"nextCursor\":\"\(last)\",".utf8)) }
        answer.append(contentsOf: Array("\"recordings\":[".utf8))
        for (index, json) in page.enumerated() {
            if index > 0 { answer.append(UInt8(ascii: ",")) }
            answer.append(json)
        }
        answer.append(contentsOf: Array("]}".utf8))
        return answer
    }

    /// The recording's cached JSON, built now when it is not cached or its
    /// state moved since.
    private func json(_ recording: Recording, _ now: Recording.State) -> Data {
        if let entry = state.withLock({ $0.entries[recording.id] }), entry.state == now { return entry.json }
        let json = build(recording)
        state.withLock { $0.entries[recording.id] = Entry(state: now, json: json) }
        return json
    }

    private func build(_ recording: Recording) -> Data {
        views.add(1, ordering: .relaxed)
        return JSONAnswer.encode(RecordingView(recording))
    }

    private static func readHost(_ recorder: Recorder) -> Host {
        let directory = recorder.configuration.recordingsDir
        return Host(capacityCores: recorder.capacityCores, freeBytes: HostResources.freeBytes(directory),
                    writable: HostResources.writable(directory), missingEncoders: EncoderAvailability.missing())
    }
}
