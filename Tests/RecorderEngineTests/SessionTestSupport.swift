import Foundation
import Logging
import MediaCore
import RecorderEngine
import Synchronization
import TestSupport

/// Configurations and probes the session tests share.
enum SessionFixture {
    /// A short recording of `display` (a region at the top left), with the
    /// bench's capture PCM unless `audio` is false.
    static func configuration(_ bench: TestBench, display: String? = nil, output: String?, seconds: Double?,
                              width: Int = 320, height: Int = 240, audio: Bool = true,
                              logger: Logger? = nil) throws -> RecordingConfiguration {
        var configuration = RecordingConfiguration(
            capture: DisplayCaptureConfiguration(display: display ?? bench.display,
                                                 region: CaptureRegion(width: width, height: height),
                                                 framesPerSecond: 30),
            audio: audio ? PCMCaptureConfiguration(device: bench.capturePCM) : nil,
            audioEncoding: try AudioEncoderSettings(sampleRate: 44_100, channels: 2, bitrate: 128_000),
            video: VideoEncodingOptions(),
            output: output.map { FileOutput(path: $0) })
        configuration.duration = seconds.map { .milliseconds(Int64($0 * 1000)) }
        if let logger { configuration.logger = logger } else { configuration.logger = quietLogger }
        return configuration
    }

    /// The configuration error `RecordingSession` refuses the fixture's
    /// configuration (recording to `directory`) with once `change` is made
    /// to it; nil when it accepts it (or fails otherwise).
    static func refusal(_ bench: TestBench, directory: String,
                        _ change: (inout RecordingConfiguration) -> Void) throws -> InvalidSetting? {
        var configuration = try configuration(bench, output: "\(directory)/x.mp4", seconds: 1)
        change(&configuration)
        do {
            _ = try RecordingSession(configuration: configuration)
            return nil
        } catch {
            guard case let .configuration(invalid) = error else { return nil }
            return invalid
        }
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "tests")
        logger.logLevel = .critical
        return logger
    }()

    /// Clients connected to the X server of process `pid`: its socket
    /// descriptors (listening sockets included, so compare counts).
    static func xServerSockets(pid: Int32) -> Int {
        let directory = "/proc/\(pid)/fd"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return entries.filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(entry)"))?.hasPrefix("socket:") ?? false
        }.count
    }

    /// The sound server's clients (`pactl list short clients`), pactl's own
    /// connection left out.
    static func soundServerClients() throws -> [String] {
        let result = try Subprocess.run(["pactl", "list", "short", "clients"])
        guard result.status == 0 else { throw FixtureError("pactl failed: \(result.standardError)") }
        return result.standardOutput.split(separator: "\n").map(String.init).filter { !$0.hasSuffix("\tpactl") }
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    static func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A log handler that keeps every line, for checks.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    /// What every copy of the handler has received.
    final class Store: Sendable {
        let lines = Mutex<[Line]>([])
        var all: [Line] { lines.withLock { $0 } }
    }

    let store: Store
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    init(store: Store) { self.store = store }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        let line = Line(level: event.level, message: "\(event.message)",
                        metadata: merged.mapValues { "\($0)" })
        store.lines.withLock { $0.append(line) }
    }

    static func logger(_ store: Store, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "capture") { _ in CapturingLogHandler(store: store) }
        logger.logLevel = level
        return logger
    }
}
