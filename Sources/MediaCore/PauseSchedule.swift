import Synchronization

/// The paused stretches of a recording's media timeline, shared by the
/// thread that pauses and resumes (any caller) and the media threads that
/// apply them (`PauseView`).
///
/// Times are in units of `1 / unitRate` seconds since the timeline's anchor
/// (output frame 0): video frame slots (`unitRate` = fps) when there is
/// video, input sample frames for sound alone, so a cut falls on a frame
/// boundary and on the same sample boundary for every track.
///
/// A pause or a resume is placed `leadNanoseconds` after the call: no media
/// thread has passed that point yet, so each sees the cut before the media
/// it applies to. Writers take a lock; readers load one atomic (the
/// generation) per look and copy the list only when it changed.
public final class PauseSchedule: Sendable {
    /// A paused stretch: `[start, end)`; `end` nil while paused.
    public struct Interval: Sendable, Equatable {
        public var start: Int64
        public var end: Int64?

        public init(start: Int64, end: Int64?) {
            self.start = start
            self.end = end
        }
    }

    /// Why a pause or a resume was refused.
    public enum Refusal: Error, Sendable, Equatable {
        /// The timeline has no anchor yet (nothing recorded so far).
        case notStarted
        case alreadyPaused
        case notPaused
    }

    public let unitRate: Int64
    /// How far after the call a cut is placed: 100 ms, more than the
    /// encode threads lag the clock when they see a frame or a period.
    public static let leadNanoseconds: Int64 = 100_000_000
    private let intervals = LockedValue<[Interval]>([])
    private let generationCounter = Atomic<Int>(0)

    public init(unitRate: Int) {
        precondition(unitRate > 0, "a timeline needs a positive rate")
        self.unitRate = Int64(unitRate)
    }

    /// Bumped by every change; a reader copies the list when it differs.
    @inline(__always)
    public var generation: Int { generationCounter.load(ordering: .acquiring) }

    /// The unit at or after `nanoseconds` since the anchor (rounded up, so a
    /// cut never lands before the time asked for).
    public func unit(atOrAfter nanoseconds: Int64) -> Int64 {
        let scaled = nanoseconds.multipliedReportingOverflow(by: unitRate).partialValue
        return (scaled + Int64.nanosecondsPerSecond - 1) / .nanosecondsPerSecond
    }

    /// Pauses at `nanoseconds` since the anchor (no earlier than the end of
    /// the last pause).
    public func pause(atNanoseconds nanoseconds: Int64) throws(Refusal) -> Interval {
        let start = unit(atOrAfter: max(0, nanoseconds))
        let interval = try intervals.withLock { list -> Result<Interval, Refusal> in
            if let last = list.last, last.end == nil { return .failure(.alreadyPaused) }
            let interval = Interval(start: max(start, list.last?.end ?? 0), end: nil)
            list.append(interval)
            return .success(interval)
        }.get()
        generationCounter.add(1, ordering: .releasing)
        return interval
    }

    /// Resumes at `nanoseconds` since the anchor. A resume at or before the
    /// pause's start undoes the pause (nothing was left out); the result is
    /// then nil.
    public func resume(atNanoseconds nanoseconds: Int64) throws(Refusal) -> Interval? {
        let end = unit(atOrAfter: max(0, nanoseconds))
        let interval = try intervals.withLock { list -> Result<Interval?, Refusal> in
            guard let last = list.last, last.end == nil else { return .failure(.notPaused) }
            guard end > last.start else {
                list.removeLast()
                return .success(nil)
            }
            list[list.count - 1].end = end
            return .success(list[list.count - 1])
        }.get()
        generationCounter.add(1, ordering: .releasing)
        return interval
    }

    /// Whether a pause is open.
    public var isPaused: Bool { intervals.withLock { $0.last.map { $0.end == nil } ?? false } }

    /// The stretches so far (a copy).
    public var snapshot: [Interval] { intervals.withLock { $0 } }

    /// Copies the list into `target`, keeping its storage (no allocation
    /// once it has room); returns the generation copied.
    public func copy(into target: inout [Interval]) -> Int {
        intervals.withLock { list in
            target.removeAll(keepingCapacity: true)
            target.append(contentsOf: list)
            return generationCounter.load(ordering: .relaxed)
        }
    }
}

/// One media thread's copy of a `PauseSchedule`, and the questions it asks
/// of it. `refresh()` costs one atomic load unless the schedule changed.
public struct PauseView {
    public let schedule: PauseSchedule
    public private(set) var intervals: [PauseSchedule.Interval] = []
    private var seen = -1

    public init(_ schedule: PauseSchedule) {
        self.schedule = schedule
        intervals.reserveCapacity(32)
    }

    /// Takes the schedule's changes, if any; true when there were.
    @inline(__always)
    @discardableResult
    public mutating func refresh() -> Bool {
        guard schedule.generation != seen else { return false }
        seen = schedule.copy(into: &intervals)
        return true
    }

    /// Whether `unit` lies in a paused stretch.
    @inline(__always)
    public func isPaused(_ unit: Int64) -> Bool {
        for interval in intervals.reversed() {
            if unit >= interval.start { return interval.end.map { unit < $0 } ?? true }
        }
        return false
    }

    /// Units paused before `unit` (whole stretches, and the part before
    /// `unit` of the one it lies in).
    @inline(__always)
    public func pausedBefore(_ unit: Int64) -> Int64 {
        var total: Int64 = 0
        for interval in intervals {
            guard interval.start < unit else { break }
            total += min(unit, interval.end ?? .max) - interval.start
        }
        return total
    }

    /// Whether `position` (in `rate` units) lies in a paused stretch, and
    /// the position where that changes (`Int64.max`: never, so far).
    @inline(__always)
    public func run(at position: Int64, rate: Int64) -> (paused: Bool, end: Int64) {
        for interval in intervals {
            let start = scaled(interval.start, to: rate)
            if position < start { return (false, start) }
            let end = interval.end.map { scaled($0, to: rate) } ?? .max
            if position < end { return (true, end) }
        }
        return (false, .max)
    }

    /// Positions (in `rate` units) paused before `position`.
    @inline(__always)
    public func pausedBefore(_ position: Int64, rate: Int64) -> Int64 {
        var total: Int64 = 0
        for interval in intervals {
            let start = scaled(interval.start, to: rate)
            guard start < position else { break }
            total += min(position, interval.end.map { scaled($0, to: rate) } ?? .max) - start
        }
        return total
    }

    /// The stretches as `[start, end)` in another rate's units (an audio
    /// stream's samples): `unit * rate / unitRate`, rounded down.
    @inline(__always)
    public func scaled(_ unit: Int64, to rate: Int64) -> Int64 {
        unit * rate / schedule.unitRate
    }

    /// The position (in `rate` units) at which `limit` recorded positions
    /// (also in `rate` units) are reached, skipping the paused stretches;
    /// nil while a pause open before it lasts.
    public func limitPosition(recorded limit: Int64, rate: Int64) -> Int64? {
        var position = limit
        for interval in intervals {
            let start = scaled(interval.start, to: rate)
            guard start < position else { break }
            guard let end = interval.end else { return nil }
            position += scaled(end, to: rate) - start
        }
        return position
    }
}
