import Foundation
import Hummingbird
import Mux
import RecorderEngine

/// Changes to a running recording under `/v1/recordings/{id}`: `pause`,
/// `resume`, and its live streams (`streams`, `streams/{index}`). The
/// engine decides (`RecordingSession.pause()`, `addStream(_:)`...); a
/// refusal becomes a 409 naming why (`reason`), a bad value a 400 naming
/// the field.
struct RecordingChangesController {
    let recorder: Recorder

    var endpoints: RouteCollection<RecorderdRequestContext> {
        RouteCollection(context: RecorderdRequestContext.self)
            .post(":id/pause", use: pause)
            .post(":id/resume", use: resume)
            .post(":id/streams", use: addStream)
            .delete(":id/streams/:stream", use: removeStream)
    }

    /// 200 with the recording (`statistics.paused` true).
    @Sendable func pause(_ request: Request, context: RecorderdRequestContext) async throws -> RecordingView {
        let recording = try find(context)
        do {
            _ = try recording.session.pause()
        } catch {
            throw Self.answer(error)
        }
        return RecordingView(recording)
    }

    /// 200 with the recording (`statistics.paused` false).
    @Sendable func resume(_ request: Request, context: RecorderdRequestContext) async throws -> RecordingView {
        let recording = try find(context)
        do {
            _ = try recording.session.resume()
        } catch {
            throw Self.answer(error)
        }
        return RecordingView(recording)
    }

    /// 201 with the stream's index and redacted URL; `Location` names it.
    @Sendable func addStream(_ request: Request, context: RecorderdRequestContext) async throws
        -> EditedResponse<AddedStreamView>
    {
        let recording = try find(context)
        let body = try await request.decode(as: StreamRequest.self, context: context)
        guard !recorder.configuration.streamAllowList.isEmpty else {
            throw FieldError(field: "url", reason: "streaming is not enabled here (the daemon has no stream allow-list)")
        }
        let index: Int
        do {
            index = try recording.session.addStream(StreamOutput(url: body.url))
        } catch {
            throw Self.answer(error)
        }
        let url = (try? StreamURL(body.url, schemes: Set(StreamURL.Scheme.allCases)))?.redacted ?? "***"
        return EditedResponse(status: .created,
                              headers: [.location: "/v1/recordings/\(recording.id)/streams/\(index)"],
                              response: AddedStreamView(index: index, url: url))
    }

    /// 200 with the recording (the stream listed `removed`).
    @Sendable func removeStream(_ request: Request, context: RecorderdRequestContext) async throws -> RecordingView {
        let recording = try find(context)
        let text = context.parameters.get("stream") ?? ""
        guard let index = Int(text), index >= 0 else {
            throw FieldError(field: "stream", reason: "'\(text)' is not a stream index (0, 1, ...)")
        }
        do {
            try recording.session.removeStream(index)
        } catch {
            throw Self.answer(error)
        }
        return RecordingView(recording)
    }

    /// The answer to a refusal: 400 for a value, 404 for a stream that
    /// does not exist, 409 for the recording's state.
    static func answer(_ error: SessionControlError) -> APIError {
        switch error {
        case let .configuration(invalid):
            APIError(status: .badRequest, message: "url: \(invalid.reason)" + (invalid.value.isEmpty ? "" : " ('\(invalid.value)')"),
                     field: "url", reason: "invalid")
        case .notRecording:
            APIError(status: .conflict, message: "the recording is not running (starting, stopping or ended)",
                     reason: "notRecording")
        case .alreadyPaused:
            APIError(status: .conflict, message: "the recording is paused already", reason: "paused")
        case .notPaused:
            APIError(status: .conflict, message: "the recording is not paused", reason: "notPaused")
        case let .tooManyStreams(limit):
            APIError(status: .conflict, message: "the recording streams to \(limit) destinations already (at most \(limit))",
                     field: "url", reason: "streams")
        case let .unknownStream(index):
            APIError(status: .notFound, message: "no such stream \(index)")
        case let .streamRemoved(index):
            APIError(status: .conflict, message: "stream \(index) was removed already", field: "stream", reason: "removed")
        case let .lastOutput(index):
            APIError(status: .conflict,
                     message: "stream \(index) is the recording's only output: stop the recording instead",
                     field: "stream", reason: "lastOutput")
        }
    }

    private func find(_ context: RecorderdRequestContext) throws(RecorderError) -> Recording {
        let id = context.parameters.get("id") ?? ""
        guard let recording = recorder.recording(id) else { throw .notFound("recording \(id)") }
        return recording
    }
}

/// The answer to `POST /v1/recordings/{id}/streams`.
struct AddedStreamView: ResponseEncodable, Sendable {
    /// The stream's index in the recording's `streams` (never reused).
    var index: Int
    /// Redacted: `rtmp://host/app/***`.
    var url: String
}
