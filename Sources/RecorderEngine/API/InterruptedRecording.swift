public import MediaCore
import MediaPackets
import Mux

/// Recordings a crash left behind, for a daemon that restarts after one:
/// `finish(path:)` makes such a file the regular MP4 a clean stop would have
/// made, in place (`MP4Repair`): every complete fragment is kept, a torn
/// last one dropped, the exact timestamps restored from the file's marker.
public enum InterruptedRecording {
    /// What `finish(path:)` did.
    public enum Outcome: Sendable, Equatable {
        /// The file is a regular MP4 now, holding every complete fragment:
        /// `duration` of media, `bytes` on disk, finished in `took`.
        case finished(duration: Duration, bytes: Int64, took: Duration)
        /// It was a finished recording already; left untouched.
        case alreadyFinished
    }

    /// Why a file could not be finished; it is left as it was.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// Not one of the engine's recordings, not an MP4, no complete
        /// fragment, damaged or unreadable (the refusal says which).
        case refused(MP4RepairRefusal)
        /// Writing it failed.
        case failed(OutputFileFailure)

        public var description: String {
            switch self {
            case let .refused(refusal): "\(refusal)"
            case let .failed(failure): "\(failure)"
            }
        }
    }

    /// Finishes the recording at `path` (see the type's description).
    /// `confinement`: the file is opened beneath it, never by name (`path`
    /// must lie under it; a symbolic link on the way fails as `ELOOP`).
    public static func finish(path: String, confinement: ConfinedDirectory? = nil) throws(Failure) -> Outcome {
        do {
            let report = try MP4Repair.repair(path: path, files: OutputFiles(confinement: confinement))
            if report.wasFinished { return .alreadyFinished }
            return .finished(duration: .seconds(report.duration ?? 0), bytes: report.bytes, took: .seconds(report.seconds))
        } catch let refusal as MP4RepairRefusal {
            throw .refused(refusal)
        } catch {
            let underlying = error as? AVError ?? AVError(code: AVError.ioErrorCode, operation: "repair")
            throw .failed(OutputFileFailure(path: path, operation: .finish, underlying: underlying))
        }
    }
}
