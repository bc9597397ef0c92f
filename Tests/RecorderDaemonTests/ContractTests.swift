import Foundation
import Hummingbird
import HummingbirdTesting
@testable import RecorderDaemon
import Testing
import TestSupport
import Yams

/// docs/openapi.yaml held against the daemon: the routes it serves, and its
/// real answers (validated by openapi_answers.py with
/// openapi-schema-validator, the validator of the contract's own dialect,
/// OpenAPI 3.0 with `nullable`, that scripts/setup already installs).
@Suite(.tags(.bench)) struct ContractTests {
    static let spec = "\(Repository.root)/docs/openapi.yaml"

    /// `METHOD /path/{param}` for every operation in the contract.
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(root["paths"] as? [String: Any])
        var operations: Set<String> = []
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys
            where ["get", "put", "post", "delete", "patch", "head", "options"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test func everyRouteIsInTheContractAndEveryOperationIsServed() async throws {
        let daemon = try await InProcessDaemon { configuration, _ in configuration.jibriHealth = true }
        let router = buildRouter(recorder: daemon.recorder, snapshots: daemon.application.snapshots, token: nil)
        let served = Set(router.routes.map { route in
            // Hummingbird's `:id` is OpenAPI's `{id}`.
            let path = route.path.description.split(separator: "/", omittingEmptySubsequences: false).map { component in
                component.hasPrefix(":") ? "{\(component.dropFirst())}" : String(component)
            }.joined(separator: "/")
            return "\(route.method) \(path)"
        })
        let documented = try Self.documentedOperations()
        #expect(served.subtracting(documented).isEmpty, "served, not in docs/openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "in docs/openapi.yaml, not served: \(documented.subtracting(served).sorted())")
        #expect(served.count >= 11, "\(served.sorted())")
    }

    /// Answers of every documented kind: 201, 200 lists and one, 400, 401,
    /// 404, 409, 413, 503, health, Jibri's health, an event stream's data
    /// lines, a stop's 200: each body valid for its path, method and status.
    @Test func realAnswersOnTheBenchMatchTheContract() async throws {
        let bench = try TestBench.current()
        let log = AnswerLog()
        let note = log.note
        let token = "contract-token-\(UUID().uuidString)"
        let daemon = try await InProcessDaemon { configuration, recordings in
            try token.write(toFile: recordings + "-token", atomically: true, encoding: .utf8)
            configuration.tokenFile = recordings + "-token"
            configuration.jibriHealth = true
            configuration.statisticsIntervalSeconds = 0.5
        }
        defer { unlink(daemon.recordings + "-token") }
        let eventLines = try await daemon.test { client in
            let started = try await client.call(.post, "/v1/recordings", body: """
                {"display": "\(bench.display)", "region": "320x240+0+0", "duration": 3, "file": "contract/a.mp4",
                 "metadata": {"meeting": "contract"}}
                """, token: token)
            try #require(started.status == 201, "\(started.body)")
            #expect(started.headers[.location] == "/v1/recordings/\(started.json["id"] as? String ?? "")")
            note("post", "/v1/recordings", started)
            let id = try #require(started.json["id"] as? String)
            async let events = client.call(.get, "/v1/recordings/\(id)/events", token: token)

            note("get", "/v1/recordings", try await client.call(.get, "/v1/recordings", token: token))
            note("get", "/v1/recordings/{id}", try await client.call(.get, "/v1/recordings/\(id)", token: token))
            let busy = try await client.call(.post, "/v1/recordings", body: #"{"display": "\#(bench.display)"}"#, token: token)
            #expect(busy.status == 409, "\(busy.body)")
            note("post", "/v1/recordings", busy)
            let exists = try await client.call(.post, "/v1/recordings", body: #"{"display": ":96", "file": "contract/a.mp4"}"#,
                                               token: token)
            #expect(exists.status == 409, "\(exists.body)")
            note("post", "/v1/recordings", exists)
            note("post", "/v1/recordings", try await client.call(.post, "/v1/recordings", body: #"{"fps": 0}"#, token: token))
            note("post", "/v1/recordings", try await client.call(.post, "/v1/recordings", body: #"{"display": ":96"}"#))
            let large = "{\"metadata\": {\"x\": \"" + String(repeating: "a", count: 70_000) + "\"}}"
            note("post", "/v1/recordings", try await client.call(.post, "/v1/recordings", body: large, token: token))
            note("get", "/v1/recordings/{id}", try await client.call(.get, "/v1/recordings/rec-none", token: token))
            note("get", "/v1/workspaces", try await client.call(.get, "/v1/workspaces", token: token))
            note("delete", "/v1/workspaces/{id}", try await client.call(.delete, "/v1/workspaces/ws-none", token: token))
            note("post", "/v1/workspaces", try await client.call(.post, "/v1/workspaces", body: #"{"width": 1}"#, token: token))
            note("get", "/health", try await client.call(.get, "/health"))
            note("get", "/health", try await client.call(.get, "/health?width=640&height=480&fps=30&preset=veryfast"))
            note("get", "/jibri/api/v1.0/health", try await client.call(.get, "/jibri/api/v1.0/health"))

            let stream = try await events
            #expect(stream.status == 200 && stream.headers[.contentType] == "text/event-stream")
            let stopped = try await client.call(.post, "/v1/recordings/\(id)/stop", token: token)
            #expect(stopped.status == 200 && stopped.json["state"] as? String == "finished", "\(stopped.body)")
            note("post", "/v1/recordings/{id}/stop", stopped)
            // Sound alone in segments: the answer's `outputs` once finished.
            let sound = try await client.call(.post, "/v1/recordings", body: """
                {"noVideo": true, "audioDevice": "\(bench.capturePCM)", "file": "contract/sound.m4a",
                 "segments": {"time": 1}, "duration": 2.5}
                """, token: token)
            #expect(sound.status == 201, "\(sound.body)")
            note("post", "/v1/recordings", sound)
            let deadline = ContinuousClock.now + .seconds(30)
            var finished = sound
            while ContinuousClock.now < deadline, finished.json["state"] as? String != "finished" {
                try await Task.sleep(for: .milliseconds(100))
                finished = try await client.call(.get, "/v1/recordings/\(sound.json["id"] as? String ?? "")", token: token)
            }
            let segments = (finished.json["outputs"] as? [String: Any])?["segments"] as? [Any] ?? []
            #expect(segments.count >= 2, "\(finished.body)")
            note("get", "/v1/recordings/{id}", finished)
            return stream.body.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }
        }
        #expect(eventLines.count >= 3, "started, statistics, stopped: \(eventLines)")
        for line in eventLines {
            log.add(["schema": "Event", "body": try JSONSerialization.jsonObject(with: Data(line.utf8))])
        }

        // 503s: no room (cpu), and a daemon shutting down.
        let full = try await InProcessDaemon { configuration, _ in
            configuration.cores = 1
            configuration.cpuShare = 0.01
        }
        try await full.test { client in
            let refused = try await client.call(.post, "/v1/recordings", body: #"{"display": ":96"}"#)
            #expect(refused.status == 503 && refused.headers[.retryAfter] != nil)
            note("post", "/v1/recordings", refused)
            full.recorder.beginDrain()
            note("post", "/v1/recordings", try await client.call(.post, "/v1/recordings", body: #"{"display": ":96"}"#))
            note("get", "/health", try await client.call(.get, "/health"))
        }

        let answers = log.entries
        let statuses = Set(answers.compactMap { $0["status"] as? Int })
        #expect(statuses.isSuperset(of: [200, 201, 400, 401, 404, 409, 413, 503]), "\(statuses.sorted())")
        let file = "\(daemon.recordings)-answers.jsonl"
        defer { unlink(file) }
        let lines = try answers.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let script = "\(Repository.root)/Tests/RecorderDaemonTests/openapi_answers.py"
        let result = try Subprocess.run(["python3", script, Self.spec, file])
        #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    }
}

/// The answers a test collected, for openapi_answers.py.
final class AnswerLog: @unchecked Sendable {
    private let lock = NSLock()
    private var collected: [[String: Any]] = []

    var entries: [[String: Any]] { lock.withLock { collected } }

    func add(_ entry: [String: Any]) { lock.withLock { collected.append(entry) } }

    /// An answer to `method` on `path` (the contract's template).
    @Sendable func note(_ method: String, _ path: String, _ answer: Answer) {
        let body: Any = answer.body.isEmpty ? NSNull()
            : (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8), options: [.fragmentsAllowed])) ?? answer.body
        add(["method": method, "path": path, "status": answer.status, "body": body])
    }
}
