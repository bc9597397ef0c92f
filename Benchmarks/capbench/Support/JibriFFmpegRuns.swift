import Foundation
import HostProcesses

/// N `ffmpeg` processes running Jibri's recording argument list, one per
/// private bench (its display and the sink's monitor), and what their logs
/// said once they ended: the Jibri way of the concurrency and meetings
/// benchmarks.
struct JibriFFmpegRuns {
    /// Each process and the file its stderr goes to.
    let children: [(process: ChildProcess, log: String)]

    /// What the runs reported, summed.
    struct Tally {
        var framesExpected = 0, framesWritten = 0, droppedOrDuplicated = 0, audioLost = 0
        /// `droppedOrDuplicated`'s parts: ffmpeg's `dup=` and `drop=`.
        var duplicated = 0, dropped = 0
        /// The longest a run took beyond `seconds`.
        var worstLag = 0.0
        /// User + system seconds of the runs.
        var cpuSeconds = 0.0
        var errors: [String] = []
    }

    /// Starts one run per bench, writing `NAME-N-INDEX.mp4` (and `.log`) in `scratch`.
    /// - Throws: `SpawnFailure` when ffmpeg cannot be started.
    init(_ benches: [PrivateBench], name: String, frame: FrameSize, fps: Int, seconds: Double,
         scratch: ScratchDirectory) throws {
        children = try benches.map { bench in
            let output = scratch.file("\(name)-\(benches.count)-\(bench.index).mp4")
            let arguments = JibriFFmpeg.recording(display: bench.display, width: frame.width, height: frame.height,
                                                  audioDevice: bench.capturePCM, seconds: seconds, output: output, fps: fps)
            return (try ChildProcess(arguments, standardError: .file(output + ".log")), output + ".log")
        }
    }

    /// Waits for every run (stopping one still running a minute past
    /// `seconds`) and reads its log.
    func finish(seconds: Double, fps: Int) -> Tally {
        var tally = Tally()
        for (child, log) in children {
            guard let outcome = child.wait(timeout: seconds + 60) else {
                child.stop()
                tally.errors.append("ffmpeg did not end (see \(log))")
                continue
            }
            let summary = FFmpegSummary(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            tally.framesExpected += Int(seconds * Double(fps))
            tally.framesWritten += summary.frames
            tally.droppedOrDuplicated += summary.duplicated + summary.dropped
            tally.duplicated += summary.duplicated
            tally.dropped += summary.dropped
            tally.audioLost += summary.audioOverruns
            tally.worstLag = max(tally.worstLag, outcome.wallSeconds - seconds)
            tally.cpuSeconds += outcome.cpuSeconds
            if outcome.status != 0 { tally.errors.append("ffmpeg exited with \(outcome.status) (see \(log))") }
        }
        return tally
    }
}
