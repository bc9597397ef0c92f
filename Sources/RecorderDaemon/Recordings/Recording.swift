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
        case starting, recording, stopping
        /// The file is final and the display, device and CPU free; the
        /// finalize script runs.
        case finalizing
        case finished, failed
        /// The file is final; the finalize script failed, or passed its
        /// time limit and was ended.
        case scriptFailed, scriptTimedOut
        /// Holds its display, device and CPU.
        var isActive: Bool { self == .starting || self == .recording || self == .stopping }
        /// Nothing of it runs any more (file and script done).
        var isDone: Bool { !isActive && self != .finalizing }
    }

    /// Why the daemon ended a recording, beyond the engine's reasons.
    enum StopCause: String, Sendable {
        case stopRequested, noMedia, shutdown
        /// It did not start within `startTimeoutSeconds`.
        case startTimeout
        /// A page recording's own endings (`PageSession.Ending`).
        case pageEnded, pageCrashed, browserExited, pageHung
        case callEmpty, allMuted, noMediaReceived, iceFailed
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
    /// A page recording's browser (nil for a display), its URL as shown
    /// (`PageRequest.redactedURL`) and its share of `estimatedCores`.
    let page: PageSession?
    let pageURL: String?
    let estimatedBrowserCores: Double
    /// Claims on the display and sound device while active.
    /// nil for sound alone (`display` is then empty): no display is claimed.
    let displayKey: String?
    let deviceKey: String?

    private struct Mutable {
        var state: State = .starting
        var cause: StopCause?
        var error: String?
        var result: RecordingResult?
        var noMedia: [String: Bool] = [:]
        var measuredCores = 0.0
        var lastCPU: (cpu: Duration, elapsed: Duration)?
        var browser: BrowserCost?
        var finishedAt: Date?
        var script: ScriptOutcome?
    }

    private let mutable = Mutex(Mutable())
    /// Wakes the tasks waiting for a state.
    private let changes = ChangeSignal()

    init(id: String, session: RecordingSession, file: String?, display: String, audioDevice: String?, workspace: String?,
         streams: [String], metadata: [String: String], width: Int?, height: Int?, fps: Int, preset: String,
         noMediaAction: DaemonConfiguration.NoMediaAction, estimatedCores: Double, expectedBitrate: Double,
         page: PageSession? = nil, estimatedBrowserCores: Double = 0) {
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
        self.page = page
        pageURL = page?.shownURL
        self.estimatedBrowserCores = estimatedBrowserCores
        displayKey = display.isEmpty ? nil : Self.displayKey(display)
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
    var committedCores: Double {
        mutable.withLock { max(estimatedCores, $0.measuredCores + ($0.browser?.cores ?? 0)) }
    }
    var measuredCores: Double { mutable.withLock { $0.measuredCores + ($0.browser?.cores ?? 0) } }
    /// Why the daemon stopped it, when it did (before the engine's reason).
    var stopCause: StopCause? { mutable.withLock { $0.cause } }
    var browserCost: BrowserCost? { mutable.withLock { $0.browser } }

    /// The browser's process tree's use, sampled with the statistics:
    /// `cpuSeconds` since it started, at `elapsed` on the recording's clock.
    func observeBrowser(cpuSeconds: Double, residentBytes: Int, processes: Int, at elapsed: Duration) {
        mutable.withLock { value in
            var cost = value.browser ?? BrowserCost()
            if let last = cost.last, elapsed > last.elapsed {
                let cores = max(0, cpuSeconds - last.cpuSeconds) / (elapsed - last.elapsed).seconds
                cost.cores = cost.last == nil || cost.cores == 0 ? cores : 0.8 * cost.cores + 0.2 * cores
            }
            cost.last = (cpuSeconds, elapsed)
            cost.cpuSeconds = cpuSeconds
            cost.residentBytes = residentBytes
            cost.processes = processes
            value.browser = cost
        }
    }

    /// A page recording's browser as measured (`observeBrowser`).
    struct BrowserCost: Sendable {
        /// Cores, smoothed over about five samples, as the session's.
        var cores = 0.0
        var cpuSeconds = 0.0
        var residentBytes = 0
        var processes = 0
        var last: (cpuSeconds: Double, elapsed: Duration)?
    }

    // MARK: Changes

    /// The session reported an event; returns why the session must be
    /// stopped now (the daemon's no-media policy, or a start that came
    /// after the start timed out), or nil.
    func observe(_ event: RecordingEvent) -> StopCause? {
        var stop: StopCause?
        mutable.withLock { value in
            switch event {
            case .started:
                if value.state == .starting {
                    value.state = .recording
                } else if value.cause == .startTimeout {
                    // Too late: the start was answered `failed` and the
                    // display released; this session must not record.
                    stop = .startTimeout
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
                    stop = .noMedia
                }
            case .warning, .stream, .stopped:
                break
            }
        }
        changes.changed()
        return stop
    }

    /// The start was not answered within `seconds`: the recording fails,
    /// naming its display, and releases it; its session is stopped (it
    /// must never begin later). False when it had started or ended by then.
    func startTimedOut(after seconds: Double) -> Bool {
        let failed = mutable.withLock { value -> Bool in
            guard value.state == .starting else { return false }
            value.state = .failed
            value.cause = .startTimeout
            value.error = "display \(display) does not answer: the recording did not start within \(seconds) s"
            value.finishedAt = Date()
            return true
        }
        guard failed else { return false }
        changes.changed()
        session.stop()
        return true
    }

    /// A stop was asked for (the API, or the daemon's shutdown).
    func requestStop(_ cause: StopCause) {
        let stop = mutable.withLock { value -> Bool in
            guard value.state.isActive else { return false }
            if value.state != .stopping { value.state = .stopping }
            value.cause = value.cause ?? cause
            return true
        }
        if stop {
            page?.cancelStart()
            session.stop()
        }
    }

    /// A page recording ended by its page or browser: as a stop, with the
    /// ending as its reason.
    func pageEnded(_ ending: PageSession.Ending) {
        requestStop(StopCause(rawValue: ending.rawValue) ?? .stopRequested)
    }

    /// A page recording could not start (its browser, page or start gate):
    /// `failed` with `message`, its ending as the reason when it has one;
    /// its session never records.
    func pageFailed(_ failure: PageSession.Failure) {
        mutable.withLock { value in
            guard value.state.isActive else { return }
            value.state = .failed
            value.cause = value.cause ?? failure.ending.flatMap { StopCause(rawValue: $0.rawValue) }
            value.error = failure.message
            value.finishedAt = Date()
        }
        changes.changed()
        session.stop()
    }

    /// The session has ended: its result, or the error that kept it from
    /// starting. With `script` the file's finalize script runs next
    /// (`finalizing`, or the failure stays); a start that timed out stays
    /// `failed`.
    func finish(result: RecordingResult?, startError: RecordingError?, script: Bool) {
        mutable.withLock { value in
            value.result = result
            value.noMedia = [:]
            guard value.cause != .startTimeout || value.state != .failed else { return }
            value.finishedAt = Date()
            if let startError {
                value.state = .failed
                value.error = "\(startError)"
            } else if let error = result?.error {
                value.state = .failed
                value.error = "\(error)"
            } else {
                value.state = script ? .finalizing : .finished
            }
        }
        changes.changed()
    }

    /// The finalize script ended: `finished`, `scriptFailed` or
    /// `scriptTimedOut` (a failed recording stays `failed`).
    func scriptEnded(_ outcome: ScriptOutcome) {
        mutable.withLock { value in
            value.script = outcome
            guard value.state == .finalizing else { return }
            switch outcome {
            case .exited(status: 0): value.state = .finished
            case .timedOut: value.state = .scriptTimedOut
            default: value.state = .scriptFailed
            }
            value.finishedAt = Date()
        }
        changes.changed()
    }

    /// Returns true once the recording has started or ended; false at
    /// `deadline` or when the task is cancelled.
    func waitUntilStartedOrEnded(deadline: ContinuousClock.Instant) async -> Bool {
        await changes.wait(until: { self.state != .starting }, deadline: deadline)
    }

    /// Returns true once the file is final (the display released; the
    /// script may still run); false at `deadline` or when the task is
    /// cancelled.
    func waitUntilFileFinal(deadline: ContinuousClock.Instant) async -> Bool {
        await changes.wait(until: { !self.state.isActive }, deadline: deadline)
    }

    /// Returns true once nothing of it runs (file final, script ended);
    /// false at `deadline` or when the task is cancelled.
    func waitUntilDone(deadline: ContinuousClock.Instant) async -> Bool {
        await changes.wait(until: { self.state.isDone }, deadline: deadline)
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
        var browser: BrowserCost?
        var result: RecordingResult?
        /// The daemon's finalize script, once it ended.
        var script: ScriptOutcome?
    }

    func snapshot() -> Snapshot {
        let (state, cause, error, result, noMedia, measured, browser, script) = mutable.withLock { value in
            (value.state, value.cause, value.error, value.result, value.noMedia, value.measuredCores, value.browser, value.script)
        }
        var stopReason: String?
        if let result {
            stopReason = cause?.rawValue ?? "\(result.stopReason)"
        } else if let cause {
            stopReason = cause.rawValue
        }
        return Snapshot(state: state, stopReason: stopReason, error: error, statistics: result?.statistics ?? session.statistics,
                        noMedia: noMedia, measuredCores: measured + (browser?.cores ?? 0), browser: browser, result: result,
                        script: script)
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
