import Foundation
import HostProcesses

/// Jibri's recording command (x11grab, libx264 ultrafast crf 25, main
/// profile, GOP 60) with no sound, as the scenes and cursor benchmarks run
/// it against record-display on the same display.
enum SilentJibriRecording {
    /// Records `seconds` of `display` at `frame` and `fps` into a scratch
    /// file it removes; returns ffmpeg's termination (CPU, RSS) and the
    /// frames it says it encoded (0 when it did not say).
    /// - Throws: `BenchFailure` with the end of ffmpeg's log when it fails.
    static func record(display: String, frame: FrameSize, fps: Int, seconds: Int, drawMouse: Bool = false,
                       scratch: ScratchDirectory) throws -> (Termination, frames: Int) {
        let output = scratch.file("ffmpeg.mp4"), log = scratch.file("ffmpeg.log")
        defer { try? FileManager.default.removeItem(atPath: output); try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess(["ffmpeg", "-nostdin", "-y", "-v", "info", "-f", "x11grab", "-draw_mouse", drawMouse ? "1" : "0",
                                    "-r", "\(fps)", "-s", "\(frame)", "-thread_queue_size", "4096", "-i", "\(display)+0,0",
                                    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-r", "\(fps)", "-crf", "25", "-preset", "ultrafast",
                                    "-profile:v", "main", "-g", "60", "-t", "\(seconds)", "-f", "mp4", output],
                                   standardError: .file(log))
        guard let outcome = child.wait(timeout: Double(seconds) + 60), outcome.status == 0 else {
            _ = child.stop()
            throw BenchFailure("ffmpeg failed: \(logTail(log))")
        }
        return (outcome, FFmpegSummary(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "").frames)
    }

    /// The last 400 characters of a log, for a failure's line.
    static func logTail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)").suffix(400))
    }
}
