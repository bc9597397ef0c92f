import Foundation
import Logging
import RecorderEngine
import ServiceLifecycle
import Synchronization

/// The daemon's recordings: admission, start, stop, the list, and the
/// drain at shutdown. Each recording runs as a service of the daemon's
/// `ServiceGroup` (added with `addServiceUnlessShutdown`), so SIGTERM stops
/// and finishes them.
final class Recorder: Sendable {
    let configuration: DaemonConfiguration
    let logger: Logger
    let metrics = DaemonMetrics()
    let costs: CostTable
    let journal: Journal
    let workspaces: WorkspaceManager
    private let group = Mutex<ServiceGroup?>(nil)

    private struct Registry {
        var recordings: [String: Recording] = [:]
        /// Creation order, for the list and for dropping old finished ones.
        var order: [String] = []
        var draining = false
    }

    private let registry = Mutex(Registry())

    init(configuration: DaemonConfiguration, logger: Logger, journal: Journal, workspaces: WorkspaceManager,
         costs: CostTable = .measured) {
        self.configuration = configuration
        self.logger = logger
        self.journal = journal
        self.workspaces = workspaces
        self.costs = costs
    }

    func attach(_ group: ServiceGroup) {
        self.group.withLock { $0 = group }
    }

    var isDraining: Bool { registry.withLock { $0.draining } }

    /// Refuse new recordings and stop every running one (SIGTERM).
    func beginDrain() {
        let active = registry.withLock { registry -> [Recording] in
            guard !registry.draining else { return [] }
            registry.draining = true
            return registry.order.compactMap { registry.recordings[$0] }.filter(\.isActive)
        }
        metrics.draining.record(1)
        if !active.isEmpty { logger.notice("shutting down: stopping \(active.count) recording(s)") }
        for recording in active { recording.requestStop(.shutdown) }
    }

    func recording(_ id: String) -> Recording? { registry.withLock { $0.recordings[id] } }

    func list() -> [Recording] {
        registry.withLock { registry in registry.order.compactMap { registry.recordings[$0] } }
    }

    var activeRecordings: [Recording] { list().filter(\.isActive) }

    // MARK: Admission

    /// Whether a recording costing `cores` and writing `bitrate` bits/s fits
    /// beside the running ones: nil, or the refusal.
    func admission(cores: Double, bitrate: Double) -> Refusal? {
        let active = activeRecordings
        let capacity = capacityCores
        let committed = active.reduce(0) { $0 + $1.committedCores }
        let budget = configuration.cpuShare * capacity
        if committed + cores > budget {
            return Refusal(reason: "cpu", message: String(
                format: "not enough CPU: running recordings are committed to %.2f of the %.2f cores allowed "
                    + "(%.2f x %.2f cores), and this one needs an estimated %.2f", committed, budget,
                configuration.cpuShare, capacity, cores))
        }
        if let free = HostResources.freeBytes(configuration.recordingsDir) {
            let rate = active.reduce(0) { $0 + $1.expectedBitrate } + bitrate
            let needed = rate / 8 * configuration.minFreeMinutes * 60
            if Double(free) < needed {
                return Refusal(reason: "disk", message: String(
                    format: "not enough disk: %.0f MB free in the recordings directory, %.0f MB needed for %.0f minutes "
                        + "at %.1f Mbit/s (the running recordings and this one)",
                    Double(free) / 1e6, needed / 1e6, configuration.minFreeMinutes, rate / 1e6))
            }
        }
        return nil
    }

    struct Refusal: Error, Sendable {
        var reason: String
        var message: String
    }

    var capacityCores: Double { configuration.cores ?? HostResources.cores() }

    /// Bits/s a recording is expected to write: its maxrate, else
    /// `bitsPerPixel` per pixel per frame, plus its audio.
    func expectedBitrate(width: Int, height: Int, fps: Int, maxrate: Int?, audioBitrate: Int?) -> Double {
        Double(maxrate ?? Int(Double(width * height * fps) * configuration.bitsPerPixel)) + Double(audioBitrate ?? 0)
    }

    // MARK: Start

    /// Registers `recording` if its display and device are free and it
    /// fits; the refusal otherwise (409 busy, 503 cpu/disk/draining).
    func admit(_ recording: Recording) throws(Refusal) {
        try registry.withLock { registry throws(Refusal) in
            guard !registry.draining else {
                throw Refusal(reason: "draining", message: "shutting down: no new recordings")
            }
            for other in registry.recordings.values where other.isActive {
                if other.displayKey == recording.displayKey {
                    throw Refusal(reason: "busy", message: "display \(recording.display) is being recorded by \(other.id)")
                }
                if let device = recording.deviceKey, other.deviceKey == device {
                    throw Refusal(reason: "busy", message: "audio device \(device) is being recorded by \(other.id)")
                }
            }
            registry.recordings[recording.id] = recording
            registry.order.append(recording.id)
        }
    }

    /// Takes a recording back that was admitted but could not be started.
    func withdraw(_ recording: Recording) {
        registry.withLock { registry in
            registry.recordings[recording.id] = nil
            registry.order.removeAll { $0 == recording.id }
        }
    }

    /// Starts an admitted recording as a service of the daemon's group.
    func launch(_ recording: Recording) async {
        metrics.started.increment()
        metrics.active.record(activeRecordings.count)
        let service = RecordingService(recording: recording, recorder: self)
        guard let group = group.withLock({ $0 }) else { return }
        await group.addServiceUnlessShutdown(ServiceGroupConfiguration.ServiceConfiguration(
            service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
    }

    /// The recording's service ended: release its claims (by state), drop
    /// its journal entry, count it, forget the oldest finished ones.
    func ended(_ recording: Recording) {
        journal.remove(recording.id)
        if recording.state == .failed { metrics.failed.increment() } else { metrics.finished.increment() }
        metrics.active.record(activeRecordings.count)
        let keep = configuration.keepFinished
        registry.withLock { registry in
            let finished = registry.order.filter { registry.recordings[$0]?.isActive == false }
            for id in finished.dropLast(keep) {
                registry.recordings[id] = nil
                registry.order.removeAll { $0 == id }
            }
        }
    }
}

/// One recording as a service of the daemon's group: runs the session,
/// follows its events (state, CPU, no-media policy), and tells the daemon
/// when it is over.
///
/// During a shutdown it returns only when the group asks it to: the group
/// stops its services one by one in reverse order and treats a service that
/// ends by itself meanwhile as a failure (it would cancel the others, which
/// skips their finalize scripts); all recordings are stopped at once by the
/// first shutdown signal instead (`Recorder.beginDrain`).
struct RecordingService: Service {
    let recording: Recording
    let recorder: Recorder

    func run() async {
        let session = recording.session
        let events = session.events
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    for await event in events where recording.observe(event) {
                        recorder.logger.notice("stopping \(recording.id): no media", metadata: ["recording": "\(recording.id)"])
                        session.stop()
                    }
                }
                do throws(RecordingError) {
                    let result = try await session.record()
                    recording.finish(result: result, startError: nil)
                } catch {
                    recording.finish(result: nil, startError: error)
                }
                await tasks.waitForAll()
            }
        } onGracefulShutdown: {
            recorder.beginDrain()
        }
        let view = recording.view()
        recorder.logger.info("recording ended", metadata: [
            "recording": "\(recording.id)", "state": "\(view.state)", "reason": "\(view.stopReason ?? "")",
            "media_seconds": "\(view.statistics.mediaSeconds)", "error": "\(view.error ?? "none")",
        ])
        recorder.ended(recording)
        if recorder.isDraining {
            // Wait for the group to get to this service (see above).
            try? await gracefulShutdown()
        }
    }
}
