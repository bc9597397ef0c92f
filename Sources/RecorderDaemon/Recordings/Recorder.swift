import Foundation
import Logging
import RecorderEngine
import ServiceLifecycle
import Synchronization

/// The daemon's recordings: admission, start, stop, the list, and the drain
/// at shutdown.
///
/// A `Service`: `run()` finishes what a crash left (`CrashRecovery`, in the
/// background) and runs every recording it admits (a task group fed by
/// `start`): the session, then, once the file is final and the display,
/// device and CPU released, the finalize script (`FinalizeScriptRunner`,
/// at most `finalizeTimeoutSeconds`). It returns once all of them have
/// ended. On graceful shutdown it refuses new recordings (`draining`), asks
/// each running one to stop, gives them `shutdownTimeoutSeconds` to finish
/// their files and scripts, then cancels what is left (a cancelled session
/// still finishes its file; a cancelled script's process group is killed);
/// cancelled itself, it cancels them at once. Finished recordings leave
/// nothing in the group; the registry keeps the last `keepFinished` for the
/// list.
final class Recorder: Service, Sendable {
    let configuration: DaemonConfiguration
    let logger: Logger
    let metrics = DaemonMetrics()
    let costs: CostTable
    let journal: Journal
    let workspaces: WorkspaceManager
    /// Browser launches at a time (`browserLaunchConcurrency`).
    let launches: LaunchLimiter
    /// A page's browser estimate (`pageCost`).
    let pageCost: PageCost
    /// Admitted recordings on their way to `run()`; finished when draining.
    private let starts: AsyncStream<Recording>
    private let startsInput: AsyncStream<Recording>.Continuation

    private struct Registry {
        var recordings: [String: Recording] = [:]
        /// Creation order, for the list and for dropping old finished ones.
        var order: [String] = []
        var draining = false

        var active: [Recording] { order.compactMap { recordings[$0] }.filter(\.isActive) }
    }

    private let registry = Mutex(Registry())
    /// Tasks of `run()`'s group still running (recordings with their
    /// scripts, the recovery), and the journal entries still to recover.
    private let running = Mutex((tasks: 0, recovering: 0))
    private let runningChanged = ChangeSignal()
    /// What a crash left in the journal, read before any new entry is written.
    private let leftovers: [(file: String, entry: Journal.Entry?)]

    init(configuration: DaemonConfiguration, logger: Logger, journal: Journal, workspaces: WorkspaceManager,
         costs: CostTable = .measured, leftovers: [(file: String, entry: Journal.Entry?)] = []) {
        self.configuration = configuration
        self.logger = logger
        self.journal = journal
        self.workspaces = workspaces
        self.costs = costs
        self.leftovers = leftovers
        launches = LaunchLimiter(limit: configuration.browserLaunchConcurrency)
        pageCost = PageCost(baseCores: configuration.pageCostBaseCores, coresPerMegapixel: configuration.pageCostCoresPerMegapixel)
        (starts, startsInput) = AsyncStream.makeStream(of: Recording.self)
        running.withLock { $0.recovering = leftovers.count }
    }

    // MARK: Service

    func run() async {
        await withDiscardingTaskGroup { group in
            if !leftovers.isEmpty {
                counted(+1)
                group.addTask {
                    await CrashRecovery(journal: self.journal, logger: self.logger, metrics: self.metrics,
                                        finalizeScript: self.configuration.finalizeScript,
                                        scriptTimeout: .seconds(self.configuration.finalizeTimeoutSeconds)).run(self.leftovers) {
                        self.running.withLock { $0.recovering -= 1 }
                    }
                    self.counted(-1)
                }
            }
            await withGracefulShutdownHandler {
                for await recording in starts {
                    counted(+1)
                    group.addTask {
                        await self.record(recording)
                        self.counted(-1)
                    }
                }
            } onGracefulShutdown: {
                self.beginDrain()
            }
            // Draining (or cancelled): every recording was asked to stop.
            beginDrain()
            let timeout = configuration.shutdownTimeoutSeconds
            let allEnded = await runningChanged.wait(until: { self.running.withLock { $0.tasks == 0 } },
                                                     deadline: .now + .seconds(timeout))
            if !allEnded {
                let left = registry.withLock { registry in
                    registry.order.compactMap { registry.recordings[$0] }.filter { !$0.state.isDone }
                }
                let recovering = recoveringCount
                logger.warning("shutting down: recordings and scripts did not finish in \(timeout) s; cancelling them",
                               metadata: ["recordings": "\(left.map { "\($0.id) (\($0.state.rawValue))" }.joined(separator: ","))",
                                          "recovering": "\(recovering)"])
                group.cancelAll()
            }
        }
    }

    /// Counts a task of `run()`'s group in (+1) or out (-1).
    private func counted(_ change: Int) {
        running.withLock { $0.tasks += change }
        runningChanged.changed()
    }

    /// Journal entries a crash left whose files are not finished yet.
    var recoveringCount: Int { running.withLock { $0.recovering } }

    /// The finalize script, run by the daemon with its time limit; nil when none.
    var finalizeScriptRunner: FinalizeScriptRunner? {
        configuration.finalizeScript.map {
            FinalizeScriptRunner(path: $0, timeout: .seconds(configuration.finalizeTimeoutSeconds), logger: logger)
        }
    }

    var isDraining: Bool { registry.withLock { $0.draining } }

    /// Refuses new recordings and stops every running one (SIGTERM).
    func beginDrain() {
        let active = registry.withLock { registry -> [Recording] in
            guard !registry.draining else { return [] }
            registry.draining = true
            return registry.active
        }
        startsInput.finish()
        metrics.draining.record(1)
        if !active.isEmpty { logger.notice("shutting down: stopping \(active.count) recording(s)") }
        for recording in active { recording.requestStop(.shutdown) }
    }

    /// Runs one recording: the session, its events (state, CPU, the no-media
    /// policy), then what the daemon does when the file is final: the
    /// journal entry goes (the file needs no recovery), the display, device
    /// and CPU are released (`finalizing`), and the finalize script runs.
    private func record(_ recording: Recording) async {
        let session = recording.session
        let events = session.events
        let script = recording.file == nil ? nil : finalizeScriptRunner
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await event in events {
                    if case let .statistics(statistics) = event, let usage = recording.page?.usage() {
                        recording.observeBrowser(cpuSeconds: usage.cpuSeconds, residentBytes: usage.residentBytes,
                                                 processes: usage.processes, at: statistics.elapsed)
                        self.metrics.browser(recording.id, usage: usage, cores: recording.browserCost?.cores ?? 0)
                    }
                    guard let cause = recording.observe(event) else { continue }
                    switch cause {
                    case .startTimeout:
                        self.logger.warning("stopping \(recording.id): it started after its start timed out",
                                            metadata: ["recording": "\(recording.id)"])
                    default:
                        self.logger.notice("stopping \(recording.id): no media", metadata: ["recording": "\(recording.id)"])
                    }
                    session.stop()
                }
            }
            let journal = self.journal
            let run: @Sendable () async -> Void = {
                do throws(RecordingError) {
                    let result = try await session.record()
                    journal.remove(recording.id)
                    // A Jitsi room's participants and metadata.json, as Jibri
                    // writes them: after the stop, before the file counts as final.
                    if let page = recording.page, page.meeting != nil, result.output != nil {
                        await page.leaveCall()
                        self.writeMeetingMetadata(recording, page: page)
                    }
                    recording.finish(result: result, startError: nil, script: script != nil && result.output != nil)
                } catch {
                    journal.remove(recording.id)
                    recording.finish(result: nil, startError: error, script: false)
                }
            }
            if let page = recording.page {
                await recordPage(recording, page: page, record: run)
                journal.remove(recording.id)
            } else {
                await run()
            }
            await tasks.waitForAll()
        }
        var outcome = recording.snapshot()
        logger.info("recording ended", metadata: [
            "recording": "\(recording.id)", "state": "\(outcome.state.rawValue)", "reason": "\(outcome.stopReason ?? "")",
            "media_seconds": "\(outcome.statistics.mediaDuration.seconds)", "error": "\(outcome.error ?? "none")",
        ])
        metrics.active.record(activeRecordings.count)
        // As the engine ran it: for every file written, but never for a
        // recording whose start timed out.
        if let script, let file = recording.file, outcome.result?.output != nil,
           outcome.stopReason != Recording.StopCause.startTimeout.rawValue {
            let directory = (file as NSString).deletingLastPathComponent
            recording.scriptEnded(await script.run(directory: directory, metadata: ["recording": "\(recording.id)"]))
            outcome = recording.snapshot()
        }
        ended(recording, state: outcome.state)
    }

    // MARK: The registry

    func recording(_ id: String) -> Recording? { registry.withLock { $0.recordings[id] } }

    func list() -> [Recording] {
        registry.withLock { registry in registry.order.compactMap { registry.recordings[$0] } }
    }

    var activeRecordings: [Recording] { registry.withLock { $0.active } }

    /// Registers `recording` if the daemon is not draining, its display and
    /// device are free and it fits beside the running ones: the check and the
    /// registration under one lock, so that recordings asked for at the same
    /// moment are admitted one after another.
    func admit(_ recording: Recording) throws(RecorderError) {
        try registry.withLock { registry throws(RecorderError) in
            guard !registry.draining else { throw .draining }
            let active = registry.active
            for other in active {
                // The request field that named it: the workspace names both.
                if let display = recording.displayKey, other.displayKey == display {
                    throw .busy("display \(recording.display) is being recorded by \(other.id)",
                                field: recording.workspace == nil ? "display" : "workspace")
                }
                if let device = recording.deviceKey, other.deviceKey == device {
                    throw .busy("audio device \(device) is being recorded by \(other.id)",
                                field: recording.workspace == nil ? "audioDevice" : "workspace")
                }
            }
            if let refusal = admission(cores: recording.estimatedCores, bitrate: recording.expectedBitrate, beside: active) {
                throw refusal
            }
            registry.recordings[recording.id] = recording
            registry.order.append(recording.id)
        }
    }

    /// Hands an admitted recording to `run()`; refused when draining began
    /// since it was admitted (the caller withdraws it).
    func launch(_ recording: Recording) throws(RecorderError) {
        guard case .enqueued = startsInput.yield(recording) else { throw .draining }
        metrics.started.increment()
        metrics.active.record(activeRecordings.count)
    }

    /// Takes a recording back that was admitted but could not be started.
    func withdraw(_ recording: Recording) {
        registry.withLock { registry in
            registry.recordings[recording.id] = nil
            registry.order.removeAll { $0 == recording.id }
        }
    }

    /// A recording ended (file final, script run): count it, forget the
    /// oldest finished ones.
    private func ended(_ recording: Recording, state: Recording.State) {
        if state == .failed { metrics.failed.increment() } else { metrics.finished.increment() }
        metrics.active.record(activeRecordings.count)
        let keep = configuration.keepFinished
        registry.withLock { registry in
            let finished = registry.order.filter { registry.recordings[$0]?.state.isDone == true }
            for id in finished.dropLast(keep) {
                registry.recordings[id] = nil
                registry.order.removeAll { $0 == id }
            }
        }
    }

    // MARK: Admission

    /// Whether a recording costing `cores` and writing `bitrate` bits/s fits
    /// beside `active`: nil, or the refusal (`cpu` or `disk`). `host`: the
    /// cores and free bytes to judge by (read now when nil).
    func admission(cores: Double, bitrate: Double, beside active: [Recording],
                   host: (cores: Double, freeBytes: Int64?)? = nil) -> RecorderError? {
        let capacity = host?.cores ?? capacityCores
        let committed = active.reduce(0) { $0 + $1.committedCores }
        let budget = configuration.cpuShare * capacity
        if committed + cores > budget {
            return .cpu(String(
                format: "not enough CPU: running recordings are committed to %.2f of the %.2f cores allowed "
                    + "(%.2f x %.2f cores), and this one needs an estimated %.2f", committed, budget,
                configuration.cpuShare, capacity, cores))
        }
        if let free = host.map(\.freeBytes) ?? HostResources.freeBytes(configuration.recordingsDir) {
            let rate = active.reduce(0) { $0 + $1.expectedBitrate } + bitrate
            let needed = rate / 8 * configuration.minFreeMinutes * 60
            if Double(free) < needed {
                return .disk(String(
                    format: "not enough disk: %.0f MB free in the recordings directory, %.0f MB needed for %.0f minutes "
                        + "at %.1f Mbit/s (the running recordings and this one)",
                    Double(free) / 1e6, needed / 1e6, configuration.minFreeMinutes, rate / 1e6))
            }
        }
        return nil
    }

    var capacityCores: Double { configuration.cores ?? HostResources.cores() }

    /// Bits/s a recording is expected to write: its maxrate, else
    /// `bitsPerPixel` per pixel per frame, plus its audio.
    func expectedBitrate(width: Int, height: Int, fps: Int, maxrate: Int?, audioBitrate: Int?) -> Double {
        Double(maxrate ?? Int(Double(width * height * fps) * configuration.bitsPerPixel)) + Double(audioBitrate ?? 0)
    }

    // MARK: Workspaces

    /// Stops a workspace no recording uses.
    func deleteWorkspace(_ id: String) async throws(RecorderError) {
        if activeRecordings.contains(where: { $0.workspace == id }) { throw .workspaceInUse(id) }
        guard await workspaces.delete(id) else { throw .notFound("workspace \(id)") }
    }

    func createWorkspace(width: Int, height: Int) async throws -> WorkspaceView {
        guard !isDraining else { throw RecorderError.draining }
        return try await workspaces.create(width: width, height: height)
    }
}
