import MediaPackets
import Mux

/// Recordings a crash left behind: while recording, a session's file is a
/// fragmented MP4 that plays up to the last fragment; `finish(path:)` turns
/// such a file into the regular MP4 a clean stop would have made, for a
/// daemon that restarts after a crash.
///
/// Until in-place finishing lands (the `MP4Repair` work), this is a
/// stream-copy remux (`MP4FileSink.finishInterrupted`); the call stays the
/// same.
public enum InterruptedRecording {
    /// What `finish(path:)` did.
    public enum Outcome: Sendable, Equatable {
        /// The file is a regular MP4 now, holding every complete fragment:
        /// `duration` of media, `bytes` on disk, finished in `took`.
        case finished(duration: Duration, bytes: Int64, took: Duration)
        /// It was a finished recording already; left untouched.
        case alreadyFinished
    }

    /// Finishes the recording at `path` (see the type's description).
    ///
    /// - Throws: `RecordingError.outputFile` (operation `finish`) when the
    ///   file cannot be read or written; it is left as it was.
    public static func finish(path: String) throws(RecordingError) -> Outcome {
        do {
            switch try MP4FileSink.finishInterrupted(path: path) {
            case .alreadyFinished:
                return .alreadyFinished
            case let .finished(report):
                return .finished(duration: .seconds(report.duration), bytes: report.bytes,
                                 took: .seconds(report.finalizingSeconds))
            }
        } catch {
            let underlying = error as? AVError ?? AVError(code: AVError.ioErrorCode, operation: "finish")
            throw .outputFile(OutputFileFailure(path: path, operation: .finish, underlying: underlying))
        }
    }
}
