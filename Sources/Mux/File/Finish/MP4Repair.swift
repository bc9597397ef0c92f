#if canImport(Glibc)
import Glibc
#endif
import MediaCore
import MediaPackets

/// Makes whole a recording that a crash, `kill -9`, a power loss, a full
/// disk or a kill during finishing left behind: the result is a regular MP4
/// holding every complete fragment, finished in place exactly as
/// `MP4FileSink.finish()` would have (same steps, same states: a repair
/// stopped half-way is repaired by running it again). A torn last fragment
/// is cut off.
///
/// Only our recordings are touched: a file that is not an MP4, or an MP4
/// without our marker (`MP4RecordingMarker`), is refused with
/// `MP4RepairRefusal` before anything is opened for writing.
public enum MP4Repair {
    /// Repairs the recording at `path`. Returns what it did; a finished file
    /// is reported as such (`wasFinished`) and left untouched.
    ///
    /// Throws `MP4RepairRefusal` (not an MP4, not ours, nothing to keep) with
    /// the file untouched, or an `AVError` when a read or write failed (the
    /// file is then still playable or repairable). With a confinement in
    /// `files`, the file is opened beneath it (no link on the way).
    public static func repair(path: String, files: OutputFiles = OutputFiles()) throws -> MP4RepairReport {
        let clock = MonotonicClock()
        let started = clock.now()
        let layout: MP4RecordingLayout
        do {
            let reader = try files.open(path, flags: O_RDONLY)
            layout = try MP4RecordingLayout(reading: reader)
        } catch let error as MP4FormatError {
            throw MP4RepairRefusal(path: path, kind: .notMP4, reason: "is not an MP4 file (\(error))")
        } catch let error as AVError {
            throw MP4RepairRefusal(path: path, kind: .unreadable, reason: "cannot be read (\(error))")
        }
        guard layout.marker != nil else {
            throw MP4RepairRefusal(path: path, kind: .notOurs, reason: "is an MP4 file, but not a recording of ours (no recording marker)")
        }
        if layout.isFinished {
            return MP4RepairReport(path: path, wasFinished: true, fragments: layout.fragments.count, droppedBytes: 0,
                                   duration: nil, moovAtFront: layout.completeMoovs.first.map { $0.offset < layout.completeEnd },
                                   bytes: layout.fileSize, seconds: 0)
        }
        guard !layout.fragments.isEmpty else {
            throw MP4RepairRefusal(path: path, kind: .nothingToKeep, reason: "holds no complete fragment: nothing to keep")
        }
        let file = try files.open(path, flags: O_RDWR)
        var finisher = MP4InPlaceFinisher(file: file)
        let result: MP4InPlaceFinisher.Result
        do {
            result = try finisher.finish(layout)
        } catch let error as MP4FormatError {
            throw MP4RepairRefusal(path: path, kind: .damaged, reason: "cannot be read as one of our recordings (\(error))")
        }
        return MP4RepairReport(path: path, wasFinished: false, fragments: result.fragments,
                               droppedBytes: result.droppedBytes, duration: result.duration,
                               moovAtFront: result.moovAtFront, bytes: try file.size(),
                               seconds: Double(clock.now() - started) / 1e9)
    }
}
