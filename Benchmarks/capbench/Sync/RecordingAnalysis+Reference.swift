import AVProbe
import Foundation
import HostProcesses

extension RecordingAnalysis {
    /// Reads `path` with ffprobe and ffmpeg started as the benchmark's children.
    init(path: String) throws {
        try self.init(path: path, run: BenchTools.output)
    }

    /// Writes a file whose ramps and beeps start together by construction,
    /// encoded as Jibri does (libx264 ultrafast crf 25, AAC 128k 44.1 kHz in
    /// MP4): what the analysis reports for it is its own bias, priming, edit
    /// lists and the encoder's levels included. Event `k` starts at
    /// k + 0.5 + 5.7 ms * k seconds, so that the ramps start at different
    /// points of the 30 fps frame grid (0 to 28.5 ms into a frame), as the
    /// probe's irregular events do; each ramp rises over
    /// `ProbeRamp.seconds` and stays white to `ProbeRamp.litSeconds`.
    static func writeAlignedReference(to path: String, seconds: Int) throws {
        let since = "(T-floor(T)-0.5-0.0057*floor(T))"
        let video = "color=c=black:s=320x180:r=30:d=\(seconds),format=yuv420p,"
            + "geq=lum='16+219*clip(\(since)/\(ProbeRamp.seconds),0,1)*lt(\(since),\(ProbeRamp.litSeconds))':cb=128:cr=128"
        let sinceAudio = "(t-floor(t)-0.5-0.0057*floor(t))"
        let audio = "aevalsrc='0.5*cos(2*PI*1000*\(sinceAudio))*between(\(sinceAudio),0,0.08)':s=48000:d=\(seconds)"
        let child = try ChildProcess(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi",
                                    "-i", audio, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "25",
                                    "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-ac", "2", "-f", "mp4", path],
                                   standardError: .file(path + ".log"))
        guard child.wait().status == 0 else { throw BenchFailure("ffmpeg could not write the reference (see \(path).log)") }
    }
}
