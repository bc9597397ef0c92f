import Foundation
import Hummingbird
import Prometheus
import RecorderEngine

/// The HTTP API (docs/API.md): recordings under /v1, workspaces, health,
/// Prometheus metrics, and Jibri's health shape.
struct APIRoutes {
    let recorder: Recorder
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/recordings") { request, context in await answer { try await startRecording(request, context) } }
        router.get("/v1/recordings") { _, _ in
            json(200, RecordingList(recordings: recorder.list().map { $0.view() }))
        }
        router.get("/v1/recordings/:id") { _, context in
            await answer {
                let recording = try find(context)
                return json(200, recording.view())
            }
        }
        router.post("/v1/recordings/:id/stop") { request, context in
            await answer { try await stopRecording(request, context) }
        }
        router.get("/v1/recordings/:id/events") { _, context in
            await answer { try events(context) }
        }
        router.post("/v1/workspaces") { request, context in await answer { try await createWorkspace(request, context) } }
        router.get("/v1/workspaces") { _, _ in json(200, WorkspaceList(workspaces: await recorder.workspaces.list())) }
        router.delete("/v1/workspaces/:id") { _, context in
            await answer {
                let id = context.parameters.get("id") ?? ""
                if recorder.activeRecordings.contains(where: { $0.workspace == id }) {
                    throw APIError(status: 409, message: "workspace \(id) is being recorded; stop the recording first",
                                   reason: "busy")
                }
                guard await recorder.workspaces.delete(id) else { throw APIError.notFound("workspace \(id)") }
                return Response(status: .noContent)
            }
        }
        router.get("/health") { request, _ in
            await answer {
                let query = request.uri.queryParameters
                func number(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
                    guard let text = query[key[...]] else { return nil }
                    guard let value = Int(text), range.contains(value) else {
                        throw APIError.badRequest(FieldError(
                            field: key, reason: "'\(text)' is not an integer from \(range.lowerBound) to \(range.upperBound)"))
                    }
                    return value
                }
                let preset = query["preset"].map(String.init)
                if let preset, VideoEncoderSettings.Preset(rawValue: preset) == nil {
                    throw APIError.badRequest(FieldError(field: "preset", reason: "'\(preset)' is not an x264 preset"))
                }
                let health = await recorder.health(width: try number("width", 16...16_384), height: try number("height", 16...16_384),
                                                   fps: try number("fps", 1...120), preset: preset)
                return json(health.healthy ? 200 : 503, health)
            }
        }
        router.get("/metrics") { _, _ in
            // Gauges that are read, not pushed, are brought up to date first.
            _ = await recorder.health()
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        if recorder.configuration.jibriHealth {
            router.get("/jibri/api/v1.0/health") { _, _ in
                let health = await recorder.health()
                return json(200, JibriHealth(health))
            }
        }
    }

    // MARK: Handlers

    private func startRecording(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await readJSON(request)
        let parsed: RecordingRequest
        do {
            parsed = try RecordingRequest(body: body)
        } catch let error as FieldError {
            recorder.metrics.refused("invalid")
            throw APIError.badRequest(error)
        }
        let recording = try await recorder.start(parsed)
        var headers = HTTPFields()
        headers[.location] = "/v1/recordings/\(recording.id)"
        return json(201, recording.view(), headers: headers)
    }

    private func stopRecording(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let recording = try find(context)
        let wait = request.uri.queryParameters["wait"].map { $0 != "false" && $0 != "0" } ?? true
        recording.requestStop(.stopRequested)
        guard wait else { return json(202, recording.view()) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await recording.waitUntilFinished() }
            group.addTask { try? await Task.sleep(for: .seconds(recorder.configuration.stopTimeoutSeconds)) }
            await group.next()
            group.cancelAll()
        }
        return json(recording.isActive ? 202 : 200, recording.view())
    }

    /// Server-Sent Events: `event: TYPE` and `data: {…}` per event, from the
    /// `started` event (replayed) to `stopped`.
    private func events(_ context: BasicRequestContext) throws -> Response {
        let recording = try find(context)
        let stream = recording.session.events
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let id = recording.id
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for await event in stream {
                let view = EventView(event, recording: id)
                var text = "event: \(view.type)\ndata: "
                text += String(decoding: JSONOutput.encode(view), as: UTF8.self)
                text += "\n\n"
                try await writer.write(ByteBuffer(string: text))
            }
            try await writer.finish(nil)
        })
    }

    private func createWorkspace(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard !recorder.isDraining else {
            throw APIError(status: 503, message: "shutting down", reason: "draining", retryAfter: recorder.configuration.retryAfterSeconds)
        }
        var reader: FieldReader
        let width: Int, height: Int
        do {
            reader = try FieldReader(try await readJSON(request))
            width = try reader.int("width", in: 16...7680) ?? 1280
            height = try reader.int("height", in: 16...4320) ?? 720
            try reader.finish()
        } catch let error as FieldError {
            throw APIError.badRequest(error)
        }
        do {
            let view = try await recorder.workspaces.create(width: width, height: height)
            var headers = HTTPFields()
            headers[.location] = "/v1/workspaces/\(view.id)"
            return json(201, view, headers: headers)
        } catch {
            throw APIError(status: error.status, message: error.message, field: error.field)
        }
    }

    // MARK: Helpers

    private func find(_ context: BasicRequestContext) throws -> Recording {
        let id = context.parameters.get("id") ?? ""
        guard let recording = recorder.recording(id) else { throw APIError.notFound("recording \(id)") }
        return recording
    }

    /// The body as JSON, at most `maxBodyBytes`.
    private func readJSON(_ request: Request) async throws -> JSONValue {
        var request = request
        let limit = recorder.configuration.maxBodyBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            recorder.metrics.refused("invalid")
            throw APIError(status: 413, message: "body: larger than \(limit) bytes", field: "body", reason: "invalid")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: buffer))
        } catch {
            recorder.metrics.refused("invalid")
            throw APIError.badRequest(FieldError(field: "body", reason: "not valid JSON"))
        }
    }
}

/// Runs a handler; an `APIError` becomes its JSON answer.
func answer(_ body: () async throws -> Response) async -> Response {
    do {
        return try await body()
    } catch let error as APIError {
        var headers = HTTPFields()
        if let retryAfter = error.retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        return json(error.status, ErrorView(error: error.message, field: error.field, reason: error.reason), headers: headers)
    } catch {
        return json(500, ErrorView(error: "\(error)", field: nil, reason: nil))
    }
}

func json(_ status: Int, _ value: some Encodable, headers: HTTPFields = HTTPFields()) -> Response {
    var headers = headers
    headers[.contentType] = "application/json"
    return Response(status: HTTPResponse.Status(code: status), headers: headers,
                    body: .init(byteBuffer: ByteBuffer(data: JSONOutput.encode(value))))
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Data($0) }
    }
}

/// Jibri's health answer (`GET /jibri/api/v1.0/health`), so that Jibri's
/// monitoring can watch recorderd: BUSY when no more recordings fit.
struct JibriHealth: Encodable {
    struct Status: Encodable {
        var busyStatus: String
        var health: Health
    }

    struct Health: Encodable {
        var healthStatus: String
        /// Jibri's per-component map; recorderd's reasons are on /health.
        var details: [String: String]
    }

    var status: Status

    init(_ health: HealthView) {
        status = Status(busyStatus: health.oneMore.fits ? "IDLE" : "BUSY",
                        health: Health(healthStatus: health.healthy ? "HEALTHY" : "UNHEALTHY",
                                       details: [:]))
    }
}
