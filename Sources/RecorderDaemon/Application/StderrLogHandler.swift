import Foundation
public import Logging

/// recorderd's log lines on stderr: one JSON object a line for a log
/// collector (`{"time":…,"level":…,"label":…,"message":…, metadata…}`), or
/// one readable line on a terminal. Writes each line with one `write(2)`,
/// so lines from several threads never interleave.
public struct StderrLogHandler: LogHandler {
    public enum Format: Sendable { case json, text }

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format

    public init(logLevel: Logger.Level, label: String, format: Format) {
        self.logLevel = logLevel
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // libav's and alsa-lib's chatter (x264's settings and summary, each
        // recording's) only when debugging; their warnings always.
        if event.level < .warning && logLevel > .debug && event.metadata?["library"] != nil { return }
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line: String
        switch format {
        case .json:
            var object: [String: Any] = [
                "time": Self.timestamp(), "level": event.level.rawValue, "label": label, "message": "\(event.message)",
            ]
            for (key, value) in merged where object[key] == nil { object[key] = Self.plain(value) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data("{}".utf8)
            line = String(decoding: data, as: UTF8.self) + "\n"
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            line = "recorderd: \(event.level) \(event.message)\(fields.isEmpty ? "" : " (\(fields))")\n"
        }
        line.utf8CString.withUnsafeBufferPointer { buffer in
            var offset = 0
            let count = buffer.count - 1
            while offset < count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, count - offset)
                if written <= 0 { if errno == EINTR { continue } else { break } }
                offset += written
            }
        }
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case let .string(text): text
        case let .stringConvertible(item): "\(item)"
        case let .array(items): items.map(plain)
        case let .dictionary(fields): fields.mapValues(plain)
        }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(now.tv_nsec / 1_000_000))
    }
}
