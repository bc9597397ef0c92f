import Hummingbird
import RecorderEngine

/// `GET /v1/recordings`'s query: at most `limit` recordings (1 to 1000,
/// 100 by default), after `cursor` (the `nextCursor` of the page before),
/// in `state` (any by default). A bad value is a 400 naming its parameter.
struct ListQuery: Sendable {
    static let limits = 1...1000
    var limit = 100
    var cursor: UInt64?
    var state: Recording.State?

    init(_ request: Request) throws {
        let parameters = request.uri.queryParameters
        if let text = parameters["limit"] {
            guard let value = Int(text), Self.limits.contains(value) else {
                throw FieldError(field: "limit", reason: "'\(text)' is not an integer from 1 to 1000")
            }
            limit = value
        }
        if let text = parameters["cursor"] {
            guard let value = UInt64(text) else {
                throw FieldError(field: "cursor", reason: "'\(text)' is not a cursor this daemon gave (nextCursor)")
            }
            cursor = value
        }
        if let text = parameters["state"] {
            guard let value = Recording.State(rawValue: String(text)) else {
                throw FieldError(field: "state", reason: "'\(text)' is not a recording state")
            }
            state = value
        }
    }
}
