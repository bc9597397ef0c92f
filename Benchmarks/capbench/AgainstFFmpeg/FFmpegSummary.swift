import Foundation

/// What an `ffmpeg` run reported on stderr at the end: its last progress line
/// (`frame= ... dup= drop= speed=`), the stream sizes of its final summary,
/// and the ALSA input's overrun warnings.
struct FFmpegSummary {
    /// Frames written.
    var frames = 0
    /// Frames duplicated or dropped to keep the output at a constant rate
    /// (ffmpeg prints the counters only once one is non-zero).
    var duplicated = 0
    var dropped = 0
    /// Media time over wall time, e.g. 1.0 for real time.
    var speed: Double?
    /// Encoded bytes per stream, from "video:123kB audio:45kB ...".
    var videoBytes: Double?
    var audioBytes: Double?
    /// "ALSA buffer xrun." lines: audio lost at capture.
    var audioOverruns = 0

    init(log: String) {
        // Progress lines end in '\r'; the last one holds the totals.
        if let last = log.components(separatedBy: "frame=").last, log.contains("frame=") {
            let line = "frame=" + (last.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).first ?? "")
            let fields = Self.fields(line)
            frames = fields["frame"].flatMap { Int($0) } ?? 0
            duplicated = fields["dup"].flatMap { Int($0) } ?? 0
            dropped = fields["drop"].flatMap { Int($0) } ?? 0
            speed = fields["speed"].flatMap { Double($0.replacingOccurrences(of: "x", with: "")) }
        }
        for line in log.split(whereSeparator: { $0 == "\r" || $0 == "\n" }) where line.hasPrefix("video:") {
            let fields = Self.fields(String(line).replacingOccurrences(of: ":", with: "="))
            videoBytes = fields["video"].flatMap(Self.kilobytes)
            audioBytes = fields["audio"].flatMap(Self.kilobytes)
        }
        audioOverruns = log.components(separatedBy: "ALSA buffer xrun").count - 1
    }

    /// `key= value` pairs of a progress line (ffmpeg pads values with spaces).
    private static func fields(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        let tokens = line.replacingOccurrences(of: "= ", with: "=").split(separator: " ")
        var pending: String?
        for token in tokens {
            if let pendingKey = pending {
                result[pendingKey] = String(token)
                pending = nil
                continue
            }
            guard let equals = token.firstIndex(of: "=") else { continue }
            let key = String(token[..<equals]), value = String(token[token.index(after: equals)...])
            if value.isEmpty { pending = key } else { result[key] = value }
        }
        return result
    }

    private static func kilobytes(_ text: String) -> Double? {
        // ffmpeg 5.1 prints these sizes in units of 1024 bytes, labelled "kB".
        Double(text.replacingOccurrences(of: "kB", with: "")).map { $0 * 1024 }
    }
}
