import Foundation
import Logging
import RecorderEngine
import Synchronization

/// One recording the daemon runs: its session, what the request asked for
/// (stream URLs redacted), its state as the API shows it, and what it costs.
/// The state is changed by the recording's own service task (from the
/// session's events) and by stop requests; readers take a snapshot.
final class Recording: Sendable {
    enum State: String, Sendable {
        case starting, recording, stopping, finished, failed
        var isActive: Bool { self == .starting || self == .recording || self == .stopping }
    }

    /// Why the daemon ended a recording, beyond the engine's reasons.
    enum StopCause: String, Sendable {
        case stopRequested, noMedia, shutdown
    }

    let id: String
    let session: RecordingSession
    /// The file written, absolute; nil when streaming only.
    let file: String?
    let display: String
    let audioDevice: String?
    let workspace: String?
    let streams: [String]
    let metadata: [String: String]
    let width: Int?
    let height: Int?
    let fps: Int
    let preset: String
    let noMediaAction: DaemonConfiguration.NoMediaAction
    let createdAt = Date()
    /// Estimated cores (the cost table) and expected bits/s on disk.
    let estimatedCores: Double
    let expectedBitrate: Double
    /// Claims on the display and sound device while active.
    let displayKey: String
    let deviceKey: String?

    private struct Mutable {
        var state: State = .starting
        var cause: StopCause?
        var error: String?
        var result: RecordingResult?
        var noMedia: [String: Bool] = [:]
        var measuredCores = 0.0
        var lastCPU: (cpu: Duration, elapsed: Duration)?
        var finishedAt: Date?
        /// Tasks waiting for the start (true) or the end (false), by ticket.
        var waiters: [UInt64: (forStart: Bool, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextTicket: UInt64 = 0
    }

    private let mutable = Mutex(Mutable())

    init(id: String, session: RecordingSession, file: String?, display: String, audioDevice: String?, workspace: String?,
         streams: [String], metadata: [String: String], width: Int?, height: Int?, fps: Int, preset: String,
         noMediaAction: DaemonConfiguration.NoMediaAction, estimatedCores: Double, expectedBitrate: Double) {
        self.id = id
        self.session = session
        self.file = file
        self.display = display
        self.audioDevice = audioDevice
        self.workspace = workspace
        self.streams = streams
        self.metadata = metadata
        self.width = width
        self.height = height
        self.fps = fps
        self.preset = preset
        self.noMediaAction = noMediaAction
        self.estimatedCores = estimatedCores
        self.expectedBitrate = expectedBitrate
        displayKey = Self.displayKey(display)
        deviceKey = audioDevice
    }

    /// `:5`, `:5.0`, `unix:5.0` and `localhost:5` are one display to X (a
    /// screen of it): claims compare the host and the display number.
    static func displayKey(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        var host = String(name[..<colon])
        if host == "unix" || host == "localhost" { host = "" }
        let number = name[name.index(after: colon)...].split(separator: ".").first.map(String.init) ?? ""
        return "\(host):\(number)"
    }

    var state: State { mutable.withLock { $0.state } }
    var isActive: Bool { state.isActive }

    /// What the admission check counts for this recording: the larger of
    /// the estimate and what its threads were measured to use.
    var committedCores: Double { mutable.withLock { max(estimatedCores, $0.measuredCores) } }
    var measuredCores: Double { mutable.withLock { $0.measuredCores } }

    // MARK: Changes

    /// The session reported an event; returns true when the daemon's
    /// no-media policy wants the recording stopped.
    func observe(_ event: RecordingEvent) -> Bool {
        var stop = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        mutable.withLock { value in
            switch event {
            case .started:
                if value.state == .starting { value.state = .recording }
                for (ticket, waiter) in value.waiters where waiter.forStart {
                    waiters.append(waiter.continuation)
                    value.waiters[ticket] = nil
                }
            case let .statistics(statistics):
                // The session's threads' CPU over the last interval, in cores.
                if let last = value.lastCPU, statistics.elapsed > last.elapsed {
                    let cores = (statistics.cpuTime - last.cpu).seconds / (statistics.elapsed - last.elapsed).seconds
                    // Smoothed over about five intervals: one busy second
                    // (x264's start, a keyframe) is not the recording's cost.
                    value.measuredCores = value.measuredCores == 0 ? cores : 0.8 * value.measuredCores + 0.2 * cores
                }
                value.lastCPU = (statistics.cpuTime, statistics.elapsed)
            case let .noMedia(change):
                value.noMedia[change.kind.rawValue] = change.change == .began
                if change.change == .began && noMediaAction == .stop && value.state == .recording {
                    value.state = .stopping
                    value.cause = value.cause ?? .noMedia
                    stop = true
                }
            case .warning, .stream, .stopped:
                break
            }
        }
        for waiter in waiters { waiter.resume() }
        return stop
    }

    /// A stop was asked for (the API, or the daemon's shutdown).
    func requestStop(_ cause: StopCause) {
        let stop = mutable.withLock { value -> Bool in
            guard value.state.isActive else { return false }
            if value.state != .stopping { value.state = .stopping }
            value.cause = value.cause ?? cause
            return true
        }
        if stop { session.stop() }
    }

    /// The session has ended: its result, or the error that kept it from starting.
    func finish(result: RecordingResult?, startError: RecordingError?) {
        let waiters = mutable.withLock { value -> [CheckedContinuation<Void, Never>] in
            value.result = result
            value.finishedAt = Date()
            if let startError {
                value.state = .failed
                value.error = "\(startError)"
            } else if let error = result?.error {
                value.state = .failed
                value.error = "\(error)"
            } else {
                value.state = .finished
            }
            value.noMedia = [:]
            defer { value.waiters = [:] }
            return value.waiters.values.map(\.continuation)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns true once the recording has started or ended; false at
    /// `deadline` or when the task is cancelled.
    func waitUntilStartedOrEnded(deadline: ContinuousClock.Instant) async -> Bool {
        await wait(forStart: true, deadline: deadline)
    }

    /// Returns true once the recording has ended (file final, script run);
    /// false at `deadline` or when the task is cancelled.
    func waitUntilFinished(deadline: ContinuousClock.Instant) async -> Bool {
        await wait(forStart: false, deadline: deadline)
    }

    private func wait(forStart: Bool, deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.wait(forStart: forStart) }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Waits until the state has moved past `starting` (`forStart`) or is
    /// no longer active; false when the task was cancelled first.
    private func wait(forStart: Bool) async -> Bool {
        let ticket = mutable.withLock { value in
            value.nextTicket += 1
            return value.nextTicket
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = mutable.withLock { value -> Bool in
                    let done = forStart ? value.state != .starting : !value.state.isActive
                    if done || Task.isCancelled { return true }
                    value.waiters[ticket] = (forStart, continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            mutable.withLock { $0.waiters.removeValue(forKey: ticket) }?.continuation.resume()
        }
        return mutable.withLock { value in forStart ? value.state != .starting : !value.state.isActive }
    }

    var finishedAt: Date? { mutable.withLock { $0.finishedAt } }

    // MARK: What readers see

    /// The recording now: its state and why it stopped (the daemon's cause
    /// before the engine's reason), the statistics (final once ended), the
    /// no-media conditions holding, the measured cost, the result.
    struct Snapshot: Sendable {
        var state: State
        var stopReason: String?
        var error: String?
        var statistics: RecordingStatistics
        var noMedia: [String: Bool]
        var measuredCores: Double
        var result: RecordingResult?
    }

    func snapshot() -> Snapshot {
        let (state, cause, error, result, noMedia, measured) = mutable.withLock { value in
            (value.state, value.cause, value.error, value.result, value.noMedia, value.measuredCores)
        }
        var stopReason: String?
        if let result {
            stopReason = cause?.rawValue ?? "\(result.stopReason)"
        } else if let cause {
            stopReason = cause.rawValue
        }
        return Snapshot(state: state, stopReason: stopReason, error: error, statistics: result?.statistics ?? session.statistics,
                        noMedia: noMedia, measuredCores: measured, result: result)
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
