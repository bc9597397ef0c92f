/// An answer other than success: the HTTP status, one line saying why (the
/// field it concerns, for a bad request), and for a refusal for want of
/// room, the machine-readable reason and when to try again.
struct APIError: Error, Sendable {
    var status: Int
    var message: String
    var field: String?
    var reason: String?
    var retryAfter: Int?

    static func badRequest(_ error: FieldError) -> APIError {
        APIError(status: 400, message: error.description, field: error.field, reason: "invalid")
    }

    static func notFound(_ what: String) -> APIError { APIError(status: 404, message: "no such \(what)") }
}
