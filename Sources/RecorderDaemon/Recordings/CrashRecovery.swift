import Foundation
import HostProcesses
import Logging
import RecorderEngine

/// Finishes, in the background of a started daemon, the recordings a crash
/// (of the daemon, or of the host) left behind: every journal entry is a
/// recording whose file was not final; its fragmented MP4 is turned into a
/// regular one holding every complete fragment (`InterruptedRecording.finish`,
/// the engine's one call for it), its entry is removed, then the finalize
/// script runs for it once, under the same time limit as a live
/// recording's; the log and `recorderd_recovered_recordings_total` say so.
struct CrashRecovery {
    let journal: Journal
    let logger: Logger
    let metrics: DaemonMetrics
    /// The entry's finalize script, else this one, run for at most `scriptTimeout`.
    let finalizeScript: String?
    let scriptTimeout: Duration

    /// Recovers `leftovers` (read from the journal before the daemon wrote
    /// any entry), calling `done` after each; returns how many files were
    /// finished. Cancelled, it stops before the next entry.
    @discardableResult
    func run(_ leftovers: [(file: String, entry: Journal.Entry?)], done: @Sendable () -> Void) async -> Int {
        var recovered = 0
        for (file, entry) in leftovers {
            defer { done() }
            guard !Task.isCancelled else { continue }
            guard let entry else {
                logger.error("unreadable journal entry left by a crash; removed", metadata: ["journal": "\(file)"])
                unlink(file)
                continue
            }
            if await recover(entry) { recovered += 1 }
        }
        if !leftovers.isEmpty { logger.notice("recovery done", metadata: ["recovered": "\(recovered)"]) }
        return recovered
    }

    private func recover(_ entry: Journal.Entry) async -> Bool {
        let metadata: Logger.Metadata = ["recording": "\(entry.id)", "file": "\(entry.file)"]
        guard access(entry.file, F_OK) == 0 else {
            logger.warning("a crash left a recording with no file (it had written nothing)", metadata: metadata)
            journal.remove(entry.id)
            return false
        }
        // On a thread of its own: rewriting a large file takes seconds, and
        // the cooperative threads serve the API meanwhile.
        let path = entry.file
        guard let finished = await Self.onThread({ () -> Result<InterruptedRecording.Outcome, InterruptedRecording.Failure> in
            do throws(InterruptedRecording.Failure) {
                return .success(try InterruptedRecording.finish(path: path))
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
        if let path = entry.finalizeScript ?? finalizeScript {
            let runner = FinalizeScriptRunner(path: path, timeout: scriptTimeout, logger: logger)
            let directory = (entry.file as NSString).deletingLastPathComponent
            _ = await runner.run(directory: directory, metadata: metadata.merging(["recovered": "true"]) { $1 })
        }
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
