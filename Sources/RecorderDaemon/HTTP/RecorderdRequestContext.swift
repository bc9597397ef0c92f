import Foundation
import Hummingbird

/// The context of every request: bodies decoded by `FieldDecoder` up to
/// `maxUploadSize` (the daemon's `maxBodyBytes`, set by
/// `BodyLimitMiddleware`), answers encoded as recorderd writes JSON.
struct RecorderdRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var maxUploadSize = 65_536

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    var requestDecoder: FieldDecoder { FieldDecoder() }
    var responseEncoder: JSONAnswerEncoder { JSONAnswerEncoder() }
}

/// Decodes a JSON body into a `Decodable` request type whose fields are
/// read with `FieldReader`: what cannot be used is a `FieldError` naming
/// the field; a body that is not JSON is one for `body`; a body over the
/// context's `maxUploadSize` is a 413 for `body`.
struct FieldDecoder: RequestDecoder {
    func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let limit = context.maxUploadSize
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(status: .contentTooLarge, message: "body: larger than \(limit) bytes", field: "body", reason: "invalid")
        }
        if buffer.readableBytes == 0, let optional = T.self as? any OptionalBodyRequest.Type {
            return optional.init() as! T
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as FieldError {
            throw error
        } catch {
            throw FieldError(field: "body", reason: "not valid JSON")
        }
    }
}

/// A request type whose body may be left out (the spec's `requestBody`
/// not `required`): no body at all is its defaults; `{}` is the same.
protocol OptionalBodyRequest: Decodable {
    init()
}

/// Encodes an answer as `JSONAnswer` does (sorted keys, `application/json`).
struct JSONAnswerEncoder: ResponseEncoder {
    func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        JSONAnswer.response(.ok, value)
    }
}
