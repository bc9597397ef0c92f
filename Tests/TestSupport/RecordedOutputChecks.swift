import Foundation

/// Checks of what a recorder wrote, shared by record-display's and
/// recorderd's output tests: each returns what is wrong (empty: nothing).
public enum RecordedOutputChecks {
    /// Decodes the whole of `path` (a file or an HLS playlist) with
    /// `ffmpeg -xerror`; returns its errors ("" when it decodes cleanly).
    public static func strictDecodeErrors(_ path: String) throws -> String {
        let result = try Subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "null", "-"])
        return result.status == 0 ? result.standardError : "exit \(result.status): \(result.standardError)"
    }

    /// A sound-alone recording: one AAC stream, `seconds` long within 25 ms,
    /// finished in place (moov before mdat), holding a `tone` Hz sine
    /// within 1 Hz.
    public static func soundAloneProblems(_ path: String, tone: Double, seconds: Double) throws -> [String] {
        var problems: [String] = []
        let probe = try MediaProbe(path: path)
        if probe.streams.count != 1 || probe.audio?.codec != "aac" { problems.append("streams \(probe.streams.map(\.codec))") }
        if abs((probe.duration ?? 0) - seconds) > 0.025 { problems.append("duration \(probe.duration ?? 0), expected \(seconds)") }
        let boxes = try MediaProbe.topLevelBoxes(path)
        if boxes.firstIndex(of: "moov") ?? 99 > boxes.firstIndex(of: "mdat") ?? 0 { problems.append("not finished in place: \(boxes)") }
        let samples = try MediaProbe.decodeAudio(path, start: 0.5, seconds: seconds - 1)
        let frequency = ToneAnalysis.medianFrequency(of: samples, sampleRate: 44_100) ?? 0
        if abs(frequency - tone) >= 1 {
            let blocks = ToneAnalysis.blockFrequencies(of: samples, sampleRate: 44_100).map { String(format: "%.2f", $0) }
            problems.append("tone at \(frequency) Hz, expected \(tone) (half seconds from 0.5 s: \(blocks.joined(separator: " ")))")
        }
        if ToneAnalysis.rms(samples) <= 0.1 { problems.append("level \(ToneAnalysis.rms(samples))") }
        return problems
    }
}
