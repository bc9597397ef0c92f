import CaptureALSA
import Foundation
import MediaCore
import Synchronization
import TestSupport

/// What a test keeps of each chunk it popped.
struct ChunkRecord {
    var captureTime: Int64
    var firstFrameIndex: Int64
    var frameCount: Int
    var isGapFill: Bool
    /// Clock time when the consumer popped the chunk.
    var popTime: Int64
}

/// A consumer for tests: pops chunks on its own thread, keeps their stamps and
/// channel 0 as `Double`s, and can stop popping for a while (a stalled encoder).
final class ChunkCollector: @unchecked Sendable {
    private(set) var records: [ChunkRecord] = []
    /// Channel 0 of every popped chunk, in order, scaled to -1...1.
    private(set) var channel0: [Double] = []
    /// The most chunks seen queued at once.
    private(set) var maximumQueued = 0
    /// Clock time when the consumer started popping.
    private(set) var startTime: Int64 = 0

    /// Clock time when the first chunk was popped.
    private(set) var firstPopTime: Int64?

    /// Pops from `capture` until `seconds` after the first chunk arrived (the
    /// bench's PulseAudio takes a second or two to deliver a new stream's first
    /// period), or until `startTimeout` passes with no chunk. Between
    /// `stallAfter` and `stallAfter + stallSeconds` (also counted from the
    /// first chunk) it pops nothing. Blocks the calling thread.
    /// `actions` run on this thread at their times (seconds after the first
    /// chunk), in order.
    func consume<C: MediaClock>(_ capture: PCMCapture<C>, clock: MonotonicClock, seconds: Double,
                                stallAfter: Double = .infinity, stallSeconds: Double = 0,
                                startTimeout: Double = 5, actionAfter: Double = .infinity,
                                action: () -> Void = {}, actions: [(after: Double, action: @Sendable () -> Void)] = []) {
        var actionDone = false
        var pendingActions = actions[...]
        startTime = clock.now()
        let format = capture.format
        let startDeadline = startTime + Int64(startTimeout * 1e9)
        while true {
            let now = clock.now()
            if let first = firstPopTime {
                let elapsed = Double(now - first) / 1e9
                if elapsed >= actionAfter && !actionDone {
                    actionDone = true
                    action()
                }
                while let next = pendingActions.first, elapsed >= next.after {
                    pendingActions.removeFirst()
                    next.action()
                }
                if elapsed >= stallAfter && elapsed < stallAfter + stallSeconds {
                    maximumQueued = max(maximumQueued, capture.chunks.approximateCount)
                    clock.sleep(until: now + 10_000_000)
                    continue
                }
                if elapsed >= seconds { break }
            } else if now > startDeadline {
                break
            }
            maximumQueued = max(maximumQueued, capture.chunks.approximateCount)
            while let chunk = capture.chunks.pop() {
                let popped = clock.now()
                if firstPopTime == nil { firstPopTime = popped }
                record(chunk, format: format, popTime: popped)
            }
            clock.sleep(until: now + 5_000_000)
        }
    }

    /// Pops whatever is still queued (after `stop()`).
    func drain<C: MediaClock>(_ capture: PCMCapture<C>) {
        while let chunk = capture.chunks.pop() { record(chunk, format: capture.format, popTime: MonotonicClock().now()) }
    }

    private func record(_ chunk: borrowing AudioChunk, format: AudioFormat, popTime: Int64) {
        records.append(ChunkRecord(captureTime: chunk.captureTime, firstFrameIndex: chunk.firstFrameIndex,
                                   frameCount: chunk.frameCount, isGapFill: chunk.isGapFill, popTime: popTime))
        let base = chunk.buffer.baseAddress
        let stride = format.channels
        for frame in 0..<chunk.frameCount {
            let index = frame * stride
            let value: Double = switch format.sampleFormat {
            case .s16: Double(base.load(fromByteOffset: index * 2, as: Int16.self)) / 32768
            case .s32: Double(base.load(fromByteOffset: index * 4, as: Int32.self)) / 2_147_483_648
            case .float32: Double(base.load(fromByteOffset: index * 4, as: Float.self))
            }
            channel0.append(value)
        }
    }

    /// Runs `consume` on a thread of its own (the consumer side of the ring).
    func run<C: MediaClock>(_ capture: PCMCapture<C>, seconds: Double, stallAfter: Double = .infinity,
                            stallSeconds: Double = 0, actionAfter: Double = .infinity,
                            action: @escaping @Sendable () -> Void = {},
                            actions: [(after: Double, action: @Sendable () -> Void)] = []) async {
        let consumer = TestThread { [self] in
            consume(capture, clock: MonotonicClock(), seconds: seconds, stallAfter: stallAfter, stallSeconds: stallSeconds,
                    actionAfter: actionAfter, action: action, actions: actions)
        }
        await TestThread.runAll([consumer])
    }
}

/// What a capture reported, in order, with the clock time of each report.
final class EventLog: Sendable {
    private let events = Mutex<[(time: Int64, event: PCMCaptureEvent)]>([])

    var handler: @Sendable (PCMCaptureEvent) -> Void {
        { event in
            let now = MonotonicClock().now()
            self.events.withLock { $0.append((now, event)) }
        }
    }

    var all: [(time: Int64, event: PCMCaptureEvent)] { events.withLock { $0 } }
    /// The errors of every `.deviceLost`.
    var losses: [ALSAError] {
        all.compactMap { if case let .deviceLost(error) = $0.event { error } else { nil } }
    }
    /// The spans of every `.deviceRestored`, nanoseconds.
    var restorations: [Int64] {
        all.compactMap { if case let .deviceRestored(nanoseconds) = $0.event { nanoseconds } else { nil } }
    }
    var firstLoss: ALSAError? { losses.first }
    var count: Int { all.count }
}

/// A sine tone played into the bench's loopback for `seconds`, by `sox | aplay`.
final class TonePlayer: @unchecked Sendable {
    private let child: ChildProcess

    /// Plays into the bench's loopback, or into `server`'s sink.
    init(bench: TestBench, server: TestSoundServer? = nil, frequency: Int = 440, sampleRate: Int, seconds: Double) throws {
        child = try ChildProcess.tone(pcm: server?.playbackPCM ?? bench.playbackPCM, seconds: seconds,
                                      frequency: frequency, sampleRate: sampleRate, environment: server?.environment)
    }

    /// Ends the tone early (or reaps the finished player).
    func stop() {
        if child.wait(timeout: 0) == nil {
            child.send(SIGTERM)
        }
        child.wait()
    }

    deinit { stop() }
}

extension Array where Element == ChunkRecord {
    /// For each chunk, where its samples start in the collector's `channel0`.
    var sampleOffsets: [Int] {
        var offset = 0
        return map { record in
            defer { offset += record.frameCount }
            return offset
        }
    }

    /// Frames the sample timeline skips between chunks, in total.
    var skippedFrames: Int64 {
        indices.dropFirst().reduce(0) { $0 + self[$1].firstFrameIndex - self[$1 - 1].firstFrameIndex - Int64(self[$1 - 1].frameCount) }
    }

    /// Indices where a chunk does not start at the previous chunk's end on the
    /// sample timeline.
    var timelineBreaks: [Int] {
        indices.dropFirst().filter { self[$0].firstFrameIndex != self[$0 - 1].firstFrameIndex + Int64(self[$0 - 1].frameCount) }
    }

    /// For each chunk, how long after its last frame was captured (by its
    /// stamp) the consumer popped it; negative would mean a stamp in the future.
    func popLatencies(sampleRate: Int) -> [Int64] {
        map { $0.popTime - ($0.captureTime + Int64($0.frameCount) * 1_000_000_000 / Int64(sampleRate)) }
    }

    /// The sample count's pace against the consumer's clock, stamps left out:
    /// for the chunks popped in the first and in the last second, the earliest
    /// pop relative to the time their end's frame index stands for (a chunk
    /// cannot be popped before its frames exist, and the earliest of many pops
    /// comes closest to that). 1 when the device delivers exactly `sampleRate`
    /// frames per second of the clock.
    func paceAgainstPops(sampleRate: Int) -> Double? {
        guard let firstPop = first?.popTime, let lastPop = last?.popTime, lastPop - firstPop > 2_000_000_000 else { return nil }
        func earliest(_ records: [ChunkRecord]) -> (pop: Int64, lead: Int64)? {
            records.map { record in
                let end = record.firstFrameIndex + Int64(record.frameCount)
                return (record.popTime, record.popTime - end * 1_000_000_000 / Int64(sampleRate))
            }.min { $0.lead < $1.lead }
        }
        guard let early = earliest(filter { $0.popTime < firstPop + 1_000_000_000 }),
              let late = earliest(filter { $0.popTime > lastPop - 1_000_000_000 }) else { return nil }
        let span = Double(late.pop - early.pop)
        return span / (span - Double(late.lead - early.lead))
    }

    /// Each chunk's stamp less the time its frame index stands for at
    /// `sampleRate`: constant when stamps follow the sample count.
    func timelineOffsets(sampleRate: Int) -> [Int64] {
        map { $0.captureTime - $0.firstFrameIndex * 1_000_000_000 / Int64(sampleRate) }
    }

    /// The largest distance in nanoseconds between a chunk's stamp and where
    /// its frame index puts it, on the timeline that fits the stamps best
    /// (the median offset).
    func largestTimelineDeviation(sampleRate: Int) -> Int64 {
        timelineDeviation(sampleRate: sampleRate, percentile: 100)
    }

    /// The distance from that timeline that `percentile` % of the stamps are within.
    func timelineDeviation(sampleRate: Int, percentile: Int) -> Int64 {
        let offsets = timelineOffsets(sampleRate: sampleRate)
        guard !offsets.isEmpty else { return 0 }
        let median = offsets.sorted()[offsets.count / 2]
        let deviations = offsets.map { abs($0 - median) }.sorted()
        return deviations[Swift.min(deviations.count - 1, deviations.count * percentile / 100)]
    }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass; whether it held.
func waitUntil(seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

extension Array where Element == ChunkRecord {
    /// The offsets from the sample timeline (ms) around the worst stamp, for
    /// failure messages.
    func worstStampContext(sampleRate: Int) -> String {
        let offsets = timelineOffsets(sampleRate: sampleRate)
        guard !offsets.isEmpty else { return "" }
        let median = offsets.sorted()[offsets.count / 2]
        let worst = offsets.indices.max { abs(offsets[$0] - median) < abs(offsets[$1] - median) }!
        let range = Swift.max(0, worst - 6)..<Swift.min(count, worst + 6)
        return "worst \(worst) of \(count): " + range.map { "\($0):\(Double(offsets[$0] - median) / 1e6)\(self[$0].isGapFill ? "g" : "")" }.joined(separator: " ")
    }
}
