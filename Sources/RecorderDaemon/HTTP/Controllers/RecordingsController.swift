import Foundation
import Hummingbird
import RecorderEngine

/// `/v1/recordings`: start, list, one, stop, and a recording's events.
struct RecordingsController {
    let recorder: Recorder
    let snapshots: SnapshotCache

    /// The start route, whose refusals `ErrorMiddleware` counts.
    static let startPath = "/v1/recordings"

    var endpoints: RouteCollection<RecorderdRequestContext> {
        RouteCollection(context: RecorderdRequestContext.self)
            .post(use: start)
            .get(use: list)
            .get(":id", use: get)
            .post(":id/stop", use: stop)
            .get(":id/events", use: events)
    }

    /// 201 with the recording once it records (or failed to start).
    @Sendable func start(_ request: Request, context: RecorderdRequestContext) async throws -> EditedResponse<RecordingView> {
        let body = try await request.decode(as: RecordingRequest.self, context: context)
        let recording = try await recorder.start(body)
        return EditedResponse(status: .created, headers: [.location: "/v1/recordings/\(recording.id)"],
                              response: RecordingView(recording))
    }

    /// A page of the list (`limit`, `cursor`, `state`), from the snapshot.
    @Sendable func list(_ request: Request, context: RecorderdRequestContext) async throws -> Response {
        let query = try ListQuery(request)
        let page = snapshots.listPage(limit: query.limit, after: query.cursor, state: query.state)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: page)))
    }

    @Sendable func get(_ request: Request, context: RecorderdRequestContext) async throws -> RecordingView {
        RecordingView(try find(context))
    }

    /// 200 once the file is final (the finalize script may still run:
    /// `finalizing`); 202 when asked not to wait (`wait=false`) or still
    /// finishing after `stopTimeoutSeconds`.
    @Sendable func stop(_ request: Request, context: RecorderdRequestContext) async throws -> EditedResponse<RecordingView> {
        let wait = try Self.wait(request)
        let recording = try find(context)
        recording.requestStop(.stopRequested)
        guard wait else { return EditedResponse(status: .accepted, response: RecordingView(recording)) }
        _ = await recording.waitUntilFileFinal(deadline: .now + .seconds(recorder.configuration.stopTimeoutSeconds))
        return EditedResponse(status: recording.isActive ? .accepted : .ok, response: RecordingView(recording))
    }

    /// Server-Sent Events: `event: TYPE` and `data: {…}` per event, from the
    /// `started` event (replayed) to `stopped`.
    @Sendable func events(_ request: Request, context: RecorderdRequestContext) async throws -> Response {
        let recording = try find(context)
        let stream = recording.session.events
        let id = recording.id
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                        body: ResponseBody { writer in
                            for await event in stream {
                                var cause: String?
                                if case .stopped = event { cause = recording.stopCause?.rawValue }
                                let view = EventView(event, recording: id, stopReason: cause)
                                var text = "event: \(view.type)\ndata: "
                                text += String(decoding: JSONAnswer.encode(view), as: UTF8.self)
                                text += "\n\n"
                                try await writer.write(ByteBuffer(string: text))
                            }
                            try await writer.finish(nil)
                        })
    }

    /// `?wait=`: `true`/`1` (the default) or `false`/`0`; anything else is
    /// a 400 naming `wait`.
    static func wait(_ request: Request) throws -> Bool {
        guard let text = request.uri.queryParameters["wait"] else { return true }
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw FieldError(field: "wait", reason: "'\(text)' is not a boolean (true, false, 1 or 0)")
        }
    }

    private func find(_ context: RecorderdRequestContext) throws(RecorderError) -> Recording {
        let id = context.parameters.get("id") ?? ""
        guard let recording = recorder.recording(id) else { throw .notFound("recording \(id)") }
        return recording
    }
}
