import HostProcesses
import Logging
import RecorderEngine

/// How a finalize script run by the daemon ended.
enum ScriptOutcome: Sendable, Equatable {
    case exited(status: Int32)
    case killed(signal: Int32)
    /// It ran past the time limit; its process group was ended (`status`
    /// as a shell reports it, nil when it was not reaped in time).
    case timedOut(status: Int32?)
    /// The daemon stopped while it ran; its process group was ended.
    case endedAtShutdown(status: Int32?)
    case couldNotStart(String)

    var succeeded: Bool { self == .exited(status: 0) }

    /// The exit status as a shell reports it (128 + a signal), when there is one.
    var exitStatus: Int32? {
        switch self {
        case let .exited(status): status
        case let .killed(signal): 128 + signal
        case let .timedOut(status), let .endedAtShutdown(status): status
        case .couldNotStart: nil
        }
    }

    var description: String {
        switch self {
        case let .exited(status): "exited with status \(status)"
        case let .killed(signal): "was killed by signal \(signal)"
        case let .timedOut(status):
            "passed its time limit and was ended with its process group" + (status.map { " (status \($0))" } ?? "")
        case let .endedAtShutdown(status):
            "was ended with its process group: the daemon stopped" + (status.map { " (status \($0))" } ?? "")
        case let .couldNotStart(reason): "could not be started: \(reason)"
        }
    }
}

/// Runs the finalize script for a final file as Jibri runs `finalize.sh`
/// (the file's directory as the only argument), in a process group of its
/// own, for at most `timeout`; then, or when the task is cancelled (the
/// daemon stopping), the whole group is ended (SIGTERM, SIGKILL after
/// `grace`).
struct FinalizeScriptRunner: Sendable {
    let path: String
    let timeout: Duration
    let logger: Logger
    /// Between SIGTERM and SIGKILL of a script past its limit.
    var grace: Duration = .seconds(3)

    func run(directory: String, metadata: Logger.Metadata) async -> ScriptOutcome {
        var metadata = metadata
        metadata["script"] = "\(path)"
        // A bare name is a file here, as the engine takes it, not a PATH search.
        let program = path.contains("/") ? path : "./" + path
        let child: ChildProcess
        do {
            child = try ChildProcess([program, directory], standardOutput: .inherit, standardError: .inherit)
        } catch {
            logger.error("finalize script could not start: \(error)", metadata: metadata)
            return .couldNotStart("\(error)")
        }
        metadata["pid"] = "\(child.pid)"
        logger.info("finalize script started", metadata: metadata)
        let outcome: ScriptOutcome
        do {
            if let ended = try await child.terminated(within: timeout) {
                outcome = ended.signal.map { .killed(signal: $0) } ?? .exited(status: ended.status)
            } else {
                logger.warning("finalize script passed its time limit of \(timeout.seconds) s: ending its process group",
                               metadata: metadata)
                outcome = .timedOut(status: await child.terminate(grace: grace)?.status)
            }
        } catch {
            // Cancelled: the daemon is stopping. Ended at once (the task is
            // cancelled, so `terminate` does not wait out the grace).
            let ended = await child.terminate(grace: .zero, reapWithin: .seconds(2))
            if ended == nil {
                logger.warning("shutting down: abandoned a finalize script that did not end after SIGKILL",
                               metadata: metadata)
            } else {
                logger.warning("shutting down: ended a finalize script and its process group", metadata: metadata)
            }
            return .endedAtShutdown(status: ended?.status)
        }
        let level: Logger.Level = outcome.succeeded ? .info : .warning
        logger.log(level: level, "finalize script \(outcome.description)", metadata: metadata)
        return outcome
    }
}
