import Foundation

/// The body of `POST /v1/recordings/{id}/streams`: `{"url": "rtmp://..."}`.
/// Every error is a `FieldError` naming the field (unknown fields, wrong
/// types, a missing URL).
struct StreamRequest: Decodable, Sendable {
    var url: String

    init(from decoder: any Decoder) throws {
        var reader = try FieldReader(decoder)
        guard let url = try reader.string("url", maxLength: 2048) else {
            throw FieldError(field: "url", reason: "required")
        }
        self.url = url
        try reader.finish()
    }
}
