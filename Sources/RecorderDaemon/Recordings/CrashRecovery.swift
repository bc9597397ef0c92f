import Foundation
import HostProcesses
import Logging
import RecorderEngine

/// Finishes, in the background of a started daemon, the recordings a crash
/// (of the daemon, or of the host) left behind: every journal entry is a
/// recording whose file was not final; its fragmented MP4 is turned into a
/// regular one holding every complete fragment (`InterruptedRecording.finish`,
/// the engine's one call for it), its entry is removed, then the finalize
/// scripts run once each, side by side, under the same time limit as a
/// live recording's; the log and `recorderd_recovered_recordings_total` say so.
struct CrashRecovery {
    let journal: Journal
    let logger: Logger
    let metrics: DaemonMetrics
    /// The entry's finalize script, else this one, run for at most `scriptTimeout`.
    let finalizeScript: String?
    let scriptTimeout: Duration

    /// Recovers `leftovers` (read from the journal before the daemon wrote
    /// any entry): every file first, one after another, then their scripts
    /// side by side; `done` is called once per entry when nothing more is
    /// left to do for it. Returns how many files were finished. Cancelled,
    /// it stops before the next file (its scripts are ended).
    @discardableResult
    func run(_ leftovers: [(file: String, entry: Journal.Entry?)], done: @escaping @Sendable () -> Void) async -> Int {
        var recovered = 0
        var scripts: [(entry: Journal.Entry, script: String)] = []
        for (file, entry) in leftovers {
            guard !Task.isCancelled, let entry else {
                if entry == nil {
                    logger.error("unreadable journal entry left by a crash; removed", metadata: ["journal": "\(file)"])
                    unlink(file)
                }
                done()
                continue
            }
            if await finishFile(entry) {
                recovered += 1
                if let script = entry.finalizeScript ?? finalizeScript {
                    scripts.append((entry, script))
                    continue
                }
            }
            done()
        }
        await withDiscardingTaskGroup { group in
            for (entry, script) in scripts {
                group.addTask {
                    let runner = FinalizeScriptRunner(path: script, timeout: scriptTimeout, logger: logger)
                    let directory = (entry.file as NSString).deletingLastPathComponent
                    _ = await runner.run(directory: directory, metadata: [
                        "recording": "\(entry.id)", "file": "\(entry.file)", "recovered": "true",
                    ])
                    done()
                }
            }
        }
        if !leftovers.isEmpty { logger.notice("recovery done", metadata: ["recovered": "\(recovered)"]) }
        return recovered
    }

    /// Makes the entry's file final and removes the entry; true when the
    /// file is final (its script is to run).
    private func finishFile(_ entry: Journal.Entry) async -> Bool {
        let metadata: Logger.Metadata = ["recording": "\(entry.id)", "file": "\(entry.file)"]
        guard access(entry.file, F_OK) == 0 else {
            logger.warning("a crash left a recording with no file (it had written nothing)", metadata: metadata)
            journal.remove(entry.id)
            return false
        }
        // On a thread of its own: rewriting a large file takes seconds, and
        // the cooperative threads serve the API meanwhile.
        // Beneath the recordings directory's descriptor (entries written
        // before it was recorded name none: the path as it is).
        let path = entry.file, directory = entry.recordingsDirectory
        guard let finished = await Self.onThread({ () -> Result<InterruptedRecording.Outcome, any Error> in
            do {
                let confinement = try directory.map { try ConfinedDirectory(path: $0) }
                return .success(try InterruptedRecording.finish(path: path, confinement: confinement))
            } catch {
                return .failure(error)
            }
        }) else {
            logger.warning("shutting down: recovery left for the next start", metadata: metadata)
            return false
        }
        do {
            switch try finished.get() {
            case .alreadyFinished:
                logger.notice("recording was finished before the crash; running its finalize script", metadata: metadata)
            case let .finished(duration, bytes, took):
                metrics.recovered.increment()
                logger.notice("recovered a recording a crash left behind", metadata: metadata.merging([
                    "media_seconds": "\(duration.seconds)", "bytes": "\(bytes)", "took_seconds": "\(took.seconds)",
                ]) { $1 })
            }
        } catch {
            metrics.recoveryFailures.increment()
            logger.error("could not recover a recording a crash left behind: \(error)", metadata: metadata)
            journal.remove(entry.id)
            return false
        }
        // The file is final: a crash during the script does not run it again.
        journal.remove(entry.id)
        return true
    }

    /// Runs `work` on a new thread; its value, or nil when the task is
    /// cancelled first (the work then finishes on its own).
    private static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
        let (stream, input) = AsyncStream.makeStream(of: T.self, bufferingPolicy: .bufferingNewest(1))
        Thread.detachNewThread {
            input.yield(work())
            input.finish()
        }
        for await value in stream { return value }
        return nil
    }
}
