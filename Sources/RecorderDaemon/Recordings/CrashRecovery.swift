import Foundation
import HostProcesses
import Logging
import RecorderEngine

/// On start, finishes the recordings a crash (of the daemon, or of the host)
/// left behind: every journal entry is a recording whose file was not
/// finished; its fragmented MP4 is turned into a regular one holding every
/// complete fragment (`InterruptedRecording.finish`, the engine's one call
/// for it), the finalize script runs for it, and the log and
/// `recorderd_recovered_recordings_total` say so.
struct CrashRecovery {
    let journal: Journal
    let logger: Logger
    let metrics: DaemonMetrics
    let finalizeScript: String?

    /// Recovers every leftover; returns how many files were finished.
    @discardableResult
    func run() async -> Int {
        var recovered = 0
        for (file, entry) in journal.leftovers() {
            guard let entry else {
                logger.error("unreadable journal entry left by a crash; removed", metadata: ["journal": "\(file)"])
                unlink(file)
                continue
            }
            if await recover(entry) { recovered += 1 }
            journal.remove(entry.id)
        }
        return recovered
    }

    private func recover(_ entry: Journal.Entry) async -> Bool {
        let metadata: Logger.Metadata = ["recording": "\(entry.id)", "file": "\(entry.file)"]
        guard access(entry.file, F_OK) == 0 else {
            logger.warning("a crash left a recording with no file (it had written nothing)", metadata: metadata)
            return false
        }
        do {
            let confinement = try entry.recordingsDirectory.map { try ConfinedDirectory(path: $0) }
            switch try InterruptedRecording.finish(path: entry.file, confinement: confinement) {
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
            return false
        }
        if let script = entry.finalizeScript ?? finalizeScript {
            let directory = (entry.file as NSString).deletingLastPathComponent
            do {
                let child = try ChildProcess([script, directory])
                let status = try await child.terminated().status
                logger.info("finalize script ran for a recovered recording",
                            metadata: metadata.merging(["script": "\(script)", "status": "\(status)"]) { $1 })
            } catch is CancellationError {
                // The daemon is stopping: dropping the child ended its process group.
                logger.warning("finalize script of a recovered recording ended: the daemon is stopping",
                               metadata: metadata.merging(["script": "\(script)"]) { $1 })
            } catch {
                logger.error("finalize script could not start: \(error)", metadata: metadata)
            }
        }
        return true
    }
}
