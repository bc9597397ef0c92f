import Foundation
import RecorderEngine

/// The figures record-display prints: the live status line, the summary and
/// each stream's line. Counts and byte totals are written in full from
/// their 64-bit values (a `%d` would take 32 bits of them: 4.85 GB printed
/// as 554476772 bytes); only fractions go through a C format.
enum StatisticsText {
    /// The one-line live status on a terminal (starts with `\r`).
    static func status(_ statistics: RecordingStatistics) -> String {
        var line = "\r" + fixed(statistics.mediaDuration.seconds, 1, width: 7) + "s  "
            + fixed(statistics.framesPerSecond, 1, width: 5) + " fps  dropped \(statistics.framesDropped)  "
            + "duplicated \(statistics.framesDuplicated)  " + fixed(statistics.bitrate / 1000, 0, width: 6) + " kb/s  A/V "
            + String(format: "%+5.0f", statistics.audioVideoOffset.seconds * 1000) + " ms "
        if !statistics.streams.isEmpty {
            let up = statistics.streams.filter(\.connected).count
            let dropped = statistics.streams.reduce(0) { $0 + $1.videoPacketsDropped }
            let queued = statistics.streams.map(\.queued.seconds).max() ?? 0
            line += " streams \(up)/\(statistics.streams.count) up, \(dropped) dropped, queue \(fixed(queued, 1)) s "
        }
        if statistics.paused { line += " PAUSED " }
        return line
    }

    /// What was recorded: length, frames, bytes.
    static func summary(_ statistics: RecordingStatistics) -> String {
        let seconds = fixed(statistics.mediaDuration.seconds, 2)
        if statistics.renditions.isEmpty {
            return "\(seconds) s of sound, \(statistics.bytesWritten) bytes encoded" + paused(statistics)
        }
        return "\(seconds) s, \(statistics.framesEncoded) frames (\(statistics.framesDropped) dropped, "
            + "\(statistics.framesDuplicated) duplicated), \(statistics.bytesWritten) bytes encoded" + paused(statistics)
    }

    /// `, 4.00 s paused (2 pauses)`, or nothing for a recording never paused.
    static func paused(_ statistics: RecordingStatistics) -> String {
        guard statistics.pauses > 0 else { return "" }
        return ", \(fixed(statistics.pausedDuration.seconds, 2)) s paused (\(statistics.pauses) pause\(statistics.pauses == 1 ? "" : "s"))"
    }

    /// One stream's totals.
    static func stream(_ stream: NetworkSinkStatistics) -> String {
        "stream \(stream.url): sent \(stream.packetsSent) packets (\(stream.bytesSent) bytes) over "
            + "\(stream.connections) connection(s), \(stream.disconnects) disconnect(s); dropped "
            + "\(stream.videoPacketsDropped) video packets (\(stream.videoPacketsDroppedDisposable) disposable, "
            + "\(stream.videoPacketsDroppedToKeyframe) to a keyframe), \(stream.packetsDroppedQueueFull) with the queue "
            + "full, \(stream.packetsDiscardedOffline) discarded while offline; longest queue "
            + "\(fixed(stream.maximumQueued.seconds, 2)) s; \(fixed(stream.threadCPUTime.seconds, 2)) CPU s"
    }

    /// `value` with `digits` decimals, right-aligned in `width` characters.
    static func fixed(_ value: Double, _ digits: Int, width: Int = 0) -> String {
        String(format: "%\(width).\(digits)f", value)
    }
}
