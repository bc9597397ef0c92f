import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
@testable import RecorderDaemon
import RecorderEngine
import Testing

/// recorderd's application in this process, over a fresh recordings
/// directory (removed with it), for HummingbirdTesting's `.router` client.
final class InProcessDaemon: @unchecked Sendable {
    let recordings: String
    let configuration: DaemonConfiguration
    let application: RecorderdApplication
    /// The registry `/metrics` shows (this daemon's own; the engine's series
    /// go to the process's metrics backend, not here).
    let registry = PrometheusCollectorRegistry()
    var recorder: Recorder { application.recorder }

    /// A daemon configured by `change` (over the defaults and the fresh
    /// recordings directory).
    init(_ change: (inout DaemonConfiguration, _ recordings: String) throws -> Void = { _, _ in }) async throws {
        recordings = NSTemporaryDirectory() + "recorderd-inprocess-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        var configuration = DaemonConfiguration()
        configuration.recordingsDir = recordings
        configuration.shutdownTimeoutSeconds = 10
        try change(&configuration, recordings)
        try configuration.validate()
        self.configuration = configuration
        var logger = Logger(label: "recorderd-test")
        logger.logLevel = .warning
        // buildApplication adds the workspaces' PCMs to ALSA_CONFIG_PATH for
        // the daemon's process; this process keeps its own (a daemon spawned
        // later by another test inherits it, and this one's file is removed
        // with its workspaces).
        let alsaConfigPath = ProcessInfo.processInfo.environment["ALSA_CONFIG_PATH"]
        defer {
            if let alsaConfigPath { setenv("ALSA_CONFIG_PATH", alsaConfigPath, 1) } else { unsetenv("ALSA_CONFIG_PATH") }
        }
        let built = try await buildApplication(configuration: configuration, logger: logger, registry: registry)
        guard let application = built as Any as? RecorderdApplication else { throw CocoaError(.featureUnsupported) }
        self.application = application
    }

    deinit {
        try? FileManager.default.removeItem(atPath: recordings)
        try? FileManager.default.removeItem(atPath: recordings + "-outside")
    }

    /// Runs `body` with a client of the router (the recorder and workspaces
    /// running as services beside it).
    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await application.test(.router, body)
    }

    /// A directory outside the recordings, linked from `escape` inside them
    /// (a request naming `escape/...` must write nothing there); removed
    /// with the recordings.
    func escapeLink() throws -> String {
        let outside = try scratch("outside")
        try FileManager.default.createSymbolicLink(atPath: "\(recordings)/escape", withDestinationPath: outside)
        return outside
    }

    /// Refused requests wrote nothing: the recordings directory holds the
    /// daemon's state and the `escape` link only, and nothing is beyond it.
    func expectNothingWritten(beyond outside: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let written = try FileManager.default.contentsOfDirectory(atPath: recordings).sorted()
        #expect(written == [".recorderd", "escape"], "nothing written: \(written)", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty, sourceLocation: sourceLocation)
    }

    /// A directory beside the recordings (removed with them).
    func scratch(_ name: String) throws -> String {
        let path = recordings + "-" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// One answer, its body parsed.
struct Answer: Sendable {
    let status: Int
    let headers: HTTPFields
    let body: String

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    var field: String? { json["field"] as? String }
    var reason: String? { json["reason"] as? String }
}

extension TestClientProtocol {
    func call(_ method: HTTPRequest.Method, _ path: String, body: String? = nil, token: String? = nil) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
        }
    }
}
