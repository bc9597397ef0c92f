import Foundation
import Hummingbird
import RecorderEngine

/// An answer other than success: the HTTP status, one line saying why (the
/// field it concerns, for a bad request), and for a refusal the
/// machine-readable reason and, for want of room, when to try again. Its
/// body is `{"error": ..., "field": ..., "reason": ...}` (docs/API.md).
struct APIError: HTTPResponseError, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var field: String?
    var reason: String?
    var retryAfter: Int?
    /// A 405's `Allow`: the methods the path serves.
    var allow: [String]?

    init(status: HTTPResponse.Status, message: String, field: String? = nil, reason: String? = nil, retryAfter: Int? = nil,
         allow: [String]? = nil) {
        self.status = status
        self.message = message
        self.field = field
        self.reason = reason
        self.retryAfter = retryAfter
        self.allow = allow
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        if let allow { headers[.allow] = allow.joined(separator: ", ") }
        return JSONAnswer.response(status, ErrorView(error: message, field: field, reason: reason), headers: headers)
    }

    /// The answer to any error a handler throws: the domain's refusals
    /// (`RecorderError`, `WorkspaceManager.Failure`) and bad fields
    /// (`FieldError`) by their kind, anything else a 500 saying what it was.
    init(answering error: any Error, retryAfter seconds: Int) {
        switch error {
        case let error as APIError:
            self = error
        case let error as FieldError:
            self.init(status: .badRequest, message: error.description, field: error.field, reason: "invalid")
        case let error as RecorderError:
            switch error {
            case let .invalid(field):
                self.init(status: .badRequest, message: field.description, field: field.field, reason: "invalid")
            case let .configuration(refusal, streams):
                let field = FieldError(refusal)
                self.init(status: .badRequest, message: field.description, field: field.field, reason: "invalid")
            case let .busy(message, field):
                self.init(status: .conflict, message: message, field: field, reason: "busy")
            case let .exists(path, field):
                self.init(status: .conflict, message: "file '\(path)' exists already", field: field, reason: "exists")
            case let .cpu(message):
                self.init(status: .serviceUnavailable, message: message, reason: "cpu", retryAfter: seconds)
            case let .disk(message):
                self.init(status: .serviceUnavailable, message: message, reason: "disk", retryAfter: seconds)
            case .draining:
                self.init(status: .serviceUnavailable, message: "shutting down: no new recordings", reason: "draining",
                          retryAfter: seconds)
            case let .workspaces(count):
                self.init(status: .serviceUnavailable, message: "at most \(count) workspaces", reason: "workspaces",
                          retryAfter: seconds)
            case let .notFound(what):
                self.init(status: .notFound, message: "no such \(what)")
            case let .workspaceInUse(id):
                self.init(status: .conflict, message: "workspace \(id) is being recorded; stop the recording first",
                          reason: "busy")
            case let .failed(message):
                self.init(status: .internalServerError, message: message)
            }
        case let error as WorkspaceManager.Failure:
            switch error {
            case .disabled:
                self.init(status: .notFound, message: "workspaces are not enabled on this daemon")
            case let .limit(count):
                self.init(status: .serviceUnavailable, message: "at most \(count) workspaces", reason: "workspaces",
                          retryAfter: seconds)
            case let .failed(message):
                self.init(status: .internalServerError, message: message)
            }
        case let error as HTTPError:
            self.init(status: error.status, message: error.body ?? error.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, message: "\(error)")
        }
    }

    /// What `recorderd_recordings_refused_total` counts a refused start
    /// under: `invalid` (400, 413, an existing file), `busy`, `cpu`, `disk`,
    /// `draining`, `workspaces`; nil for a failure that is not a refusal.
    var refusalReason: String? {
        switch status {
        case .badRequest, .contentTooLarge: "invalid"
        case .conflict: reason == "busy" ? "busy" : "invalid"
        case .serviceUnavailable: reason
        default: nil
        }
    }
}

/// A JSON answer as recorderd writes it: sorted keys, slashes as they are.
enum JSONAnswer {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func encode(_ value: some Encodable) -> Data {
        (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    static func response(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = HTTPFields()) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encode(value))))
    }
}
